"""Data files shipped with the package (the built-in demo set)."""
