"""The journeys use the session runs of tests/conftest.py (progressive_run, stylegan_run)."""
