"""The classic family's training maths: the shared phases (losses, penalties, n_critic, WGAN's
clipping live in training/recipe.py), plus what batch normalisation and spectral normalisation
need of the averaged generator."""
from __future__ import annotations

import torch

from ...training.recipe import Recipe


class ClassicRecipe(Recipe):
    def after_ema(self, G_ema: torch.nn.Module) -> None:
        """The EMA averages parameters only; G's buffers — batch norm's running statistics and
        spectral norm's power-iteration vectors — are copied, so that the averaged generator
        samples (in eval mode) with statistics of the generator it follows."""
        for mine, theirs in zip(G_ema.buffers(), self.G.buffers()):
            mine.copy_(theirs)
