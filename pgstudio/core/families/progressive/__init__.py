"""The progressive family (Karras et al. 2018): grows from 4x4, fading each new block in with α;
pixel norm, equalised learning rate, minibatch stddev; trained in z space."""
from __future__ import annotations

from ..base import Architecture, Family


class ProgressiveFamily(Family):
    name = "progressive"
    title = "Progressive GAN"
    compiles = True
    description = "grows 4x4 → target"
    grows = True
    latent_space = "z"
    own_settings = ("d_downsample", "resample")
    # a record without the key was written by a generator that upsampled by repeating pixels
    architecture_defaults = {"resample": "nearest"}

    def build_generator(self, architecture: Architecture):
        from .generator import ProgressiveGenerator
        return ProgressiveGenerator(resolution=architecture.resolution, image_channels=architecture.image_channels,
                                    latent_size=architecture.latent_size, fmap_base=architecture.fmap_base,
                                    fmap_max=architecture.fmap_max, class_names=architecture.class_names,
                                    resample=architecture.resample or "nearest")

    def build_discriminator(self, cfg, image_channels: int):
        from .discriminator import ProgressiveDiscriminator
        return ProgressiveDiscriminator(resolution=cfg.resolution, image_channels=image_channels,
                                        fmap_base=cfg.fmap_base, fmap_max=cfg.fmap_max,
                                        mbstd_group_size=cfg.mbstd_group_size, downsample=cfg.d_downsample,
                                        classes=len(getattr(cfg, "class_names", None) or ()))

    def recipe(self, cfg, **parts):
        from .recipe import ProgressiveRecipe
        return ProgressiveRecipe(cfg, **parts)


PROGRESSIVE = ProgressiveFamily()
