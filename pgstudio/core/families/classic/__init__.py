"""The classic family: the survey's models before progressive growing — GAN (2014), DCGAN,
WGAN, WGAN-GP, LSGAN, cGAN, SNGAN, SAGAN, and R3GAN as the modern epilogue — at a fixed
resolution, built from the blocks they differ by (blocks.py) and trained with their papers'
settings (presets.py); trained in z space."""
from __future__ import annotations

from ..base import Architecture, Family
from .blocks import ARCHS, CONDITIONINGS, D_ARCHS, D_NORMS
from .presets import PAPERS, paper_values


class ClassicFamily(Family):
    name = "classic"
    title = "Classic GANs"
    description = "the survey, GAN to SAGAN"
    grows = False
    latent_space = "z"
    own_settings = ("g_arch", "d_arch", "d_norm", "g_spectral", "attention_res", "conditioning", "info_categorical",
                    "info_continuous", "info_lambda", "info_lambda_continuous", "ebgan_margin", "ebgan_pt_weight",
                    "began_gamma", "began_lambda_k")
    shown_settings = ("optimizer", "beta1", "beta2", "n_critic", "d_lr_mult", "r1_gamma", "gp_lambda", "wgan_clip")
    architecture_defaults = {"g_arch": "dcgan", "g_spectral": False, "attention_res": 0, "info_categorical": (),
                             "info_continuous": 0}
    # the shared presets train DCGAN; the survey's papers are this family's own presets
    preset_overrides = {"*": paper_values("dcgan")}
    papers = PAPERS
    losses = ("wgan-gp", "logistic", "hinge", "minimax", "lsgan", "wgan", "rpgan", "ebgan", "began")

    def preset_values(self, preset: str) -> dict:
        return paper_values(preset) if preset in PAPERS else super().preset_values(preset)

    def build_generator(self, architecture: Architecture):
        from .generator import ClassicGenerator
        return ClassicGenerator(resolution=architecture.resolution, image_channels=architecture.image_channels,
                                latent_size=architecture.latent_size, fmap_base=architecture.fmap_base,
                                fmap_max=architecture.fmap_max, g_arch=architecture.g_arch or "dcgan",
                                g_spectral=bool(architecture.g_spectral), attention_res=int(architecture.attention_res or 0),
                                class_names=architecture.class_names,
                                info_categorical=tuple(architecture.info_categorical or ()),
                                info_continuous=int(architecture.info_continuous or 0))

    def build_discriminator(self, cfg, image_channels: int):
        from .discriminator import ClassicDiscriminator
        return ClassicDiscriminator(resolution=cfg.resolution, image_channels=image_channels, fmap_base=cfg.fmap_base,
                                    fmap_max=cfg.fmap_max, d_arch=cfg.d_arch, norm=cfg.d_norm,
                                    attention_res=cfg.attention_res,
                                    classes=len(getattr(cfg, "class_names", None) or ()),
                                    conditioning=cfg.conditioning, info_outputs=sum(cfg.info_categorical) + cfg.info_continuous,
                                    energy={"ebgan": "mse", "began": "l1"}.get(cfg.loss))

    def discriminator_top_blocks(self, D, count: int) -> list:
        """FreezeD keeps D's first ``count`` layers or blocks with weights (those nearest the image)."""
        return [m for m in D.body if any(True for _ in m.parameters())][:count]

    def discriminator_feature_blocks(self, D) -> list:
        return [m for m in D.body if any(True for _ in m.parameters())]

    def config_problems(self, cfg) -> list:
        from ...config import ConfigProblem
        problems = []
        for name, allowed in (("g_arch", ARCHS), ("d_arch", D_ARCHS), ("d_norm", D_NORMS),
                              ("conditioning", CONDITIONINGS)):
            if getattr(cfg, name) not in allowed:
                problems.append(ConfigProblem(name, f"{name} must be one of {', '.join(allowed)} "
                                                    f"(got {getattr(cfg, name)!r})"))
        if cfg.resolution < 8 or cfg.resolution > 256:
            problems.append(ConfigProblem("resolution", "the classic family trains at 8x8 to 256x256"))
        from ...networks.residual import attention_problem
        a = cfg.attention_res
        if attention_problem(a, cfg.resolution):
            problems.append(ConfigProblem("attention_res", attention_problem(a, cfg.resolution)))
        if a and "mlp" in (cfg.g_arch, cfg.d_arch):
            problems.append(ConfigProblem("attention_res", "the fully connected networks have no feature maps to "
                                                           "attend over: set self-attention to 0"))
        penalised = cfg.loss == "wgan-gp" or (cfg.r1_gamma > 0 and cfg.loss != "wgan")
        if penalised and cfg.d_norm == "batch":
            problems.append(ConfigProblem("d_norm", "a gradient penalty is per sample, which batch norm in D mixes "
                                                    "across the batch: use layer or spectral norm, or none"))
        energy_loss = cfg.loss in ("ebgan", "began")
        if energy_loss != (cfg.d_arch == "autoencoder"):
            problems.append(ConfigProblem("d_arch", "EBGAN's and BEGAN's losses read an autoencoder D's energies: "
                                                    "the ebgan and began losses go with the autoencoder D, and only they"))
        if cfg.d_arch == "autoencoder" and cfg.classes != "off" and cfg.conditioning == "projection":
            problems.append(ConfigProblem("conditioning", "an autoencoder D takes labels by concatenation: choose "
                                                          "concat, or train without classes"))
        if any(int(k) < 2 for k in cfg.info_categorical) or cfg.info_continuous < 0:
            problems.append(ConfigProblem("info_categorical", "InfoGAN's categorical codes need two or more "
                                                              "categories each, and continuous codes a count ≥ 0"))
        if cfg.info_lambda < 0 or cfg.info_lambda_continuous < 0:
            problems.append(ConfigProblem("info_lambda", "InfoGAN's λ must not be negative"))
        if not cfg.ebgan_margin > 0 or cfg.ebgan_pt_weight < 0:
            problems.append(ConfigProblem("ebgan_margin", "EBGAN's margin must be positive and its pulling-away "
                                                          "weight not negative"))
        if not 0 < cfg.began_gamma <= 1 or cfg.began_lambda_k < 0:
            problems.append(ConfigProblem("began_gamma", "BEGAN's γ lies in (0, 1] and λ_k is not negative"))
        return problems

    def recipe(self, cfg, **parts):
        from .recipe import ClassicRecipe
        return ClassicRecipe(cfg, **parts)

    def status_line(self, stats: dict) -> str:
        """No growing: D's mean scores instead, or a Wasserstein critic's estimate of the distance."""
        w, real, fake = stats.get("w_distance"), stats.get("d_real"), stats.get("d_fake")
        if stats.get("k_t") is not None and stats.get("m_global") is not None:
            return f"{self.title} · k_t {stats['k_t']:.4f} · M_global {stats['m_global']:.4f}"
        if stats.get("mi_bound") is not None:
            return f"{self.title} · MI bound {stats['mi_bound']:.3f} nats"
        if w is not None:
            return f"{self.title} · W estimate {w:.3f}"
        if real is not None and fake is not None:
            return f"{self.title} · D real {real:.2f} · fake {fake:.2f}"
        return self.title


CLASSIC = ClassicFamily()
