"""StyleGAN's training maths: the style-based families' mixing, noise and mean w
(training/style_recipe.py) on the progressive schedule — reals faded as G fades, and style mixing
over the layers the current resolution has. No path-length term (StyleGAN2's): R1 or WGAN-GP
come from the shared phases."""
from __future__ import annotations

import torch

from ...networks.layers import downsample2x, fade_blend, upsample2x
from ...training.schedule_point import SchedulePoint
from ...training.style_recipe import StyleRecipe


class StyleGANRecipe(StyleRecipe):
    def mixing_layers(self, pt: SchedulePoint) -> int:
        """The official cutoff's range: the styled layers of the resolutions grown so far."""
        return 2 * pt.level - 2

    def prepare_reals(self, reals: torch.Tensor, pt: SchedulePoint) -> torch.Tensor:
        if pt.phase == "fade" and pt.alpha < 1.0:
            # D sees the blend G makes: lerp(up(down(x)), x, α), up by repetition as G's fade
            return fade_blend(upsample2x(downsample2x(reals)), reals, pt.alpha)
        return reals

    def after_ema(self, G_ema: torch.nn.Module) -> None:
        super().after_ema(G_ema)
        G_ema.trained_level.copy_(self.G.trained_level)     # where G drew: the level the explorer shows
        G_ema.trained_alpha.copy_(self.G.trained_alpha)
