"""The StyleGAN2 family (Karras et al. 2020): mapping network, modulated convolutions, noise and a
residual discriminator at a fixed resolution; style mixing, lazy R1 and path length; w space."""
from __future__ import annotations

import torch

from ..base import Architecture, Family


class StyleGAN2Family(Family):
    name = "stylegan2"
    title = "StyleGAN2"
    description = "fixed resolution"
    grows = False
    latent_space = "w"
    own_settings = ("mapping_layers", "demodulate", "style_mixing", "pl_weight", "pl_interval", "pl_decay",
                    "pl_batch_shrink", "d_block")
    architecture_defaults = {"mapping_layers": 8, "demodulate": True}
    # What changes when a preset trains StyleGAN2: its loss, R1 weight and averaging. Laptop γ = 1:
    # on the demo set at 180 kimg it gave MS-SWD 37.0 against 40.4 with stylegan2-ada's CIFAR-10
    # value 0.01 (one run each; cleaner, smoother samples). Paper γ = 10, the FFHQ setting.
    preset_overrides = {
        "laptop": dict(loss="logistic", r1_gamma=1.0, lr_default=0.002),
        "paper": dict(loss="logistic", r1_gamma=10.0, lr_default=0.002, lr={}, ema_halflife_kimg=10.0,
                      batch={r: 32 for r in (4, 8, 16, 32, 64, 128, 256, 512, 1024)}, batch_default=32),
    }
    preset_overrides["*"] = preset_overrides["laptop"]

    def build_generator(self, architecture: Architecture):
        from .generator import StyleGAN2Generator
        return StyleGAN2Generator(resolution=architecture.resolution, image_channels=architecture.image_channels,
                                  latent_size=architecture.latent_size, fmap_base=architecture.fmap_base,
                                  fmap_max=architecture.fmap_max, mapping_layers=int(architecture.mapping_layers),
                                  demodulate=bool(architecture.demodulate), class_names=architecture.class_names)

    def build_discriminator(self, cfg, image_channels: int):
        from .discriminator import StyleGAN2Discriminator
        return StyleGAN2Discriminator(resolution=cfg.resolution, image_channels=image_channels,
                                      fmap_base=cfg.fmap_base, fmap_max=cfg.fmap_max,
                                      mbstd_group_size=cfg.mbstd_group_size,
                                      classes=len(getattr(cfg, "class_names", None) or ()),
                                      block=cfg.d_block)

    def config_problems(self, cfg) -> list:
        from ...config import ConfigProblem
        problems = []
        if cfg.loss == "wgan-gp":
            problems.append(ConfigProblem("loss", "StyleGAN2 trains with the logistic (or hinge) loss and R1, not WGAN-GP"))
        if not 0 <= cfg.style_mixing <= 1:
            problems.append(ConfigProblem("style_mixing", "style mixing probability must lie in [0, 1]"))
        if cfg.pl_weight < 0 or cfg.pl_interval < 1 or cfg.pl_batch_shrink < 1 or cfg.mapping_layers < 1:
            field = next(n for n, bad in (("pl_weight", cfg.pl_weight < 0), ("pl_interval", cfg.pl_interval < 1),
                                          ("pl_batch_shrink", cfg.pl_batch_shrink < 1),
                                          ("mapping_layers", cfg.mapping_layers < 1)) if bad)
            problems.append(ConfigProblem(field, "path-length weight ≥ 0, its interval, batch shrink and "
                                                 "mapping layers ≥ 1"))
        from .discriminator import D_BLOCKS
        if cfg.d_block not in D_BLOCKS:
            problems.append(ConfigProblem("d_block", f"d_block must be one of {', '.join(D_BLOCKS)} (got {cfg.d_block!r})"))
        if cfg.precision == "bf16":
            problems.append(ConfigProblem("precision", "StyleGAN2 picks bf16 per block itself (top blocks on CUDA): "
                                                       "use precision auto, or fp32 to turn it off"))
        return problems

    def resolve_precision(self, name: str, device: torch.device) -> str:
        """Its networks choose bf16 per block, and only on CUDA (its official mixed precision):
        there ``auto`` means those blocks, and a CPU trains it in fp32."""
        from ...training.precision import resolve_autocast_precision
        resolve_autocast_precision(name, device)          # the same check of the name
        return "bf16" if name == "auto" and device.type == "cuda" else "fp32"

    def describe_precision(self, resolved: str, device: torch.device) -> str:
        return "fp32" if resolved == "fp32" else "bf16 in the top four blocks"

    def uses_autocast(self) -> bool:
        return False

    def prepare_networks(self, G, D, precision: str) -> None:
        if precision == "fp32":      # its own per-block bf16 off too
            G.bf16_blocks = D.bf16_blocks = 0

    def recipe(self, cfg, **parts):
        from .recipe import StyleGAN2Recipe
        return StyleGAN2Recipe(cfg, **parts)

    def render_latents(self, G, z, level, alpha, psi=None, noise_mode="const", labels=None):
        """z mapped to w and pulled toward the mean w by ψ (a class's mean w when conditional)."""
        from ...analysis.style_space import map_to_w, render_w
        return render_w(G, map_to_w(G, z, 1.0 if psi is None else psi, labels=labels), noise_mode)

    def status_line(self, stats: dict) -> str:
        """No growing: no α, no phases to show; the path length instead."""
        pl_mean = stats.get("pl_mean")
        return f"StyleGAN2 · path length {pl_mean:.3f}" if pl_mean is not None else "StyleGAN2"


STYLEGAN2 = StyleGAN2Family()
