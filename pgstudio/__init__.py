"""pgstudio: a studio for training and exploring Progressive Growing GANs."""
__version__ = "0.1.0"
