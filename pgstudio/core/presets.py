"""Named starting points for a run's settings; each family swaps in what it trains with (its
loss, its averaging), so the presets sit above the family registry and the config below it."""
from __future__ import annotations

from .config import ADA_TARGETS, DEFAULT_ARCH, TrainConfig
from .families import family


PRESETS: dict[str, dict] = {
    # Small enough that 4→32 trains in about seven minutes on a 2-core laptop CPU;
    # logistic loss with lazy R1 because the gradient penalty's double backward every step
    # costs ~40% of a CPU step (measured: 150 vs 93 img/s at 32x32).
    "laptop": dict(latent_size=64, fmap_base=256, fmap_max=64, resolution=32, loss="logistic",
                   r1_gamma=1.0, stabilize_kimg=30.0, fade_kimg=20.0,
                   batch={4: 64, 8: 64, 16: 64, 32: 64}, batch_default=32, lr={},
                   lr_default=0.002, ema_halflife_kimg=2.0, tick_kimg=1.0, sample_kimg=5.0,
                   checkpoint_kimg=20.0, augment="auto", ada_signal="rv", ada_target=ADA_TARGETS["rv"],
                   classes="auto", preset="laptop"),
    # The paper's widths and the official single-GPU tables (design.md §1).
    "paper": dict(latent_size=512, fmap_base=8192, fmap_max=512, resolution=256,
                  loss="wgan-gp", r1_gamma=10.0, stabilize_kimg=600.0, fade_kimg=600.0,
                  batch={4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4, 1024: 4},
                  batch_default=4, lr={1024: 0.0015}, lr_default=0.001, ema_halflife_kimg=10.0,
                  tick_kimg=10.0, sample_kimg=100.0, checkpoint_kimg=500.0, augment="auto", ada_signal="rv",
                  ada_target=ADA_TARGETS["rv"], classes="auto", preset="paper"),
}


def preset_names(arch: str = DEFAULT_ARCH) -> list[str]:
    """The presets a family offers: the shared ones, then its papers' (the classic family's survey)."""
    return list(PRESETS) + list(family(arch).papers)


def preset_values(name: str, arch: str = DEFAULT_ARCH) -> dict:
    """A preset's settings for a family (each family swaps in what it trains with, e.g. its loss);
    a paper's preset starts from the laptop preset's schedule and reporting."""
    fam = family(arch)
    if name not in PRESETS and name not in fam.papers:
        raise ValueError(f"unknown preset {name!r} for {fam.title}; choose one of {', '.join(preset_names(arch))}")
    values = dict(PRESETS.get(name, PRESETS["laptop"]))
    values.update(fam.preset_values(name))
    values["arch"] = arch
    return values


def preset_config(name: str, **overrides) -> TrainConfig:
    values = preset_values(name, overrides.get("arch", DEFAULT_ARCH))
    values.update(overrides)
    if "attention_res" not in overrides:
        values["attention_res"] = fitted_attention(values.get("attention_res", 0), values.get("resolution", 32))
    return TrainConfig(**values)


def fitted_attention(attention_res: int, resolution: int) -> int:
    """A preset's self-attention (SAGAN's, BigGAN's at 16²) at a resolution the run does not reach
    below its output moves to half the run's resolution (none below 16²)."""
    if attention_res and attention_res >= resolution:
        return resolution // 2 if resolution >= 16 else 0
    return attention_res
