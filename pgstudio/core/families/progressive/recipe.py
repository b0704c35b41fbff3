"""The progressive family's training maths: the shared GAN phases, with reals faded like G's output."""
from __future__ import annotations

import torch

from ...networks.layers import downsample2x, fade_blend, upsample2x
from ...training.recipe import Recipe
from ...training.schedule import SchedulePoint


class ProgressiveRecipe(Recipe):
    def prepare_reals(self, reals: torch.Tensor, pt: SchedulePoint) -> torch.Tensor:
        if pt.phase == "fade" and pt.alpha < 1.0:
            # D must see the same blend G makes: lerp(up(down(x)), x, α)
            return fade_blend(upsample2x(downsample2x(reals)), reals, pt.alpha)
        return reals
