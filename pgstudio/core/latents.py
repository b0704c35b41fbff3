"""Documented path of latents (the module lives in core/analysis/latents.py)."""
from .analysis.latents import *  # noqa: F401,F403
