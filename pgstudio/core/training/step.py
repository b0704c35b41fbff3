"""One training step: what every family shares around its recipe's phases.

Learning rates (with the lazy-regularisation correction), the draws, D main + penalty, D's
optimizer step, G main + regulariser, G's step, gradient averaging across ranks, the EMA of G,
and the step's statistics and non-finite watch. On CUDA out-of-memory a phase is retried with the
resolution's batch cut into more micro-batches (see ``_with_memory_retry``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from . import losses
from .health import LOSS_D, LOSS_G, NonFiniteMonitor
from .recipe import Recipe
from .sampler import RealSampler
from .schedule import SchedulePoint
from .tick_stats import TickStats


@dataclass
class Networks:
    """The trained networks, the EMA generator and the two optimizers."""
    G: torch.nn.Module
    D: torch.nn.Module
    G_ema: torch.nn.Module
    opt_g: torch.optim.Optimizer | None = None
    opt_d: torch.optim.Optimizer | None = None

    def make_optimizers(self, cfg, recipe: Recipe, device: torch.device) -> None:
        extra = {"fused": True} if device.type == "cuda" else {"foreach": True}
        betas = (cfg.beta1, cfg.beta2)
        lr_g, betas_g = losses.lazy_adam_hyperparameters(cfg.lr_default, betas, recipe.g_interval())
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=betas_g, eps=1e-8, **extra)
        lr_d, betas_d = losses.lazy_adam_hyperparameters(cfg.lr_default, betas, recipe.d_interval())
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=betas_d, eps=1e-8, **extra)

    def watched(self) -> list[tuple[str, torch.nn.Module, torch.optim.Optimizer]]:
        return [("discriminator", self.D, self.opt_d), ("generator", self.G, self.opt_g)]


class TrainingStep:
    def __init__(self, cfg, nets: Networks, recipe: Recipe, sampler: RealSampler, dist, device: torch.device,
                 stats: TickStats, monitor: NonFiniteMonitor, accum: dict[int, int],
                 on_split: Callable[[SchedulePoint, int], None]):
        self.cfg, self.nets, self.recipe, self.sampler = cfg, nets, recipe, sampler
        self.dist, self.device, self.stats, self.monitor = dist, device, stats, monitor
        self.accum = accum                  # resolution → micro-batches per pass, after an OOM
        self.on_split = on_split
        self._compiled_shapes: set = set()

    def reals(self, pt: SchedulePoint) -> torch.Tensor:
        """Real images as D sees them at ``pt`` (draws from the training RNG)."""
        return self.recipe.prepare_reals(self.sampler.sample(pt), pt)

    def run(self, pt: SchedulePoint, step: int, d_steps: int) -> None:
        cfg, nets, recipe = self.cfg, self.nets, self.recipe
        lr_d, _ = losses.lazy_adam_hyperparameters(pt.lr, (cfg.beta1, cfg.beta2), recipe.d_interval())
        lr_g, _ = losses.lazy_adam_hyperparameters(pt.lr, (cfg.beta1, cfg.beta2), recipe.g_interval())
        for group in nets.opt_g.param_groups:
            group["lr"] = lr_g
        for group in nets.opt_d.param_groups:
            group["lr"] = lr_d

        draws = recipe.draw(pt, self.reals(pt), step, d_steps)
        recipe.begin_step(step)

        nets.D.requires_grad_(True)
        loss_d, penalty = self._with_memory_retry(pt, lambda parts: recipe.d_main(draws, pt, parts), nets.opt_d)
        recipe.after_d_main()
        self.dist.average_gradients(nets.D.parameters())
        nets.opt_d.step()
        nets.D.requires_grad_(False)
        loss_g = self._with_memory_retry(pt, lambda parts: recipe.g_main(draws, pt, parts), nets.opt_g)
        regularizer = recipe.g_regularize(draws, pt)       # added to the same gradients
        self.dist.average_gradients(nets.G.parameters())
        nets.opt_g.step()

        with torch.no_grad():       # EMA of G's weights, half-life measured in images
            hl = cfg.ema_halflife_kimg * 1000.0
            beta = 0.5 ** (pt.batch / hl) if hl > 0 else 0.0
            torch._foreach_lerp_(list(nets.G_ema.parameters()), list(nets.G.parameters()), 1.0 - beta)
            recipe.after_ema(nets.G_ema)
            self._report(step, loss_d.detach(), penalty.detach(), loss_g.detach(), regularizer)

    def _report(self, step: int, loss_d, penalty, loss_g, regularizer) -> None:
        """Statistics stay on the device until the tick."""
        self.stats.report("loss_d", loss_d)
        self.stats.report("loss_g", loss_g)
        self.stats.report("penalty", penalty)
        at = self.monitor.step_tensor(step)
        self.monitor.watch(LOSS_D, loss_d + penalty, at)
        if regularizer is not None:
            regularizer = regularizer.detach()
            self.stats.report("pl_penalty", regularizer)
            loss_g = loss_g + regularizer
        self.monitor.watch(LOSS_G, loss_g, at)
        self.monitor.watch_state(at)

    def run_timing_compilation(self, pt: SchedulePoint, step: int, d_steps: int) -> float | None:
        """A step; the first one of each level and phase (a compilation) is timed and its seconds
        returned, so that the tick's img/s leaves them out (None for every other step)."""
        key = (pt.level, pt.alpha < 1.0)
        if key in self._compiled_shapes:
            self.run(pt, step, d_steps)
            return None
        t0 = time.perf_counter()
        self.run(pt, step, d_steps)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self._compiled_shapes.add(key)
        return time.perf_counter() - t0

    def _with_memory_retry(self, pt: SchedulePoint, phase, optimizer):
        """Run one phase; on CUDA out-of-memory, split this resolution's batch in two and retry.

        The effective batch stays the same (gradients accumulate over the micro-batches and the
        random draws were made before), so the run continues on the same trajectory.
        """
        while True:
            parts = self.accum.get(pt.resolution, 1)
            try:
                optimizer.zero_grad(set_to_none=True)
                return phase(parts)
            except torch.cuda.OutOfMemoryError:
                optimizer.zero_grad(set_to_none=True)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                if parts * 2 > pt.batch // self.dist.world:
                    raise
                self.accum[pt.resolution] = parts * 2
                self.on_split(pt, parts * 2)
