"""BigGAN's training maths on the shared phases (hinge loss, n_critic D steps, TTUR through D's
lr multiplier come from the config): orthogonal regularisation of G's weights, and the averaged
generator's batch-norm statistics and spectral-norm vectors."""
from __future__ import annotations

import torch

from ...training.recipe import Recipe, StepDraws


def orthogonal_penalty(weights: list[torch.Tensor]) -> torch.Tensor:
    """½ Σ_W ‖W Wᵀ ⊙ (1 − I)‖²_F over each weight flattened to [out, in·k·k]: its gradient is
    2 (W Wᵀ ⊙ (1 − I)) W, the gradient BigGAN-PyTorch's ``utils.ortho`` adds to each weight (the
    paper writes β‖WᵀW ⊙ (1 − I)‖²_F, whose gradient is twice the code's; we follow the code)."""
    total = torch.zeros((), device=weights[0].device)
    for p in weights:
        w = p.float().reshape(p.shape[0], -1)
        gram = w @ w.t()
        off = gram - torch.diag(torch.diagonal(gram))
        total = total + 0.5 * off.square().sum()
    return total


class BigGANRecipe(Recipe):
    def __init__(self, cfg, **parts):
        super().__init__(cfg, **parts)
        self.ortho_weights = self.G.ortho_parameters()

    def g_extra_loss(self, draws: StepDraws, i: int, parts: int) -> torch.Tensor | None:
        """β × the orthogonal penalty, added to G's loss of every micro-batch (its sum over the
        ``parts`` micro-batches, each divided by parts, is one penalty's gradient)."""
        if self.cfg.ortho_reg <= 0:
            return None
        penalty = orthogonal_penalty(self.ortho_weights)
        self.stats.report("ortho_penalty", penalty.detach())
        return self.cfg.ortho_reg * penalty

    def observe_scores(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """D's mean score on reals and on fakes: with the hinge loss, how far each side sits
        from its margin (the Training page's model row)."""
        self.stats.report("d_real", real.float().mean())
        self.stats.report("d_fake", fake.float().mean())

    def after_ema(self, G_ema: torch.nn.Module) -> None:
        """The EMA averages parameters; G's buffers (batch norm's running statistics, spectral
        norm's power-iteration vectors) are copied, so the averaged G samples with its own."""
        for mine, theirs in zip(G_ema.buffers(), self.G.buffers()):
            mine.copy_(theirs)

    def tick_fields(self, means: dict) -> dict:
        return {**super().tick_fields(means), "ortho_penalty": means.get("ortho_penalty"),
                "d_real": means.get("d_real"), "d_fake": means.get("d_fake")}
