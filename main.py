"""`python main.py` does what the `pgstudio` command does."""
import sys

from pgstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
