"""Documented path of export (the module lives in core/analysis/export.py)."""
from .analysis.export import *  # noqa: F401,F403
