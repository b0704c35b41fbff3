"""Documented path of style_space (the module lives in core/families/stylegan2/style_space.py)."""
from .families.stylegan2.style_space import *  # noqa: F401,F403
