"""The class labels of a conditional run's step: which class each real is drawn from and which
labels the fakes get, drawn from the trainer's generator for the global batch (a rank keeps its
slice), so a resume stays on the same trajectory and data-parallel ranks agree.

By default classes come as often as the data holds them: a real is a uniformly drawn image, a
fake's label that of another uniformly drawn image (StyleGAN2-ADA's way). ``balance`` draws the
class first, uniformly, then an image of it, for the reals and the fakes' labels alike.
"""
from __future__ import annotations

import numpy as np
import torch


class ClassDraws:
    def __init__(self, labels: np.ndarray, classes: int, balance: bool, device: torch.device):
        self.classes, self.balance = classes, balance
        self.labels = torch.from_numpy(np.ascontiguousarray(labels)).to(device)
        counts = torch.bincount(self.labels, minlength=classes)
        self.counts = counts
        self.starts = torch.cumsum(counts, 0) - counts
        self.members = torch.argsort(self.labels, stable=True)     # image indices grouped by class

    @classmethod
    def for_run(cls, cfg, dataset, device: torch.device) -> "ClassDraws | None":
        """A run's label draws; None for an unconditional run."""
        if not cfg.class_names:
            return None
        return cls(dataset.labels, len(cfg.class_names), cfg.balance_classes, device)

    def real_indices(self, batch: int, device: torch.device, rng: torch.Generator) -> torch.Tensor:
        """Indices of the global batch's reals."""
        if not self.balance:
            return torch.randint(self.labels.shape[0], (batch,), device=device, generator=rng)
        c = torch.randint(self.classes, (batch,), device=device, generator=rng)
        offset = (torch.rand(batch, device=device, generator=rng) * self.counts[c]).long()
        return self.members[self.starts[c] + torch.minimum(offset, self.counts[c] - 1)]

    def fake_labels(self, batch: int, device: torch.device, rng: torch.Generator) -> torch.Tensor:
        """Labels of the global batch's fakes."""
        if self.balance:
            return torch.randint(self.classes, (batch,), device=device, generator=rng)
        return self.labels[torch.randint(self.labels.shape[0], (batch,), device=device, generator=rng)]
