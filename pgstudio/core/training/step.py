"""One training step: what every family shares around its recipe's phases.

Learning rates (with the lazy-regularisation correction), the draws, D main + penalty, D's
optimizer step (and R1's own step when lazy regularisation takes steps), G main, the regulariser
(its own step, or into G main's gradients), G's step(s), gradient averaging across ranks, the EMA of G,
and the step's statistics and non-finite watch. On CUDA out-of-memory a phase is retried with the
resolution's batch cut into more micro-batches (see ``_with_memory_retry``).
"""
from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass
from typing import Callable

import torch

from . import losses
from .health import LOSS_D, LOSS_G, NonFiniteMonitor
from .recipe import Recipe
from .sampler import RealSampler
from .schedule_point import SchedulePoint
from .tick_stats import TickStats


@dataclass
class Networks:
    """The trained networks, the EMA generator and the two optimizers."""
    G: torch.nn.Module
    D: torch.nn.Module
    G_ema: torch.nn.Module
    opt_g: torch.optim.Optimizer | None = None
    opt_d: torch.optim.Optimizer | None = None
    frozen_d: tuple = ()            # D's parameters kept as they are (transfer.py's freeze_d)

    @classmethod
    def build(cls, fam, cfg, architecture, device: torch.device, precision: str) -> "Networks":
        """A family's G and D for the config (initialised from the global RNG, seeded by the caller)."""
        # channels_last: 5-25% more img/s than NCHW for these convolutions on a 2-core CPU
        # (bench/train_speed.py, laptop preset, 4² to 32²); the layout CUDA's tensor cores want too
        G = fam.build_generator(architecture).to(device).to(memory_format=torch.channels_last)
        D = fam.build_discriminator(cfg, architecture.image_channels).to(device).to(memory_format=torch.channels_last)
        fam.prepare_networks(G, D, precision)
        return cls(G, D, copy.deepcopy(G).eval().requires_grad_(False))

    def make_optimizers(self, cfg, recipe: Recipe, device: torch.device) -> None:
        betas = (cfg.beta1, cfg.beta2)
        lr_g, betas_g = losses.lazy_adam_hyperparameters(cfg.lr_default, betas, recipe.g_adam_ratio())
        self.opt_g = make_optimizer(cfg, self.G.parameters(), lr_g, betas_g, device)
        lr_d, betas_d = losses.lazy_adam_hyperparameters(cfg.lr_default * cfg.d_lr_mult, betas, recipe.d_adam_ratio())
        self.opt_d = make_optimizer(cfg, self.trainable_d(), lr_d, betas_d, device)

    def freeze_discriminator(self, modules) -> None:
        """Keep these modules of D as they are: out of D's optimizer, never taking gradients."""
        self.frozen_d = tuple(p for m in modules for p in m.parameters())
        for p in self.frozen_d:
            p.requires_grad_(False)

    def trainable_d(self) -> list:
        frozen = {id(p) for p in self.frozen_d}
        return [p for p in self.D.parameters() if id(p) not in frozen]

    def discriminator_learns(self, learns: bool) -> None:
        """D's trainable weights take gradients (its loss pass) or not (G's); frozen ones never.
        Called twice a step: no per-step search for the trainable ones."""
        self.D.requires_grad_(learns)
        for p in self.frozen_d:
            p.requires_grad_(False)

    def watched(self) -> list[tuple[str, torch.nn.Module, torch.optim.Optimizer]]:
        return [("discriminator", self.D, self.opt_d), ("generator", self.G, self.opt_g)]


def make_optimizer(cfg, params, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Optimizer:
    """Adam (β from the config); RMSprop as WGAN trains (its paper: momentum-based optimizers made
    the clipped critic unstable; PyTorch's smoothing 0.99, as its reference code); or SGD with
    momentum, as GAN 2014 and cGAN did."""
    extra = {"fused": True} if device.type == "cuda" else {"foreach": True}
    kind = getattr(cfg, "optimizer", "adam")
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8, foreach=True)
    if kind == "sgd":            # GAN 2014 and cGAN: plain SGD with momentum (β1 holds it)
        return torch.optim.SGD(params, lr=lr, momentum=betas[0], foreach=True)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=1e-8, **extra)


def compiled_view(net: torch.nn.Module, compile: bool) -> torch.nn.Module:
    """With ``compile`` on, a torch.compile view of ``net`` (same parameters) for the loss passes.

    Dynamo specialises on the level, so each growth step compiles once more (the cost is
    logged); α goes in as a tensor while fading so that it does not recompile every step.
    The gradient penalty and R1 keep the eager network: compiled graphs have no double backward.
    """
    if not compile:
        return net
    import torch._dynamo
    torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
    # PGSTUDIO_COMPILE_BACKEND=eager lets the tests trace the graphs without a C++ compile
    return torch.compile(net, backend=os.environ.get("PGSTUDIO_COMPILE_BACKEND", "inductor"))


class TrainingStep:
    def __init__(self, cfg, nets: Networks, recipe: Recipe, sampler: RealSampler, dist, device: torch.device,
                 stats: TickStats, monitor: NonFiniteMonitor, accum: dict[int, int], out,
                 kimg: Callable[[], float]):
        self.cfg, self.nets, self.recipe, self.sampler = cfg, nets, recipe, sampler
        self.dist, self.device, self.stats, self.monitor = dist, device, stats, monitor
        self.accum = accum                  # resolution → micro-batches per pass, after an OOM
        self.out, self.kimg = out, kimg     # where splits and compilations are reported, and when
        self._compiled_shapes: set = set()

    def reals(self, pt: SchedulePoint) -> torch.Tensor:
        """Real images as D sees them at ``pt`` (draws from the training RNG)."""
        return self.recipe.prepare_reals(self.sampler.sample(pt), pt)

    def run(self, pt: SchedulePoint, step: int, d_steps: int) -> None:
        cfg, nets, recipe = self.cfg, self.nets, self.recipe
        lr_d, _ = losses.lazy_adam_hyperparameters(pt.lr * cfg.d_lr_mult, (cfg.beta1, cfg.beta2), recipe.d_adam_ratio())
        lr_g, _ = losses.lazy_adam_hyperparameters(pt.lr, (cfg.beta1, cfg.beta2), recipe.g_adam_ratio())
        for group in nets.opt_g.param_groups:
            group["lr"] = lr_g
        for group in nets.opt_d.param_groups:
            group["lr"] = lr_d

        draws = recipe.draw(pt, self.reals(pt), step, d_steps, self.sampler.last_labels)
        recipe.begin_step(step)

        nets.discriminator_learns(True)
        loss_d, penalty = self._with_memory_retry(pt, lambda parts: recipe.d_main(draws, pt, parts), nets.opt_d)
        recipe.after_d_main(pt)
        self._optimizer_step(nets.D, nets.opt_d)
        own_steps = recipe.regularizes_in_own_steps()
        if own_steps and draws.with_r1:         # the official Dreg phase: R1's own step
            penalty = self._with_memory_retry(pt, lambda parts: recipe.d_regularize(draws, pt, parts), nets.opt_d)
            self._optimizer_step(nets.D, nets.opt_d)
        recipe.after_d_step(nets.D)
        nets.discriminator_learns(False)
        if not recipe.trains_g(step):           # n_critic: D alone this step
            self._report(step, loss_d.detach(), penalty.detach(), None, None)
            return
        loss_g = self._with_memory_retry(pt, lambda parts: recipe.g_main(draws, pt, parts), nets.opt_g)
        if own_steps:                           # G's main step, then the regulariser's own (Greg)
            self._optimizer_step(nets.G, nets.opt_g)
            regularizer = None
            if recipe.g_regularizes(draws):
                nets.opt_g.zero_grad(set_to_none=True)
                regularizer = recipe.g_regularize(draws, pt)
                self._optimizer_step(nets.G, nets.opt_g)
        else:                                   # the regulariser into the main pass's gradients
            regularizer = recipe.g_regularize(draws, pt)
            self._optimizer_step(nets.G, nets.opt_g)

        with torch.no_grad():       # EMA of G's weights, half-life measured in images
            hl = cfg.ema_halflife_kimg * 1000.0      # G steps every n_critic batches: as many images
            beta = 0.5 ** (pt.batch * getattr(cfg, "n_critic", 1) / hl) if hl > 0 else 0.0
            torch._foreach_lerp_(list(nets.G_ema.parameters()), list(nets.G.parameters()), 1.0 - beta)
            recipe.after_ema(nets.G_ema)
            self._report(step, loss_d.detach(), penalty.detach(), loss_g.detach(), regularizer)

    def _optimizer_step(self, net: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """The gradients averaged across ranks, then the step."""
        self.dist.average_gradients(net.parameters())
        optimizer.step()

    def _report(self, step: int, loss_d, penalty, loss_g, regularizer) -> None:
        """Statistics stay on the device until the tick."""
        self.stats.report("loss_d", loss_d)
        self.stats.report("penalty", penalty)
        at = self.monitor.step_tensor(step)
        self.monitor.watch(LOSS_D, loss_d + penalty, at)
        if loss_g is None:               # a D-only step (n_critic)
            self.monitor.watch_state(at)
            return
        self.stats.report("loss_g", loss_g)
        if regularizer is not None:      # the recipe reported it under its own name
            loss_g = loss_g + regularizer.detach()
        self.monitor.watch(LOSS_G, loss_g, at)
        self.monitor.watch_state(at)

    def run_timing_compilation(self, pt: SchedulePoint, step: int, d_steps: int) -> float:
        """A step; the first one of each level and phase (a compilation) is timed, logged and its
        seconds returned, so that the tick's img/s leaves them out (0 for every other step)."""
        key = (pt.level, pt.alpha < 1.0)
        if key in self._compiled_shapes:
            self.run(pt, step, d_steps)
            return 0.0
        t0 = time.perf_counter()
        self.run(pt, step, d_steps)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self._compiled_shapes.add(key)
        seconds = time.perf_counter() - t0
        self.out.log(f"compiled for {pt.resolution}x{pt.resolution} {'fade' if key[1] else 'stabilize'}: "
                     f"first step took {seconds:.1f} s")
        self.out.record({"kind": "event", "event": "compile", "kimg": round(self.kimg(), 3),
                         "resolution": pt.resolution, "fade": key[1], "seconds": round(seconds, 2)})
        return seconds

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
                local = pt.batch // self.dist.world
                self.out.log(f"out of memory at {pt.resolution}x{pt.resolution} with {local // parts} images per "
                             f"pass: continuing with {parts * 2} micro-batches of {local // (parts * 2)} "
                             f"(gradient accumulation keeps the batch at {pt.batch})")
                self.out.record({"kind": "event", "event": "batch_split", "kimg": round(self.kimg(), 3),
                                 "resolution": pt.resolution, "micro_batches": parts * 2})
