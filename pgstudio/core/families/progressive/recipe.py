"""The progressive family's training maths: the shared GAN phases, with reals faded like G's output."""
from __future__ import annotations

import torch

from ...networks.layers import downsample2x, fade_blend
from ...training.recipe import Recipe
from .generator import upsample
from ...training.schedule_point import SchedulePoint


class ProgressiveRecipe(Recipe):
    def prepare_reals(self, reals: torch.Tensor, pt: SchedulePoint) -> torch.Tensor:
        if pt.phase == "fade" and pt.alpha < 1.0:
            # D must see the same blend G makes: lerp(up(down(x)), x, α), up as G upsamples
            # (configs before the key "resample" read "nearest"); down as the data pyramid
            return fade_blend(upsample(downsample2x(reals), self.cfg.resample), reals, pt.alpha)
        return reals
