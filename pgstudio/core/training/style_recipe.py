"""What the style-based families' training shares (StyleGAN and StyleGAN2): style mixing, per-pixel
noise seeded per step, and the mean w kept in step across ranks and in the EMA copy. A family's
recipe subclasses it (families do not import each other, so it lives here)."""
from __future__ import annotations

import torch

from .recipe import Recipe, StepDraws
from .schedule_point import SchedulePoint


class StyleRecipe(Recipe):
    def __init__(self, cfg, **parts):
        super().__init__(cfg, **parts)
        # per-pixel noise: re-seeded from (seed, step, rank) every step, so it is independent across
        # data-parallel ranks and the same after a resume, with no state to keep
        self.noise_rng = torch.Generator(device=self.device)

    def mixing_layers(self, pt: SchedulePoint) -> int:
        """How many w the generator reads at this point of the schedule (the cutoff's range)."""
        return self.G.num_ws

    def _mixing_draws(self, batch: int, mine: slice, layers: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Style mixing: a second latent per sample and the w index from which it takes over
        (num_ws, i.e. no mixing, for a 1 − p share of the samples)."""
        num_ws = self.G.num_ws
        z_mix = torch.randn(batch, self.cfg.latent_size, device=self.device, generator=self.rng)
        cutoff = torch.randint(1, max(layers, 2), (batch,), device=self.device, generator=self.rng)
        mixed = torch.rand(batch, device=self.device, generator=self.rng) < self.cfg.style_mixing
        return z_mix[mine], torch.where(mixed, cutoff, torch.full_like(cutoff, num_ws))[mine]

    def draw_extra(self, pt: SchedulePoint, mine: slice, step: int) -> dict:
        layers = self.mixing_layers(pt)
        return {"mix_d": self._mixing_draws(pt.batch, mine, layers), "mix_g": self._mixing_draws(pt.batch, mine, layers)}

    def generator_inputs(self, draws: StepDraws, which: str, i: int, parts: int) -> dict:
        z_mix, cutoff = draws.extra[f"mix_{which}"]
        return dict(z_mix=z_mix.chunk(parts)[i], mix_cutoff=cutoff.chunk(parts)[i], noise_mode="random",
                    noise_generator=self.noise_rng, update_w_avg=which == "d")

    def begin_step(self, step: int) -> None:
        self.noise_rng.manual_seed(((self.cfg.seed + 1) * 1_000_003 + step) * 1024 + self.dist.rank)

    def after_d_main(self, pt) -> None:
        super().after_d_main(pt)
        if self.dist.active:        # each rank moved the mean w by its own slice's mean:
            with torch.no_grad():   # averaging gives the global batch's update on every rank
                self.G.mapping.w_avg.copy_(self.dist.mean(self.G.mapping.w_avg))
                if self.classes is not None:   # per class: the ranks' means of it, alike on every rank
                    self.G.mapping.w_avg_class.copy_(self.dist.mean(self.G.mapping.w_avg_class))

    def after_ema(self, G_ema: torch.nn.Module) -> None:
        # the mean w (and a conditional run's per-class means) are the buffers that change (the
        # noise maps are fixed)
        G_ema.mapping.w_avg.copy_(self.G.mapping.w_avg)
        if self.classes is not None:
            G_ema.mapping.w_avg_class.copy_(self.G.mapping.w_avg_class)
