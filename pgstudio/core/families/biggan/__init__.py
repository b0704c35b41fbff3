"""The BigGAN family (Brock, Donahue & Simonyan 2019): residual G and D with spectral norm in both,
class-conditional batch norm from a shared embedding, the hierarchical latent, self-attention at
one resolution, orthogonal regularisation, hinge loss with TTUR and D steps, G's average, and
truncation by resampling z; fixed resolution, z space."""
from __future__ import annotations

from ..base import Architecture, Family

# BigGAN-PyTorch's ImageNet 128² run: ch 96 (fmap_base 128·ch, fmap_max 16·ch), z of 120 in six
# chunks, a 128-dim shared embedding, attention at 64², G lr 5e-5 and D lr 2e-4 (TTUR), two D steps
# per G step, Adam β (0, 0.999), batch 256, ortho β 1e-4; G's EMA decay 0.9999 per G step is a
# half-life of ln ½ / ln 0.9999 ≈ 6,931 steps × 256 images ≈ 1,774 kimg
PAPER = dict(resolution=128, latent_size=120, fmap_base=12288, fmap_max=1536, shared_dim=128, attention_res=64,
             loss="hinge", r1_gamma=0.0, lr_default=5e-5, d_lr_mult=4.0, n_critic=2, beta1=0.0, beta2=0.999,
             optimizer="adam", batch={}, batch_default=256, lr={}, ortho_reg=1e-4, ema_halflife_kimg=1774.0,
             augment="off", classes="auto")
# Laptop: the classic family's widths (G 256 → 64 channels at 4² → 32²), z of 128, attention at 16²,
# BigGAN-PyTorch's CIFAR settings (lr 2e-4 for both, 4 D steps per G step, β (0, 0.999)), batch 64
LAPTOP = dict(PAPER, resolution=32, latent_size=128, fmap_base=2048, fmap_max=256, attention_res=16,
              lr_default=2e-4, d_lr_mult=1.0, n_critic=4, batch_default=64, ema_halflife_kimg=2.0)


class BigGANFamily(Family):
    name = "biggan"
    title = "BigGAN"
    description = "class-conditional, fixed resolution"
    grows = False
    latent_space = "z"
    own_settings = ("attention_res", "shared_dim", "ortho_reg")
    shown_settings = ("optimizer", "beta1", "beta2", "n_critic", "d_lr_mult")
    architecture_defaults = {"attention_res": 0, "shared_dim": 128}
    losses = ("hinge", "logistic", "wgan-gp", "lsgan", "rpgan")
    preset_overrides = {"laptop": LAPTOP, "paper": PAPER, "*": LAPTOP}

    def build_generator(self, architecture: Architecture):
        from .generator import BigGANGenerator
        return BigGANGenerator(resolution=architecture.resolution, image_channels=architecture.image_channels,
                               latent_size=architecture.latent_size, fmap_base=architecture.fmap_base,
                               fmap_max=architecture.fmap_max, shared_dim=int(architecture.shared_dim or 128),
                               attention_res=int(architecture.attention_res or 0), class_names=architecture.class_names)

    def build_discriminator(self, cfg, image_channels: int):
        from .discriminator import BigGANDiscriminator
        return BigGANDiscriminator(resolution=cfg.resolution, image_channels=image_channels, fmap_base=cfg.fmap_base,
                                   fmap_max=cfg.fmap_max, attention_res=cfg.attention_res,
                                   classes=len(getattr(cfg, "class_names", None) or ()))

    def discriminator_top_blocks(self, D, count: int) -> list:
        """FreezeD keeps D's first ``count`` blocks (those nearest the image)."""
        return list(D.blocks)[:count]

    def discriminator_feature_blocks(self, D) -> list:
        return list(D.blocks)

    def config_problems(self, cfg) -> list:
        from ...config import ConfigProblem
        problems = []
        if not 16 <= cfg.resolution <= 256:
            problems.append(ConfigProblem("resolution", "BigGAN trains at 16x16 to 256x256"))
        from ...networks.residual import attention_problem
        a = cfg.attention_res
        if attention_problem(a, cfg.resolution):
            problems.append(ConfigProblem("attention_res", attention_problem(a, cfg.resolution)))
        blocks = max(0, cfg.resolution.bit_length() - 3)
        if cfg.latent_size < blocks + 1:
            problems.append(ConfigProblem("latent_size", f"the hierarchical latent gives each of the {blocks} blocks "
                                                         f"and the input a chunk: at least {blocks + 1} dimensions"))
        if cfg.shared_dim < 1:
            problems.append(ConfigProblem("shared_dim", "the shared class embedding needs at least one dimension"))
        if cfg.ortho_reg < 0:
            problems.append(ConfigProblem("ortho_reg", "orthogonal regularisation's β must not be negative"))
        return problems

    def recipe(self, cfg, **parts):
        from .recipe import BigGANRecipe
        return BigGANRecipe(cfg, **parts)

    def status_line(self, stats: dict) -> str:
        ortho = stats.get("ortho_penalty")
        return f"BigGAN · orthogonal penalty {ortho:.3g}" if ortho is not None else "BigGAN"


BIGGAN = BigGANFamily()
