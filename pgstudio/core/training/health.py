"""Is training healthy? NaN/inf in the weights and optimizer moments, watched every step.

A loss that goes NaN is caught by the loss check; an Adam second moment that overflows to inf
is not, because the losses stay finite while that weight's step becomes m / inf = 0 and it
freezes. So after every update the trainer asks a watch, on the device and without a host sync,
whether each optimizer's second moments are still finite: a non-finite or overflowing gradient
shows there first (exp_avg_sq is the running mean of its square), and while they are finite
Adam's step |m| / sqrt(v) is bounded, so the weights and first moments cannot go bad either.
Watching only them costs a third of watching everything (measured: 7 % of a 8x8 CPU step for
all three, bench/state_watch_ab.py). Each tick, and before every checkpoint, everything is
checked in full.
"""
from __future__ import annotations

import torch

from ..config import ADVISED_LR_SCALE, MOVE_EPS, STALL_FRACTION
from ..storage.checkpoint import describe_tensors

INF = float("inf")


class NonFiniteTraining(Exception):
    """A loss, a weight or an optimizer moment went NaN/inf: training stops, nothing of it is saved."""


# the state a step checks, by optimizer: the running mean of the squared gradient (Adam's; RMSprop's
# for WGAN), where an overflow shows first; SGD (GAN 2014) keeps only its momentum, so that — else an
# overflow there reached the weights a step later, named only by the weights it spread to
WATCHED_MOMENTS = ("exp_avg_sq", "square_avg", "momentum_buffer")


class FiniteWatch:
    """One fused max-abs norm over the watched tensors a step (inf or NaN exactly when an element
    is, and never an overflow otherwise), split into one flag per group."""

    def __init__(self, groups: list[tuple[torch.nn.Module, torch.optim.Optimizer]], moments_only: bool = True):
        self.groups = groups
        self.moments_only = moments_only
        self._key = None
        self._tensors: list[torch.Tensor] = []
        self._spans: list[tuple[int, int]] = []

    def _watched(self) -> list[torch.Tensor]:
        # Adam creates its moments at the first step and updates them in place: the list only
        # changes when the set of parameters with state does (the first steps, a growth)
        key = tuple(len(opt.state) for _, opt in self.groups)
        if key != self._key:
            self._tensors, self._spans = [], []
            for net, opt in self.groups:
                start = len(self._tensors)
                if not self.moments_only:
                    self._tensors += [p.detach() for p in net.parameters()]
                for state in opt.state.values():
                    self._tensors += [v for k, v in state.items() if isinstance(v, torch.Tensor) and (
                        k in WATCHED_MOMENTS if self.moments_only else k != "step")]
                self._spans.append((start, len(self._tensors)))
            self._key = key
        return self._tensors

    def finite(self) -> list[torch.Tensor]:
        """One boolean device scalar per group: everything it watches is finite."""
        tensors = self._watched()
        if not tensors:
            return [torch.ones((), dtype=torch.bool) for _ in self.groups]
        finite = torch.isfinite(torch.stack(torch._foreach_norm(tensors, INF)))
        return [finite[a:b].all() if b > a else torch.ones((), dtype=torch.bool, device=finite.device)
                for a, b in self._spans]


def non_finite_state(net: torch.nn.Module, optimizer: torch.optim.Optimizer) -> list[str]:
    """Names of the non-finite weights and optimizer moments (e.g. 'exp_avg_sq of blocks.2.conv.weight')."""
    names = {id(p): n for n, p in net.named_parameters()}
    bad = [n for n, p in net.named_parameters() if not bool(torch.isfinite(p).all())]
    for p, state in optimizer.state.items():
        for key, value in state.items():
            if key != "step" and isinstance(value, torch.Tensor) and not bool(torch.isfinite(value).all()):
                bad.append(f"{key} of {names.get(id(p), '?')}")
    return bad


# what the first non-finite step is kept for, in the order the error message lists them
LOSS_D, LOSS_G = "discriminator loss", "generator loss"
STATE_D, STATE_G = "discriminator weights or optimizer state", "generator weights or optimizer state"


class NonFiniteMonitor:
    """The first step at which D's or G's loss, weights or optimizer state stopped being finite,
    kept on the device (no host sync a step) and read once per tick."""

    def __init__(self, device: torch.device):
        self.device = device
        self.bind([])
        self.reset()

    def bind(self, groups: list[tuple[str, torch.nn.Module, torch.optim.Optimizer]]) -> None:
        """The (name, network, optimizer) pairs to watch; again whenever the optimizers are new."""
        self.groups = groups
        pairs = [(net, opt) for _, net, opt in groups]
        self._per_step = FiniteWatch(pairs)                      # every step: the second moments
        self._per_tick = FiniteWatch(pairs, moments_only=False)  # every tick: everything

    def reset(self) -> None:
        self.first_bad = {what: torch.full((), -1, dtype=torch.long, device=self.device)
                          for what in (LOSS_D, LOSS_G, STATE_D, STATE_G)}

    def step_tensor(self, step: int) -> torch.Tensor:
        return torch.full((), step, dtype=torch.long, device=self.device)    # a fill, no copy

    def watch(self, what: str, value: torch.Tensor, step: torch.Tensor) -> None:
        first = self.first_bad[what]
        self.first_bad[what] = torch.where((first < 0) & ~torch.isfinite(value), step, first)

    def watch_state(self, step: torch.Tensor, everything: bool = False) -> None:
        """Adam's second moments after the update (everything at a tick): one gone inf keeps the
        losses finite while it freezes the step, so it is watched like a loss."""
        flags = (self._per_tick if everything else self._per_step).finite()
        for (name, _, _), finite in zip(self.groups, flags):
            what = STATE_D if name == "discriminator" else STATE_G
            first = self.first_bad[what]
            self.first_bad[what] = torch.where((first < 0) & ~finite, step, first)

    def problem(self, step: int, where: str, dist) -> str | None:
        """What went non-finite this tick, in words (None when nothing did); every rank agrees."""
        with torch.no_grad():
            self.watch_state(self.step_tensor(step - 1), everything=True)
        steps = {what: int(first) for what, first in self.first_bad.items()}
        if not dist.any(any(v >= 0 for v in steps.values()), self.device):
            return None
        bad = sorted((s, what) for what, s in steps.items() if s >= 0)      # the first comes first
        if not bad:
            return f"non-finite values on another process before step {step}{where}"
        details = []
        for name, net, opt in self.groups:          # bound discriminator first: its name leads
            if any(name in what and "state" in what for _, what in bad):
                details.append(f"{name}: {describe_tensors(non_finite_state(net, opt))}")
        return ("non-finite " + " and ".join(f"{what} at step {s}" for s, what in bad) + where
                + (f" [{'; '.join(details)}]" if details else ""))


class StallWatch:
    """Per network, the share of the weights that received gradients which changed over a tick.

    Only parameters with a gradient count: blocks not grown yet, the fromRGB layer left behind
    after a fade, and anything frozen on purpose have none. Fewer than STALL_FRACTION moving is a
    stall (Adam's step vanished, e.g. under an overflowing exp_avg_sq).
    """

    def __init__(self, networks: dict[str, torch.nn.Module], device: torch.device):
        self.networks, self.device = networks, device
        self.stalled: set[str] = set()
        self.start()

    def start(self) -> None:
        self._before = {name: [p.detach().clone() for p in net.parameters()] for name, net in self.networks.items()}

    def changed(self) -> dict[str, float]:
        out = {}
        with torch.no_grad():
            for name, net in self.networks.items():
                moved = torch.zeros((), dtype=torch.long, device=self.device)
                total = 0
                for p, before in zip(net.parameters(), self._before[name]):
                    if p.grad is None:
                        continue
                    moved += ((p - before).abs() > MOVE_EPS).sum()
                    total += p.numel()
                if total:
                    out[name] = int(moved) / total
        return out

    def transitions(self, changed: dict[str, float], stalled: list[str], kimg: float) -> list[str]:
        """Log lines for networks that stalled or recovered in this tick."""
        now, lines = set(stalled), []
        for name in sorted(now - self.stalled):
            lines.append(f"warning: the {name} has stalled: only {changed[name]:.2%} of its trained weights changed "
                         f"over the tick to kimg {kimg:.3f} (a stall is under {STALL_FRACTION:.0%}); its optimizer "
                         "has stopped moving it, usually because the learning rate is too high. Stop and resume "
                         f"from an earlier checkpoint with a lower one (--lr-scale {ADVISED_LR_SCALE:g})")
        for name in sorted(self.stalled - now):
            lines.append(f"the {name} is training again ({changed[name]:.1%} of its weights "
                         f"changed over the tick to kimg {kimg:.3f})")
        self.stalled = now
        return lines
