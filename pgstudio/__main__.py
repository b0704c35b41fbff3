"""`python -m pgstudio`: the same as the `pgstudio` command."""
import sys

from .cli import main

sys.exit(main())
