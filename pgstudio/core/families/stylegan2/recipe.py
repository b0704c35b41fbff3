"""StyleGAN2's training maths on top of the style-based families' (training/style_recipe.py: style
mixing, per-pixel noise, the mean w): the lazy path-length regulariser."""
from __future__ import annotations

import torch

from ...training import losses
from ...training.recipe import StepDraws
from ...training.schedule_point import SchedulePoint
from ...training.style_recipe import StyleRecipe


class StyleGAN2Recipe(StyleRecipe):
    def __init__(self, cfg, **parts):
        super().__init__(cfg, **parts)
        self.pl_mean = torch.zeros((), device=self.device)   # the running path length

    def g_adam_ratio(self) -> float:
        return self.lazy_ratio(self.cfg.pl_weight > 0, self.cfg.pl_interval)

    def regularizes_path_length(self, step: int) -> bool:
        cfg = self.cfg
        if cfg.pl_weight <= 0 or step % cfg.pl_interval:
            return False
        # runs from before lazy_regularization never ran the term with an interval of 1
        return cfg.pl_interval > 1 or cfg.lazy_regularization != "folded-corrected"

    def draw_extra(self, pt: SchedulePoint, mine: slice, step: int) -> dict:
        cfg, batch = self.cfg, pt.batch
        extra = super().draw_extra(pt, mine, step)
        if self.regularizes_path_length(step):
            pl_batch = max(batch // cfg.pl_batch_shrink, self.dist.world)
            pl_mine = self.dist.local_slice(pl_batch)
            extra["z_pl"] = torch.randn(pl_batch, cfg.latent_size, device=self.device, generator=self.rng)[pl_mine]
            extra["mix_pl"] = self._mixing_draws(pl_batch, pl_mine, self.mixing_layers(pt))
        return extra

    def draw_labels_extra(self, draws: StepDraws, pt: SchedulePoint) -> dict:
        if "z_pl" not in draws.extra:
            return {}
        pl_batch = max(pt.batch // self.cfg.pl_batch_shrink, self.dist.world)
        return {"pl": self.classes.fake_labels(pl_batch, self.device, self.rng)[self.dist.local_slice(pl_batch)]}

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

    def tick_fields(self, means: dict) -> dict:
        """The regulariser gets its own curves."""
        return {**super().tick_fields(means), "pl_penalty": means.get("pl_penalty"), "pl_mean": float(self.pl_mean)}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "pl_mean": self.pl_mean.detach().cpu()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if "pl_mean" in state:
            self.pl_mean = state["pl_mean"].to(self.device)
