"""Statistics of a tick, reported by name where they arise and read once per tick.

Everything stays on the device between ticks (a ``float()`` per step would synchronise a GPU
every step); ``means`` reads them, averaged over the ranks of a data-parallel run.
"""
from __future__ import annotations

import torch


class TickStats:
    def __init__(self, device: torch.device):
        self.device = device
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}

    def report(self, name: str, value: torch.Tensor) -> None:
        value = value.detach()
        if name in self._sums:
            self._sums[name] = self._sums[name] + value
        else:
            self._sums[name] = torch.zeros((), device=self.device) + value
        self._counts[name] = self._counts.get(name, 0) + 1

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)

    def means(self, dist=None) -> dict[str, float]:
        """Per name, the mean of what was reported this tick (over every rank when distributed)."""
        names = sorted(self._sums)
        if not names:
            return {}
        sums = torch.stack([self._sums[n] for n in names])
        if dist is not None and dist.active:
            sums = dist.mean(sums)
        return {n: float(s) / self._counts[n] for n, s in zip(names, sums.unbind(0))}

    def reset(self) -> None:
        self._sums.clear()
        self._counts.clear()
