"""The training loop, shared by the CLI, the GUI worker and the benchmarks.

It iterates the schedule's steps and, between them, the safe points where it pauses, stops,
grows and reports. What a step computes is the family's recipe (recipe.py, families/*/recipe.py)
driven by step.py; a tick's record is built in ticks.py, every write goes through outputs.py,
state capture and restore are state.py. The loop reports through ``on_event`` (events.py) and
polls a TrainerControl between steps.
"""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..analysis.export import render_grid
from ..families import family
from . import state as state_io
from .advice import recovery_advice
from .clock import Every, TickClock
from .distributed import DistContext
from .events import ErrorEvent, FinishedEvent, PausedEvent, PhaseEvent, TrainerControl, describe_ending
from .health import NonFiniteMonitor, NonFiniteTraining, StallWatch
from .opening import OpenedRun, open_new, open_resume
from .outputs import RunOutputs
from .sampler import RunReals
from .schedule import SchedulePoint, resets_optimizer, schedule_at, total_kimg
from .device import configure_device, training_device
from .step import Networks, TrainingStep, compiled_view
from .tick_stats import TickStats
from .ticks import TickReporter
from .transfer import load_into


NonFiniteLoss = NonFiniteTraining       # the name it had before optimizer state was checked too


@dataclass
class RunResult:
    reason: str                 # "completed", "max_kimg", "stopped", "error"
    kimg: float
    error: str | None = None
    error_kind: str | None = None   # with an error: "nonfinite", "disk", "out_of_memory", "internal"


class Trainer:
    """Create with :meth:`new` (a fresh run folder) or :meth:`resume` (newest good checkpoint)."""

    def __init__(self, opened: OpenedRun, on_event: Callable[[object], None] | None = None,
                 control: TrainerControl | None = None):
        cfg = self.cfg = opened.cfg
        self.run_folder, self.lock, self.dataset = opened.run, opened.lock, opened.dataset
        self.out = RunOutputs(opened.run, opened.writes, on_event or (lambda event: None))
        self.control = control or TrainerControl()
        self.dist = DistContext.detect()
        self.device = training_device(cfg.device, self.dist)
        self.family = family(cfg.arch)
        self.precision = self.family.resolve_precision(cfg.precision, self.device)
        configure_device(self.device, self.amp)

        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        architecture = self.family.architecture(cfg, self.dataset.channels)
        self.architecture = architecture.to_dict()        # what checkpoints and snapshots carry
        self.nets = Networks.build(self.family, cfg, architecture, self.device, self.precision)
        if opened.origin is not None:
            load_into(self.nets, opened.origin)
        if cfg.freeze_d:
            self.nets.freeze_discriminator(self.family.discriminator_top_blocks(self.nets.D, cfg.freeze_d))
        G, D = self.nets.G, self.nets.D
        self.rng = torch.Generator(device=self.device).manual_seed(cfg.seed)
        self.fixed_latents = torch.randn(cfg.grid_size, cfg.latent_size,
                                         generator=torch.Generator().manual_seed(cfg.seed + 1))
        self.images_seen = self.step = self.d_steps = self.phase_index = 0
        self.level = 2
        self.last_stats: dict = {}
        self.accum: dict[int, int] = {}          # resolution → micro-batches per step, after an OOM
        self.clock = TickClock(0)
        self.stats = TickStats(self.device)
        self.monitor = NonFiniteMonitor(self.device)
        reals = RunReals.of(cfg, self.dataset, self.device, self.dist, self.rng)   # r_v's held-out split
        self.training_set, self.heldout_set = reals.training, reals.heldout
        self.recipe = self.family.recipe(cfg, G=G, D=D, G_fast=compiled_view(G, cfg.compile),
                                         D_fast=compiled_view(D, cfg.compile),
                                         device=self.device, dist=self.dist, rng=self.rng,
                                         precision=self.precision, stats=self.stats,
                                         autocast=self.family.uses_autocast(), classes=reals.classes,
                                         heldout=reals.heldout_sampler)
        self.stepper = TrainingStep(cfg, self.nets, self.recipe, reals.sampler, self.dist, self.device,
            self.stats, self.monitor, self.accum, self.out, lambda: self.images_seen / 1000.0)
        self.ticks = TickReporter(self, StallWatch({"generator": G, "discriminator": D}, self.device))
        self._make_optimizers()
        self._stop_agreed = False
        self._tick_start_images = 0
        if opened.checkpoint is not None:
            state_io.restore(self, opened.checkpoint)

    # ------------------------------------------------------------------ construction
    @classmethod
    def new(cls, run_dir: str | os.PathLike, cfg, dataset=None, origin=None, **kwargs) -> "Trainer":
        """A new run; with ``cfg.start_from`` (transfer.configured) from a trained model's weights."""
        return cls._built(open_new(run_dir, cfg, dataset, origin), **kwargs)

    @classmethod
    def resume(cls, run_dir: str | os.PathLike, checkpoint: str | os.PathLike | None = None,
               max_kimg: float | None = None, dataset=None, lr_scale: float | None = None,
               take_over: bool = False, **kwargs) -> "Trainer":
        """Continue a run (see opening.open_resume); what resuming did is logged."""
        return cls._built(open_resume(run_dir, checkpoint, max_kimg, dataset, lr_scale, take_over), **kwargs)

    @classmethod
    def _built(cls, opened: OpenedRun, **kwargs) -> "Trainer":
        try:
            trainer = cls(opened, **kwargs)
        except BaseException:
            opened.release()
            raise
        for note in opened.notes:       # what opening did: resumed from, chose, started from
            trainer.out.log(note)
        return trainer

    def close(self) -> None:
        """Give the run folder up without training (run() does this when it ends)."""
        if self.lock is not None:
            self.lock.release()

    def _make_optimizers(self) -> None:
        self.nets.make_optimizers(self.cfg, self.recipe, self.device)
        self.monitor.bind(self.nets.watched())

    # the networks by their usual names, for the benchmarks, the tests and notebooks
    G = property(lambda self: self.nets.G)
    D = property(lambda self: self.nets.D)
    G_ema = property(lambda self: self.nets.G_ema)
    opt_g = property(lambda self: self.nets.opt_g)
    opt_d = property(lambda self: self.nets.opt_d)
    wall_s = property(lambda self: self.clock.wall_s)

    @property
    def on_event(self) -> Callable[[object], None]:
        return self.out.on_event

    @on_event.setter
    def on_event(self, listener: Callable[[object], None] | None) -> None:
        """A driver may attach its listener after construction (the CLI's progress bar does)."""
        self.out.on_event = listener or (lambda event: None)

    @property
    def amp(self) -> bool:
        """bf16 arithmetic in the networks (the penalties' pass stays fp32)."""
        return self.precision == "bf16"

    def state_dict(self) -> dict:
        return state_io.capture(self)

    # ------------------------------------------------------------------ steps and outputs
    def train_step(self, pt: SchedulePoint) -> None:
        """One step at ``pt`` (D then G); the loop counts the images and the step."""
        if self.cfg.compile:     # compilation time is reported on its own, not as slow training
            self.clock.exclude(self.stepper.run_timing_compilation(pt, self.step, self.d_steps))
        else:
            self.stepper.run(pt, self.step, self.d_steps)
        self.d_steps += 1

    def begin_tick(self) -> None:
        self.stats.reset()
        self.monitor.reset()
        self.ticks.stalls.start()
        self._tick_start_images = self.images_seen

    def _close_tick(self, pt: SchedulePoint, at: float | None = None) -> None:
        images, seconds = self.clock.lap(self.images_seen, at)
        if self.ticks.close(pt, images, seconds) is not None:
            self.begin_tick()

    def render_fixed(self, pt: SchedulePoint) -> np.ndarray:
        return render_grid(self.G_ema, self.fixed_latents, pt.level, pt.alpha)

    def _write_samples(self, pt: SchedulePoint) -> None:
        self.out.samples(lambda: self.render_fixed(pt), self.images_seen, pt)

    def save_checkpoint(self):
        return self.out.checkpoint(lambda: state_io.capture_finite(self), self.images_seen)

    def advice(self) -> str:
        return recovery_advice(self.run_folder, self.cfg.tick_kimg, self._tick_start_images,
                               self.out.checkpoints_on_disk(), self.out.newest_checkpoint_note())

    def _compute_metric(self, pt: SchedulePoint) -> None:
        record = self.out.metric(lambda: self.ticks.metric(pt))
        if record is not None:
            self.last_stats.update(self.ticks.headline(record))


    # ------------------------------------------------------------------ the loop
    def run(self) -> RunResult:
        try:
            return self._loop()
        except NonFiniteTraining as exc:
            return self._fail(str(exc), "nonfinite")
        except torch.cuda.OutOfMemoryError as exc:
            return self._fail(f"out of GPU memory: {str(exc).splitlines()[0]} — lower the batch size "
                              "for this resolution", "out_of_memory")
        except MemoryError:
            return self._fail("out of memory — lower the batch size or the resolution", "out_of_memory")
        except OSError as exc:        # DiskWriteError names the file and the reason in one line
            return self._fail(f"{exc}; training stopped{self.out.newest_checkpoint_note()}", "disk")
        except Exception as exc:  # the GUI must survive any failure; the log keeps the traceback
            self.out.log_if_possible(traceback.format_exc())
            return self._fail(f"internal error: {type(exc).__name__}: {exc}", "internal")
        finally:
            self.close()

    def _fail(self, message: str, kind: str) -> RunResult:
        self.out.log_if_possible(f"ERROR: {message}")
        try:        # kimg past the last checkpoint: a resume from it drops this record again
            self.out.record({"kind": "event", "event": "failed", "error_kind": kind, "error": message,
                             "kimg": round(self.images_seen / 1000.0, 3)})
        except OSError:
            pass    # the disk that failed may refuse this too
        self.out.emit(ErrorEvent(message, kind))
        return RunResult("error", self.images_seen / 1000.0, message, kind)

    def _loop(self) -> RunResult:
        cfg, control = self.cfg, self.control
        end = int(round(total_kimg(cfg) * 1000))
        tick, sample = Every(cfg.tick_kimg, self.images_seen), Every(cfg.sample_kimg, self.images_seen)
        ckpt = Every(cfg.checkpoint_kimg, self.images_seen)
        metric = Every(cfg.metric_kimg, self.images_seen, at_least_one=False)
        pt = last_pt = schedule_at(cfg, self.images_seen)
        self.begin_tick()
        if self.images_seen == 0:
            self.level, self.phase_index = pt.level, pt.phase_index
            self.out.log(f"training {cfg.resolution}x{cfg.resolution} on {self.device.type} "
                         f"({self.family.describe_precision(self.precision, self.device)}), "
                         f"{len(self.dataset)} images, {total_kimg(cfg):g} kimg")
            self.out.emit(PhaseEvent(0.0, pt.phase, pt.resolution, growth=False))
            self._write_samples(pt)
        self.clock.begin(self.images_seen)
        while True:
            self._pause_if_asked(last_pt)                      # safe point: between steps
            reason = self._reason_to_end(end)
            if reason:
                break
            pt = schedule_at(cfg, self.images_seen)
            if pt.phase_index != self.phase_index:
                self._enter_phase(pt, last_pt)
            self.train_step(pt)
            self.images_seen += pt.batch
            self.step += 1
            last_pt = pt             # what the step trained: grids and stats are labelled with it

            save_now = control.take_checkpoint_request() and not self.dist.active
            if tick.due(self.images_seen) or save_now or self.images_seen >= end:
                self._close_tick(pt)
                tick.advance(self.images_seen)
                if sample.due(self.images_seen):
                    self._write_samples(pt)
                    sample.advance(self.images_seen)
                if metric.due(self.images_seen):
                    self._compute_metric(pt)
                    metric.advance(self.images_seen)
                if ckpt.due(self.images_seen) or save_now:
                    self.save_checkpoint()
                    ckpt.advance(self.images_seen)
                if control.take_snapshot_request():
                    self.out.snapshot(self.G_ema, self.architecture, pt, self.images_seen)
                if self.dist.active:        # all ranks must leave the loop at the same step
                    self._stop_agreed = self.dist.any(control.stop_requested, self.device)
                self.clock.restart()      # reporting time is not training time

        self._close_tick(last_pt)                # finish: last tick, grid and checkpoint
        self._write_samples(last_pt)
        self.save_checkpoint()
        kimg = self.images_seen / 1000.0
        # how the run ended is a record too, so a folder opened later says "completed", not "stopped"
        self.out.record({"kind": "event", "event": "finished", "reason": reason, "kimg": round(kimg, 3)})
        self.out.log(describe_ending(reason, kimg))
        self.out.emit(FinishedEvent(kimg, reason))
        return RunResult(reason, kimg)

    def _pause_if_asked(self, last_pt: SchedulePoint) -> None:
        control = self.control
        if not control.paused or control.stop_requested or self.dist.active:
            return
        self.out.emit(PausedEvent(True, self.images_seen / 1000.0))
        paused_at = self.clock.now()
        while control.paused and not control.stop_requested:
            control.wait_while_paused(0.1)
            if control.take_checkpoint_request():
                self._close_tick(last_pt, at=paused_at)
                self.save_checkpoint()
        self.clock.exclude(self.clock.now() - paused_at)
        self.out.emit(PausedEvent(False, self.images_seen / 1000.0))

    def _reason_to_end(self, end: int) -> str | None:
        if (self.control.stop_requested and not self.dist.active) or self._stop_agreed:
            return "stopped"
        if self.images_seen >= end:
            return "max_kimg" if self.cfg.max_kimg is not None else "completed"
        return None

    def _enter_phase(self, pt: SchedulePoint, last_pt: SchedulePoint) -> None:
        """Close the old phase (a tick and its last grid), then grow or stabilize."""
        growth = pt.level != self.level
        self._close_tick(last_pt)
        self._write_samples(last_pt)
        self.clock.restart()
        self.phase_index = pt.phase_index
        if growth:
            self.level = pt.level
        if resets_optimizer(self.cfg, last_pt, pt):
            self._make_optimizers()
        self.out.log(f"{'growing to' if growth else 'stabilizing at'} {pt.resolution}x{pt.resolution} "
                     f"({pt.phase}) at {pt.kimg:.3f} kimg")
        self.out.emit(PhaseEvent(pt.kimg, pt.phase, pt.resolution, growth))
