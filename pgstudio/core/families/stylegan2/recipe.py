"""StyleGAN2's training maths on top of the shared phases: style mixing, per-pixel noise, the
mean w kept in step across ranks and in the EMA copy, and the lazy path-length regulariser."""
from __future__ import annotations

import torch

from ...training import losses
from ...training.recipe import Recipe, StepDraws
from ...training.schedule_point import SchedulePoint


class StyleGAN2Recipe(Recipe):
    def __init__(self, cfg, **parts):
        super().__init__(cfg, **parts)
        # per-pixel noise: re-seeded from (seed, step, rank) every step, so it is independent across
        # data-parallel ranks and the same after a resume, with no state to keep
        self.noise_rng = torch.Generator(device=self.device)
        self.pl_mean = torch.zeros((), device=self.device)   # the running path length

    def g_adam_ratio(self) -> float:
        return self.lazy_ratio(self.cfg.pl_weight > 0, self.cfg.pl_interval)

    def regularizes_path_length(self, step: int) -> bool:
        cfg = self.cfg
        if cfg.pl_weight <= 0 or step % cfg.pl_interval:
            return False
        # runs from before lazy_regularization never ran the term with an interval of 1
        return cfg.pl_interval > 1 or cfg.lazy_regularization != "folded-corrected"

    def _mixing_draws(self, batch: int, mine: slice) -> tuple[torch.Tensor, torch.Tensor]:
        """Style mixing: a second latent per sample and the w index from which it takes over
        (num_ws, i.e. no mixing, for a 1 − p share of the samples)."""
        num_ws = self.G.num_ws
        z_mix = torch.randn(batch, self.cfg.latent_size, device=self.device, generator=self.rng)
        cutoff = torch.randint(1, max(num_ws, 2), (batch,), device=self.device, generator=self.rng)
        mixed = torch.rand(batch, device=self.device, generator=self.rng) < self.cfg.style_mixing
        return z_mix[mine], torch.where(mixed, cutoff, torch.full_like(cutoff, num_ws))[mine]

    def draw_extra(self, pt: SchedulePoint, mine: slice, step: int) -> dict:
        cfg, batch = self.cfg, pt.batch
        extra = {"mix_d": self._mixing_draws(batch, mine), "mix_g": self._mixing_draws(batch, mine)}
        if self.regularizes_path_length(step):
            pl_batch = max(batch // cfg.pl_batch_shrink, self.dist.world)
            pl_mine = self.dist.local_slice(pl_batch)
            extra["z_pl"] = torch.randn(pl_batch, cfg.latent_size, device=self.device, generator=self.rng)[pl_mine]
            extra["mix_pl"] = self._mixing_draws(pl_batch, pl_mine)
        return extra

    def draw_labels_extra(self, draws: StepDraws, pt: SchedulePoint) -> dict:
        if "z_pl" not in draws.extra:
            return {}
        pl_batch = max(pt.batch // self.cfg.pl_batch_shrink, self.dist.world)
        return {"pl": self.classes.fake_labels(pl_batch, self.device, self.rng)[self.dist.local_slice(pl_batch)]}

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

    def g_regularizes(self, draws: StepDraws) -> bool:
        return "z_pl" in draws.extra

    def g_regularize(self, draws: StepDraws, pt: SchedulePoint) -> torch.Tensor | None:
        if "z_pl" not in draws.extra:
            return None
        cfg = self.cfg
        images, ws = self.G(draws.extra["z_pl"], pt.level, pt.alpha, return_ws=True,
                            **self.generator_inputs(draws, "pl", 0, 1), **self.labels(draws, "pl", 0, 1))
        penalty, self.pl_mean = losses.path_length_penalty(images, ws, self.pl_mean, cfg.pl_decay, self.noise_rng)
        (penalty * cfg.pl_weight * cfg.pl_interval).backward()
        self.stats.report("pl_penalty", penalty.detach())
        return penalty

    def after_ema(self, G_ema: torch.nn.Module) -> None:
        # the mean w (and a conditional run's per-class means) are the buffers that change (the
        # noise maps are fixed)
        G_ema.mapping.w_avg.copy_(self.G.mapping.w_avg)
        if self.classes is not None:
            G_ema.mapping.w_avg_class.copy_(self.G.mapping.w_avg_class)

    def tick_fields(self, means: dict) -> dict:
        """The regulariser gets its own curves."""
        return {**super().tick_fields(means), "pl_penalty": means.get("pl_penalty"), "pl_mean": float(self.pl_mean)}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "pl_mean": self.pl_mean.detach().cpu()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if "pl_mean" in state:
            self.pl_mean = state["pl_mean"].to(self.device)
