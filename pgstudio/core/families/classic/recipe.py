"""The classic family's training maths: the shared phases (losses, penalties, n_critic, WGAN's
clipping live in training/recipe.py), plus what batch normalisation and spectral normalisation
need of the averaged generator."""
from __future__ import annotations

import torch

from ...training.recipe import Recipe

WASSERSTEIN = ("wgan", "wgan-gp")


class ClassicRecipe(Recipe):
    def observe_scores(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """D's mean score on reals and on fakes: the curves the survey's papers watch (DCGAN's
        D(x) and D(G(z)); for a Wasserstein critic their difference estimates the distance)."""
        self.stats.report("d_real", real.float().mean())
        self.stats.report("d_fake", fake.float().mean())

    def tick_fields(self, means: dict) -> dict:
        fields = {**super().tick_fields(means), "d_real": means.get("d_real"), "d_fake": means.get("d_fake")}
        if self.cfg.loss in WASSERSTEIN and fields["d_real"] is not None:
            fields["w_distance"] = fields["d_real"] - fields["d_fake"]
        return fields

    def after_ema(self, G_ema: torch.nn.Module) -> None:
        """The EMA averages parameters only; G's buffers — batch norm's running statistics and
        spectral norm's power-iteration vectors — are copied, so that the averaged generator
        samples (in eval mode) with statistics of the generator it follows."""
        for mine, theirs in zip(G_ema.buffers(), self.G.buffers()):
            mine.copy_(theirs)
