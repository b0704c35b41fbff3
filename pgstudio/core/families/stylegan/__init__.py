"""The StyleGAN family (Karras, Laine & Aila 2019): the progressive schedule and fades with a
style-based generator — mapping network, learned constant, AdaIN after every conv, per-pixel
noise, blurred resampling — style mixing and truncation with the paper's cutoff; w space."""
from __future__ import annotations

import numpy as np
import torch

from ..base import Architecture, Family


class StyleGANFamily(Family):
    name = "stylegan"
    title = "StyleGAN"
    description = "style-based, grows 4x4 → target"
    grows = True
    latent_space = "w"
    own_settings = ("mapping_layers", "style_mixing")
    architecture_defaults = {"mapping_layers": 8}
    losses = ("logistic", "wgan-gp", "hinge", "minimax", "lsgan", "rpgan")
    # The paper's FFHQ setting: the non-saturating loss with R1 γ = 10 on every minibatch (lazy R1
    # came with StyleGAN2), lr 0.001 rising to 0.003 at 512², 600 kimg per phase, β = (0, 0.99),
    # G's average with a 10-kimg half-life. Laptop: γ = 1 and R1 every 16 minibatches in its own
    # step (the R1 pass every step cost ~40 % of a CPU step, as for the progressive preset).
    preset_overrides = {
        "laptop": dict(loss="logistic", r1_gamma=1.0, r1_interval=16, style_mixing=0.9, mapping_layers=8),
        "paper": dict(loss="logistic", r1_gamma=10.0, r1_interval=1, style_mixing=0.9, mapping_layers=8,
                      lr_default=0.001, lr={128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003},
                      beta1=0.0, beta2=0.99),
    }
    preset_overrides["*"] = preset_overrides["laptop"]

    def build_generator(self, architecture: Architecture):
        from .generator import StyleGANGenerator
        return StyleGANGenerator(resolution=architecture.resolution, image_channels=architecture.image_channels,
                                 latent_size=architecture.latent_size, fmap_base=architecture.fmap_base,
                                 fmap_max=architecture.fmap_max, mapping_layers=int(architecture.mapping_layers),
                                 class_names=architecture.class_names)

    def build_discriminator(self, cfg, image_channels: int):
        from .discriminator import StyleGANDiscriminator
        return StyleGANDiscriminator(resolution=cfg.resolution, image_channels=image_channels, fmap_base=cfg.fmap_base,
                                     fmap_max=cfg.fmap_max, mbstd_group_size=cfg.mbstd_group_size,
                                     classes=len(getattr(cfg, "class_names", None) or ()))

    def config_problems(self, cfg) -> list:
        from ...config import ConfigProblem
        problems = []
        if not 0 <= cfg.style_mixing <= 1:
            problems.append(ConfigProblem("style_mixing", "style mixing probability must lie in [0, 1]"))
        if cfg.mapping_layers < 1:
            problems.append(ConfigProblem("mapping_layers", "the mapping network needs at least one layer"))
        return problems

    def recipe(self, cfg, **parts):
        from .recipe import StyleGANRecipe
        return StyleGANRecipe(cfg, **parts)

    def render_latents(self, G, z, level, alpha, psi=None, noise_mode="const", labels=None):
        """z mapped to w and truncated by ψ in the first 8 layers (a class's mean w when
        conditional), drawn at the given level and α."""
        from ...analysis.style_space import map_to_w
        from ...data.images import to_uint8
        ws = map_to_w(G, z, 1.0 if psi is None else psi, labels=labels)
        ws = G.broadcast(ws) if ws.dim() == 2 else ws
        device = next(G.parameters()).device
        with torch.no_grad():
            return np.concatenate([to_uint8(G.synthesis(ws[i:i + 64].to(device), noise_mode, level=level, alpha=alpha))
                                   for i in range(0, len(ws), 64)])


STYLEGAN = StyleGANFamily()
