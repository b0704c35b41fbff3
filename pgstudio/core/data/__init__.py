"""Data sets: importing a folder or the demo set into cached multi-resolution arrays."""
