"""Layers both families build on."""
