"""The one training loop, shared by the CLI, the GUI worker and the benchmarks.

It reports through ``on_event`` (see events.py), polls a TrainerControl between steps, and
writes everything to the run folder. Losses and their statistics stay on the device and are
read once per tick, where non-finite values are caught before anything is saved.
"""
from __future__ import annotations

import copy
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import losses
from ..storage.checkpoint import (FORMAT, RESUME_KEYS, VERSION, CheckpointError, atomic_torch_save, capture_rng_state,
                         describe_tensors, first_loadable, load_checkpoint, non_finite_tensors, restore_rng_state)
from ..config import ADVISED_LR_SCALE, MOVE_EPS, STALL_FRACTION, TrainConfig
from ..data.dataset import DatasetError, ImageDataset, load_dataset
from .distributed import DistContext
from .events import (CheckpointEvent, ErrorEvent, FinishedEvent, GeneratorSnapshotEvent, LogEvent, MetricEvent,
                     PausedEvent, PhaseEvent, SamplesEvent, TickEvent, TrainerControl, describe_ending,
                     frozen_array)
from ..analysis.export import render
from .health import FiniteWatch, non_finite_state
from ..data.images import make_grid
from ..networks.layers import downsample2x, fade_blend, upsample2x
from ..analysis.metrics import swd_of_generator
from ..models import build_discriminator, build_generator, generator_architecture
from .precision import describe_precision, resolve_precision
from ..storage.runfolder import RunFolder
from ..storage.runlock import RunLock
from .schedule import SchedulePoint, estimate_seconds, schedule_at, total_kimg


class NonFiniteTraining(Exception):
    """A loss, a weight or an optimizer moment went NaN/inf: training stops, nothing of it is saved."""


NonFiniteLoss = NonFiniteTraining       # the name it had before optimizer state was checked too


class _SilentRunFolder(RunFolder):
    """What ranks other than 0 see: the same layout, and every write is left to rank 0."""

    def create(self, config): pass
    def write_config(self, config): pass
    def append_metrics(self, record): pass
    def truncate_metrics_after(self, kimg): pass
    def truncate_samples_after(self, kimg): pass
    def discard_checkpoints_after(self, images_seen): return []
    def repair_torn_tails(self): return []
    def log(self, message): pass
    def write_dataset_report(self, report): pass


@dataclass
class RunResult:
    reason: str                 # "completed", "max_kimg", "stopped", "error"
    kimg: float
    error: str | None = None
    error_kind: str | None = None   # with an error: "nonfinite", "disk", "out_of_memory", "internal"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DatasetError("device cuda was asked for but no CUDA GPU is available")
    return torch.device(name)


class Trainer:
    """Create with :meth:`new` (a fresh run folder) or :meth:`resume` (newest good checkpoint)."""

    def __init__(self, run: RunFolder, cfg: TrainConfig, dataset: ImageDataset,
                 on_event: Callable[[object], None] | None = None,
                 control: TrainerControl | None = None, checkpoint: dict | None = None,
                 lock: RunLock | None = None):
        self.run_folder = run
        self.lock = lock                       # the run folder's lock (rank 0), released when run() ends
        self.cfg = cfg
        self.dataset = dataset
        self.on_event = on_event or (lambda event: None)
        self.control = control or TrainerControl()
        self.dist = DistContext.detect()
        self.device = resolve_device(cfg.device)
        if self.dist.active and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        self.precision = resolve_precision(cfg.precision, self.device, cfg.arch)
        self.stylegan2 = cfg.arch == "stylegan2"      # its networks pick bf16 per block themselves
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = self.amp      # "fp32" asks for full fp32 matmuls
            torch.backends.cudnn.allow_tf32 = self.amp
            torch.backends.cudnn.benchmark = True

        channels = dataset.channels
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        self.architecture = generator_architecture(cfg, channels)
        self.G = build_generator(self.architecture).to(self.device)
        self.D = build_discriminator(cfg, channels).to(self.device)
        # channels_last: 5-25% more img/s than NCHW for these convolutions on a 2-core CPU
        # (bench/train_speed.py, laptop preset, 4² to 32²); the layout CUDA's tensor cores want too
        self.memory_format = torch.channels_last
        self.G = self.G.to(memory_format=self.memory_format)
        self.D = self.D.to(memory_format=self.memory_format)
        if self.stylegan2 and self.precision == "fp32":      # its own per-block bf16 off too
            self.G.bf16_blocks = self.D.bf16_blocks = 0
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.G_fast, self.D_fast = self._compiled(self.G), self._compiled(self.D)
        self._compiled_shapes: set = set()
        self.rng = torch.Generator(device=self.device).manual_seed(cfg.seed)
        # StyleGAN2's per-pixel noise: re-seeded from (seed, step, rank) every step, so it is
        # independent across data-parallel ranks and the same after a resume, with no state to keep
        self.noise_rng = torch.Generator(device=self.device)
        self.fixed_latents = torch.randn(cfg.grid_size, cfg.latent_size,
                                         generator=torch.Generator().manual_seed(cfg.seed + 1))
        self.images_seen = 0
        self.step = 0
        self.d_steps = 0
        self.level = 2
        self.phase_index = 0
        self.wall_s = 0.0                       # training time, pauses excluded, across resumes
        self.last_stats: dict = {}
        self._data_on_device: dict[int, torch.Tensor] = {}
        self._swd_floor: dict[int, float] = {}
        self._speed: dict[int, float] = {}
        self.accum: dict[int, int] = {}          # resolution → micro-batches per step, after an OOM
        self.pl_mean = torch.zeros((), device=self.device)   # StyleGAN2's running path length
        self._last_sample_images: int | None = None          # what was last written, so nothing twice
        self._last_checkpoint_images: int | None = None
        self._stalled: set[str] = set()                      # networks whose last tick stalled
        self._make_optimizers()
        if checkpoint is not None:
            self._load_state(checkpoint)

    def close(self) -> None:
        """Give the run folder up without training (run() does this when it ends)."""
        if self.lock is not None:
            self.lock.release()

    @property
    def amp(self) -> bool:
        """bf16 autocast around G and D (the penalties' pass stays fp32)."""
        return self.precision == "bf16"

    # ------------------------------------------------------------------ construction
    @classmethod
    def new(cls, run_dir: str | os.PathLike, cfg: TrainConfig, dataset: ImageDataset | None = None,
            **kwargs) -> "Trainer":
        problems = cfg.validate()
        if problems:
            raise ValueError("; ".join(problems))
        if dataset is None:
            dataset = load_dataset(cfg.data, cfg.demo, cfg.resolution, cfg.mode, cfg.channels)
        ctx = DistContext.detect()
        run = RunFolder(run_dir) if ctx.is_main else _SilentRunFolder(run_dir)
        lock = RunLock.acquire(run.path) if ctx.is_main else None
        try:
            run.create(cfg)
            run.write_dataset_report(dataset.report.to_dict())
            run.log(f"new run: {dataset.report.text()}")
            ctx.barrier()
            return cls(run, cfg, dataset, lock=lock, **kwargs)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    @classmethod
    def resume(cls, run_dir: str | os.PathLike, checkpoint: str | os.PathLike | None = None,
               max_kimg: float | None = None, dataset: ImageDataset | None = None,
               on_event: Callable[[object], None] | None = None, lr_scale: float | None = None,
               take_over: bool = False, **kwargs) -> "Trainer":
        """Continue a run from ``checkpoint`` or its newest usable one.

        ``max_kimg`` replaces the run's end; ``lr_scale`` multiplies its learning rates from here
        on (cumulative: the config records the product). Both are written to config.json.
        """
        ctx = DistContext.detect()
        run = RunFolder(run_dir) if ctx.is_main else _SilentRunFolder(run_dir)
        cfg = run.read_config()
        changes = {}
        if max_kimg is not None:
            changes["max_kimg"] = max_kimg
        if lr_scale is not None:
            changes["lr_scale"] = cfg.lr_scale * lr_scale
        cfg = cfg.replace(**changes)
        problems = cfg.validate() if changes else []
        if cfg.non_finite_fields() and not problems:     # e.g. a NaN an older pgstudio let through
            problems = [f"{run.config_path} holds {', '.join(cfg.non_finite_fields())} that are not finite "
                        "numbers; give the value again (e.g. --max-kimg)"]
        if problems:
            raise ValueError("; ".join(problems))
        lock = RunLock.acquire(run.path, take_over=take_over) if ctx.is_main else None
        say = on_event or (lambda event: None)
        try:
            notes = ([lock.took_over] if lock is not None and lock.took_over else []) + run.repair_torn_tails()
            state, path, skipped = cls._newest_good_checkpoint(run, checkpoint)
            notes += [f"skipped unusable checkpoint {bad.name}: {why}" for bad, why in skipped]
            if dataset is None:
                dataset = load_dataset(cfg.data, cfg.demo, cfg.resolution, cfg.mode, cfg.channels)
            if changes:
                run.write_config(cfg)
            if lr_scale is not None:
                notes.append(f"learning rates scaled by {lr_scale:g} from here on (lr_scale {cfg.lr_scale:g})")
            kimg = state["images_seen"] / 1000.0
            if checkpoint is not None and Path(checkpoint).resolve().parent == run.checkpoints_dir.resolve():
                for moved in run.discard_checkpoints_after(int(state["images_seen"])):
                    notes.append(f"resuming from an earlier checkpoint: {moved.name} moved to checkpoints/discarded/")
            run.unusable_lines.clear()
            run.truncate_metrics_after(kimg)
            run.truncate_samples_after(kimg)
            notes += run.unusable_lines          # dropped from the rewritten files: say which
            if lr_scale is not None:
                run.append_metrics({"kind": "event", "event": "lr_scale", "kimg": round(kimg, 3),
                                    "factor": lr_scale, "lr_scale": cfg.lr_scale})
            notes.append(f"resumed from {path.name} at {kimg:.3f} kimg")
            for note in notes:
                run.log(note)
                say(LogEvent(note))
            ctx.barrier()
            return cls(run, cfg, dataset, on_event=on_event, checkpoint=state, lock=lock, **kwargs)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    @staticmethod
    def _newest_good_checkpoint(run: RunFolder, explicit) -> tuple[dict, Path, list]:
        if explicit is not None:
            return load_checkpoint(explicit, require=RESUME_KEYS), Path(explicit), []
        try:
            return first_loadable(reversed(run.checkpoints()), require=RESUME_KEYS)
        except CheckpointError as exc:
            raise CheckpointError(f"{run.path}: nothing to resume from: {exc}") from None

    def _compiled(self, net: torch.nn.Module) -> torch.nn.Module:
        """With ``compile`` on, a torch.compile view of ``net`` (same parameters) for the loss passes.

        Dynamo specialises on the level, so each growth step compiles once more (the cost is
        logged); α goes in as a tensor while fading so that it does not recompile every step.
        The gradient penalty and R1 keep the eager network: compiled graphs have no double backward.
        """
        if not self.cfg.compile:
            return net
        import torch._dynamo
        torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, 64)
        # PGSTUDIO_COMPILE_BACKEND=eager lets the tests trace the graphs without a C++ compile
        return torch.compile(net, backend=os.environ.get("PGSTUDIO_COMPILE_BACKEND", "inductor"))

    def _make_optimizers(self) -> None:
        cfg = self.cfg
        extra = {"fused": True} if self.device.type == "cuda" else {"foreach": True}
        lr_g, betas_g = losses.lazy_adam_hyperparameters(cfg.lr_default, (cfg.beta1, cfg.beta2),
                                                         self._pl_interval())
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=betas_g, eps=1e-8, **extra)
        interval = cfg.r1_interval if self._uses_r1() else 1
        lr_d, betas_d = losses.lazy_adam_hyperparameters(cfg.lr_default, (cfg.beta1, cfg.beta2), interval)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=betas_d, eps=1e-8, **extra)
        groups = [(self.D, self.opt_d), (self.G, self.opt_g)]
        self._finite_watch = FiniteWatch(groups)                       # every step: the second moments
        self._full_watch = FiniteWatch(groups, moments_only=False)     # every tick: everything

    def _pl_interval(self) -> int:
        """Generator steps between path-length regularisations; 1 when there is none."""
        return self.cfg.pl_interval if self.stylegan2 and self.cfg.pl_weight > 0 else 1

    def _uses_r1(self) -> bool:
        return self.cfg.loss in ("logistic", "hinge") and self.cfg.r1_gamma > 0

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION,
            "config": self.cfg.to_json(), "architecture": self.architecture,
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "generator_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "images_seen": self.images_seen, "step": self.step, "d_steps": self.d_steps,
            "level": self.level, "phase_index": self.phase_index, "wall_s": self.wall_s,
            "rng": {**capture_rng_state(), "train": self.rng.get_state()},
            "fixed_latents": self.fixed_latents, "stats": dict(self.last_stats),
            "accum": {str(k): v for k, v in self.accum.items()},
            "pl_mean": self.pl_mean.detach().cpu(),
        }

    def _load_state(self, state: dict) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.G_ema.load_state_dict(state["generator_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.images_seen = int(state["images_seen"])
        self.step = int(state["step"])
        self.d_steps = int(state["d_steps"])
        self.level = int(state["level"])
        self.phase_index = int(state["phase_index"])
        self.wall_s = float(state.get("wall_s", 0.0))
        self.fixed_latents = state["fixed_latents"]
        self.last_stats = dict(state.get("stats", {}))
        self.accum = {int(k): int(v) for k, v in state.get("accum", {}).items()}
        if "pl_mean" in state:
            self.pl_mean = state["pl_mean"].to(self.device)
        restore_rng_state(state["rng"])
        self.rng.set_state(state["rng"]["train"])

    # ------------------------------------------------------------------ data
    def _reals(self, pt: SchedulePoint) -> torch.Tensor:
        data = self._data_on_device.get(pt.resolution)
        if data is None:
            self._data_on_device = {pt.resolution: torch.from_numpy(self.dataset.levels[pt.resolution]).to(self.device)}
            data = self._data_on_device[pt.resolution]
        mine = self.dist.local_slice(pt.batch)
        idx = torch.randint(data.shape[0], (pt.batch,), device=self.device, generator=self.rng)[mine]
        x = (data[idx].float() / 127.5 - 1.0).contiguous(memory_format=self.memory_format)
        if self.cfg.mirror_augment:
            flip = (torch.rand(pt.batch, 1, 1, 1, device=self.device, generator=self.rng) < 0.5)[mine]
            x = torch.where(flip, x.flip(3), x)
        if pt.phase == "fade" and pt.alpha < 1.0:
            # D must see the same blend G makes: lerp(up(down(x)), x, α)
            x = fade_blend(upsample2x(downsample2x(x)), x, pt.alpha)
        return x

    # ------------------------------------------------------------------ one step
    def _train_step(self, pt: SchedulePoint) -> None:
        cfg, G, D = self.cfg, self.G, self.D
        level, alpha, batch = pt.level, pt.alpha, pt.batch
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp and not self.stylegan2)
        interval = cfg.r1_interval if self._uses_r1() else 1
        lr_d, _ = losses.lazy_adam_hyperparameters(pt.lr, (cfg.beta1, cfg.beta2), interval)
        lr_g, _ = losses.lazy_adam_hyperparameters(pt.lr, (cfg.beta1, cfg.beta2), self._pl_interval())
        for group in self.opt_g.param_groups:
            group["lr"] = lr_g
        for group in self.opt_d.param_groups:
            group["lr"] = lr_d

        def critic(x):               # eager: the penalties need a double backward
            return D(x, level, alpha)
        G_fast, D_fast = self.G_fast, self.D_fast
        alpha_in = (torch.full((), alpha, device=self.device) if cfg.compile and alpha < 1.0 else alpha)

        # --- every random draw of the step, for the global batch, in a fixed order; this rank
        # keeps its slice, cut into micro-batches when memory forced a split (see _with_memory_retry)
        mine = self.dist.local_slice(batch)      # every rank draws the global batch, trains its slice
        reals = self._reals(pt)
        z_d = torch.randn(batch, cfg.latent_size, device=self.device, generator=self.rng)[mine]
        eps = (torch.rand(batch, 1, 1, 1, device=self.device, generator=self.rng)[mine]
               if cfg.loss == "wgan-gp" else None)
        z_g = torch.randn(batch, cfg.latent_size, device=self.device, generator=self.rng)[mine]
        with_r1 = self._uses_r1() and self.d_steps % cfg.r1_interval == 0
        # StyleGAN2's draws come after the shared ones, so progressive runs draw what they always did
        mix_d = self._mixing_draws(batch, mine) if self.stylegan2 else None
        mix_g = self._mixing_draws(batch, mine) if self.stylegan2 else None
        with_pl = self._pl_interval() > 1 and self.step % cfg.pl_interval == 0
        if with_pl:
            pl_batch = max(batch // cfg.pl_batch_shrink, self.dist.world)
            pl_mine = self.dist.local_slice(pl_batch)
            z_pl = torch.randn(pl_batch, cfg.latent_size, device=self.device, generator=self.rng)[pl_mine]
            mix_pl = self._mixing_draws(pl_batch, pl_mine)

        def style_args(mix, i: int, parts: int, update_w_avg: bool = False) -> dict:
            """StyleGAN2's training inputs for micro-batch i: mixing latent and cutoff, random noise."""
            if mix is None:
                return {}
            return dict(z_mix=mix[0].chunk(parts)[i], mix_cutoff=mix[1].chunk(parts)[i], noise_mode="random",
                        noise_generator=self.noise_rng, update_w_avg=update_w_avg)
        if self.stylegan2:
            self.noise_rng.manual_seed(((cfg.seed + 1) * 1_000_003 + self.step) * 1024 + self.dist.rank)

        def d_phase(parts: int):
            self.opt_d.zero_grad(set_to_none=True)
            loss_sum = pen_sum = torch.zeros((), device=self.device)
            for i, (r, zd, e) in enumerate(zip(reals.chunk(parts), z_d.chunk(parts),
                                               (eps.chunk(parts) if eps is not None else [None] * parts))):
                with torch.no_grad(), autocast:
                    fakes = G_fast(zd, level, alpha_in, **style_args(mix_d, i, parts, update_w_avg=True))
                with autocast:
                    scores_real, scores_fake = D_fast(r, level, alpha_in), D_fast(fakes, level, alpha_in)
                loss = losses.discriminator_loss(cfg.loss, scores_real, scores_fake,
                                                 cfg.drift if cfg.loss == "wgan-gp" else 0.0)
                pen = torch.zeros((), device=self.device)
                if e is not None:
                    pen = cfg.gp_lambda * losses.gradient_penalty(critic, r, fakes, eps=e)
                elif with_r1:
                    pen = (cfg.r1_gamma / 2) * losses.r1_penalty(critic, r) * cfg.r1_interval
                ((loss + pen) / parts).backward()
                loss_sum, pen_sum = loss_sum + loss.detach(), pen_sum + pen.detach()
            return loss_sum / parts, pen_sum / parts

        def g_phase(parts: int):
            self.opt_g.zero_grad(set_to_none=True)
            loss_sum = torch.zeros((), device=self.device)
            for i, zg in enumerate(z_g.chunk(parts)):
                with autocast:
                    fakes = G_fast(zg, level, alpha_in, **style_args(mix_g, i, parts))
                    loss = losses.generator_loss(cfg.loss, D_fast(fakes, level, alpha_in))
                (loss / parts).backward()
                loss_sum = loss_sum + loss.detach()
            return loss_sum / parts

        D.requires_grad_(True)
        loss_d, penalty = self._with_memory_retry(pt, d_phase, self.opt_d)
        if self.stylegan2 and self.dist.active:     # each rank moved the mean w by its own slice's mean:
            with torch.no_grad():                   # averaging gives the global batch's update on every rank
                G.mapping.w_avg.copy_(self.dist.mean(G.mapping.w_avg))
        self.dist.average_gradients(D.parameters())
        self.opt_d.step()
        self.d_steps += 1
        D.requires_grad_(False)
        loss_g = self._with_memory_retry(pt, g_phase, self.opt_g)
        pl_penalty = None
        if with_pl:      # lazy path-length regularisation, added to the same gradients
            images, ws = G(z_pl, level, alpha, return_ws=True, **style_args(mix_pl, 0, 1))
            pl_penalty, self.pl_mean = losses.path_length_penalty(images, ws, self.pl_mean, cfg.pl_decay,
                                                                  self.noise_rng)
            (pl_penalty * cfg.pl_weight * cfg.pl_interval).backward()
        self.dist.average_gradients(G.parameters())
        self.opt_g.step()

        # --- EMA of G's weights, half-life measured in images
        with torch.no_grad():
            hl = cfg.ema_halflife_kimg * 1000.0
            beta = 0.5 ** (batch / hl) if hl > 0 else 0.0
            torch._foreach_lerp_(list(self.G_ema.parameters()), list(G.parameters()), 1.0 - beta)
            if self.stylegan2:      # the mean w is the one buffer that changes (the noise maps are fixed)
                self.G_ema.mapping.w_avg.copy_(G.mapping.w_avg)

        # --- statistics stay on the device until the tick
        with torch.no_grad():
            ld, lg = loss_d.detach(), loss_g.detach()
            self._acc_d += ld
            self._acc_g += lg
            self._acc_pen += penalty.detach()
            self._acc_n += 1
            step = torch.full((), self.step, dtype=torch.long, device=self.device)   # a fill, no copy
            self._bad_d = torch.where((self._bad_d < 0) & ~torch.isfinite(ld + penalty.detach()), step, self._bad_d)
            if pl_penalty is not None:
                pl = pl_penalty.detach()
                self._acc_pl += pl
                self._acc_pl_n += 1
                lg = lg + pl
            self._bad_g = torch.where((self._bad_g < 0) & ~torch.isfinite(lg), step, self._bad_g)
            # Adam's second moments after the update: one gone inf keeps the losses finite while it
            # freezes the step, so it is watched like a loss (health.py; the tick checks everything)
            self._mark_bad_state(self._finite_watch, step)

    def _mixing_draws(self, batch: int, mine: slice) -> tuple[torch.Tensor, torch.Tensor]:
        """Style mixing: a second latent per sample and the w index from which it takes over
        (num_ws, i.e. no mixing, for a 1 − p share of the samples)."""
        num_ws = self.G.num_ws
        z_mix = torch.randn(batch, self.cfg.latent_size, device=self.device, generator=self.rng)
        cutoff = torch.randint(1, max(num_ws, 2), (batch,), device=self.device, generator=self.rng)
        mixed = torch.rand(batch, device=self.device, generator=self.rng) < self.cfg.style_mixing
        return z_mix[mine], torch.where(mixed, cutoff, torch.full_like(cutoff, num_ws))[mine]

    def _timed_first_step(self, pt: SchedulePoint) -> float:
        """A step; the first one of each level and phase (a compilation) is timed, logged and
        its seconds returned so that the tick's img/s leaves them out."""
        key = (pt.level, pt.alpha < 1.0)
        if key in self._compiled_shapes:
            self._train_step(pt)
            return 0.0
        t0 = time.perf_counter()
        self._train_step(pt)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        seconds = time.perf_counter() - t0
        self._compiled_shapes.add(key)
        self._log(f"compiled for {pt.resolution}x{pt.resolution} {'fade' if key[1] else 'stabilize'}: "
                  f"first step took {seconds:.1f} s")
        self.run_folder.append_metrics({"kind": "event", "event": "compile", "kimg": round(
            self.images_seen / 1000.0, 3), "resolution": pt.resolution, "fade": key[1],
            "seconds": round(seconds, 2)})
        return seconds

    def _with_memory_retry(self, pt: SchedulePoint, phase, optimizer):
        """Run one phase; on CUDA out-of-memory, split this resolution's batch in two and retry.

        The effective batch stays the same (gradients accumulate over the micro-batches and the
        random draws were made before), so the run continues on the same trajectory.
        """
        while True:
            parts = self.accum.get(pt.resolution, 1)
            try:
                return phase(parts)
            except torch.cuda.OutOfMemoryError:
                optimizer.zero_grad(set_to_none=True)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                local = pt.batch // self.dist.world
                if parts * 2 > local:
                    raise
                self.accum[pt.resolution] = parts * 2
                message = (f"out of memory at {pt.resolution}x{pt.resolution} with {local // parts} images per pass: "
                           f"continuing with {parts * 2} micro-batches of {local // (parts * 2)} "
                           f"(gradient accumulation keeps the batch at {pt.batch})")
                self._log(message)
                self.run_folder.append_metrics({"kind": "event", "event": "batch_split", "kimg": round(
                    self.images_seen / 1000.0, 3), "resolution": pt.resolution, "micro_batches": parts * 2})

    def _reset_accumulators(self) -> None:
        z = lambda: torch.zeros((), device=self.device)
        self._acc_d, self._acc_g, self._acc_pen, self._acc_pl = z(), z(), z(), z()
        self._acc_n = self._acc_pl_n = 0
        self._bad_d = torch.full((), -1, dtype=torch.long, device=self.device)
        self._bad_g = torch.full((), -1, dtype=torch.long, device=self.device)
        self._bad_state_d = torch.full((), -1, dtype=torch.long, device=self.device)
        self._bad_state_g = torch.full((), -1, dtype=torch.long, device=self.device)
        self._tick_start_images = self.images_seen
        # the weights at the tick's start, to count what the tick changed (stall detection)
        self._tick_start_weights = {name: [p.detach().clone() for p in net.parameters()]
                                    for name, net in (("generator", self.G), ("discriminator", self.D))}

    # ------------------------------------------------------------------ reporting
    def _emit(self, event) -> None:
        self.on_event(event)

    def _log(self, message: str) -> None:
        self.run_folder.log(message)
        self._emit(LogEvent(message))

    def _tick(self, pt: SchedulePoint, tick_images: int, tick_seconds: float) -> dict | None:
        if self._acc_n == 0:
            return None
        self._raise_if_non_finite(pt)
        changed = self._weights_changed()
        n = self._acc_n
        if self.dist.active:
            self._acc_d, self._acc_g, self._acc_pen = self.dist.mean(
                torch.stack([self._acc_d, self._acc_g, self._acc_pen])).unbind(0)
        img_s = tick_images / tick_seconds if tick_seconds > 0 else 0.0
        record = {"kind": "tick", "kimg": round(self.images_seen / 1000.0, 3), "step": self.step,
                  "wall_s": round(self.wall_s, 3), "resolution": pt.resolution, "alpha": round(pt.alpha, 4),
                  "phase": pt.phase, "batch": pt.batch, "micro_batches": self.accum.get(pt.resolution, 1),
                  "lr": pt.lr,
                  "loss_d": float(self._acc_d) / n, "loss_g": float(self._acc_g) / n,
                  "penalty": float(self._acc_pen) / n,
                  "img_per_s": round(img_s, 2), "sec_per_kimg": round(1000.0 / img_s, 3) if img_s else None,
                  "device": self.device.type, "precision": self.precision, "ram_mb": _ram_mb(),
                  "weights_changed": {k: round(v, 4) for k, v in changed.items()},
                  "stalled": sorted(k for k, v in changed.items() if v < STALL_FRACTION)}
        if self.stylegan2:          # the regularisers get their own curves
            record["pl_penalty"] = float(self._acc_pl) / self._acc_pl_n if self._acc_pl_n else None
            record["pl_mean"] = float(self.pl_mean)
        if self.device.type == "cuda":
            record["gpu_mem_mb"] = round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)
        self.run_folder.append_metrics(record)
        self._report_stalls(record)
        self.last_stats = {"loss_d": record["loss_d"], "loss_g": record["loss_g"], "alpha": pt.alpha,
                           "phase": pt.phase, "resolution": pt.resolution, "kimg": record["kimg"]}
        if img_s > 0:   # smoothed speed per resolution feeds a schedule-aware ETA
            old = self._speed.get(pt.resolution)
            self._speed[pt.resolution] = img_s if old is None else 0.7 * old + 0.3 * img_s
        total = total_kimg(self.cfg)
        est = estimate_seconds(self.cfg, self._speed, record["kimg"])
        eta = est[0] if est else None
        self.run_folder.log(f"tick kimg {record['kimg']:.1f} res {pt.resolution} α {pt.alpha:.2f} {pt.phase} "
                            f"batch {pt.batch} loss_d {record['loss_d']:.4f} loss_g {record['loss_g']:.4f} "
                            f"{img_s:.0f} img/s")
        self._emit(TickEvent(record, total, eta))
        self._reset_accumulators()
        return record

    def _raise_if_non_finite(self, pt: SchedulePoint) -> None:
        """Every rank stops at the same tick when any loss, weight or Adam moment went bad in it."""
        with torch.no_grad():
            self._mark_bad_state(self._full_watch, torch.full((), self.step - 1, dtype=torch.long, device=self.device))
        steps = {"discriminator loss": int(self._bad_d), "generator loss": int(self._bad_g),
                 "discriminator weights or optimizer state": int(self._bad_state_d),
                 "generator weights or optimizer state": int(self._bad_state_g)}
        if not self.dist.any(any(v >= 0 for v in steps.values()), self.device):
            return
        where = f" ({pt.resolution}x{pt.resolution}, kimg {self.images_seen / 1000:.3f})"
        bad = sorted((step, what) for what, step in steps.items() if step >= 0)   # the first comes first
        if not bad:
            raise NonFiniteTraining(f"non-finite values on another process before step {self.step}{where}; "
                                    f"training stopped{self._advice()}")
        details = []
        for net, opt, name in ((self.D, self.opt_d, "discriminator"), (self.G, self.opt_g, "generator")):
            if any(name in what and "state" in what for _, what in bad):
                details.append(f"{name}: {describe_tensors(non_finite_state(net, opt))}")
        raise NonFiniteTraining("non-finite " + " and ".join(f"{what} at step {step}" for step, what in bad)
                                + where + (f" [{'; '.join(details)}]" if details else "")
                                + f"; training stopped{self._advice()}")

    def _mark_bad_state(self, watch: FiniteWatch, step: torch.Tensor) -> None:
        """Keep the first step at which D's or G's watched state stopped being finite (on the device)."""
        d_finite, g_finite = watch.finite()
        self._bad_state_d = torch.where((self._bad_state_d < 0) & ~d_finite, step, self._bad_state_d)
        self._bad_state_g = torch.where((self._bad_state_g < 0) & ~g_finite, step, self._bad_state_g)

    def _weights_changed(self) -> dict[str, float]:
        """Per network, the share of the weights that received gradients which changed this tick.

        Only parameters with a gradient count: blocks not grown yet, the fromRGB layer left behind
        after a fade, and anything frozen on purpose have none.
        """
        out = {}
        with torch.no_grad():
            for name, net in (("generator", self.G), ("discriminator", self.D)):
                moved = torch.zeros((), dtype=torch.long, device=self.device)
                total = 0
                for p, before in zip(net.parameters(), self._tick_start_weights[name]):
                    if p.grad is None:
                        continue
                    moved += ((p - before).abs() > MOVE_EPS).sum()
                    total += p.numel()
                if total:
                    out[name] = int(moved) / total
        return out

    def _report_stalls(self, record: dict) -> None:
        stalled = set(record["stalled"])
        for name in sorted(stalled - self._stalled):
            share = record["weights_changed"][name]
            self._log(f"warning: the {name} has stalled: only {share:.2%} of its trained weights changed over "
                      f"the tick to kimg {record['kimg']:.3f} (a stall is under {STALL_FRACTION:.0%}); its "
                      "optimizer has stopped moving it, usually because the learning rate is too high. Stop and "
                      f"resume from an earlier checkpoint with a lower one (--lr-scale {ADVISED_LR_SCALE:g})")
        for name in sorted(self._stalled - stalled):
            self._log(f"the {name} is training again ({record['weights_changed'][name]:.1%} of its weights "
                      f"changed over the tick to kimg {record['kimg']:.3f})")
        self._stalled = stalled

    def render_fixed(self, pt: SchedulePoint) -> np.ndarray:
        return make_grid(render(self.G_ema, self.fixed_latents, pt.level, pt.alpha))

    def _write_samples(self, pt: SchedulePoint) -> None:
        if not self.dist.is_main or self._last_sample_images == self.images_seen:
            return                      # already written for this exact state
        self._last_sample_images = self.images_seen
        grid = self.render_fixed(pt)
        kimg = self.images_seen / 1000.0
        path = self.run_folder.write_sample(grid, self.images_seen, kimg, pt.resolution, pt.alpha, pt.phase)
        self._emit(SamplesEvent(frozen_array(grid), kimg, pt.resolution, pt.alpha, pt.phase, path))

    def save_checkpoint(self) -> Path:
        path = self.run_folder.checkpoint_path(self.images_seen)
        if not self.dist.is_main or self._last_checkpoint_images == self.images_seen:
            return path                 # rank 0 writes; one file per state
        state = self.state_dict()
        bad = non_finite_tensors(state)     # networks, EMA and both optimizers' moments
        if bad:
            raise NonFiniteTraining(f"non-finite values in {describe_tensors(bad)} at step {self.step}: "
                                    f"checkpoint not written{self._advice()}")
        atomic_torch_save(state, path)
        self._last_checkpoint_images = self.images_seen
        kimg = self.images_seen / 1000.0
        self.run_folder.log(f"checkpoint {path.name} at {kimg:.3f} kimg")
        self._emit(CheckpointEvent(path, kimg))
        return path

    def _advice(self) -> str:
        """How to get past a blow-up, as a command that works.

        Training on the CPU is deterministic, so resuming with the same settings meets the same
        step again: the advice halves the learning rate (cumulatively, on each repeat). It also
        steps back: a blow-up builds up over a few steps, and a checkpoint saved less than a tick
        before the tick that went bad is often already on its way (measured: Adam's second moment
        at 1e37, a factor 30 from fp32's limit, where the one a tick earlier held 1e22 and resumed
        fine at half the rate). When a run that already followed such advice blows up again, the
        step back doubles, so repeating the advice reaches a healthy state in a few tries.
        """
        saved = self._checkpoints_on_disk()
        tick = max(1, int(self.cfg.tick_kimg * 1000))
        back = tick
        resumed_at = self._last_lowered_rate_resume()
        if resumed_at is not None and resumed_at <= self._tick_start_images:
            back = max(tick, 2 * (self._tick_start_images - resumed_at))
        safe = [(n, p) for n, p in saved if n <= self._tick_start_images - back]
        command = f"pgstudio resume {self.run_folder.path}"
        if safe and safe[-1] != saved[-1]:
            command += f" --checkpoint {safe[-1][1]}"
        elif not safe and saved:
            command += f" --checkpoint {saved[0][1]}"
        return (f"; nothing from it was saved{self._last_checkpoint_note()}. To get past it, resume with a lower "
                f"learning rate: {command} --lr-scale {ADVISED_LR_SCALE:g}")

    def _last_lowered_rate_resume(self) -> int | None:
        """Images seen where this run was last resumed with a lowered learning rate, if ever."""
        try:
            records, _ = self.run_folder.read_metrics()
        except OSError:
            return None
        points = [r["kimg"] for r in records if r.get("kind") == "event" and r.get("event") == "lr_scale"
                  and "kimg" in r]
        return int(round(points[-1] * 1000)) if points else None

    def _checkpoints_on_disk(self) -> list[tuple[int, Path]]:
        """(images seen, path) of the run's checkpoints, oldest first."""
        try:
            paths = self.run_folder.checkpoints()
        except OSError:
            return []
        return [(n, path) for path in paths if (n := RunFolder.checkpoint_images(path)) is not None]

    def _emit_snapshot(self, pt: SchedulePoint) -> None:
        sd = {k: v.detach().to("cpu", copy=True) for k, v in self.G_ema.state_dict().items()}
        self._emit(GeneratorSnapshotEvent(dict(self.architecture), sd, pt.level, pt.alpha,
                                          self.images_seen / 1000.0))

    @torch.no_grad()
    def _compute_metric(self, pt: SchedulePoint) -> None:
        if not self.dist.is_main:
            return
        need_floor = pt.resolution not in self._swd_floor
        record = swd_of_generator(self.G_ema, pt.level, pt.alpha, self.dataset.levels[pt.resolution],
                                  self.cfg.metric_n, seed=self.cfg.seed + 7, with_floor=need_floor)
        if need_floor:
            self._swd_floor[pt.resolution] = record["floor"]
        record.update({"kind": "swd", "kimg": round(self.images_seen / 1000.0, 3),
                       "floor": self._swd_floor[pt.resolution]})
        self.run_folder.append_metrics(record)
        self.last_stats["swd"] = record["mean"]
        self._emit(MetricEvent(record))

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
            return self._fail(f"{exc}; training stopped{self._last_checkpoint_note()}", "disk")
        except Exception as exc:  # the GUI must survive any failure; the log keeps the traceback
            self._safe_log(traceback.format_exc())
            return self._fail(f"internal error: {type(exc).__name__}: {exc}", "internal")
        finally:
            self.close()

    def _last_checkpoint_note(self) -> str:
        saved = self._checkpoints_on_disk()
        return f" (the newest checkpoint on disk is {saved[-1][1].name})" if saved else ""

    def _safe_log(self, message: str) -> None:
        try:
            self.run_folder.log(message)
        except OSError:
            pass

    def _fail(self, message: str, kind: str) -> RunResult:
        self._safe_log(f"ERROR: {message}")
        try:        # kimg past the last checkpoint: a resume from it drops this record again
            self.run_folder.append_metrics({"kind": "event", "event": "failed", "error_kind": kind,
                                            "error": message, "kimg": round(self.images_seen / 1000.0, 3)})
        except OSError:
            pass    # the disk that failed may refuse this too
        self._emit(ErrorEvent(message, kind))
        return RunResult("error", self.images_seen / 1000.0, message, kind)

    def _loop(self) -> RunResult:
        cfg, control = self.cfg, self.control
        self._reset_accumulators()
        self._stop_agreed = False
        end_images = int(round(total_kimg(cfg) * 1000))
        tick_every = max(1, int(cfg.tick_kimg * 1000))
        sample_every = max(1, int(cfg.sample_kimg * 1000))
        ckpt_every = max(1, int(cfg.checkpoint_kimg * 1000))
        metric_every = int(cfg.metric_kimg * 1000)
        next_after = lambda every: (self.images_seen // every + 1) * every
        next_tick, next_sample, next_ckpt = next_after(tick_every), next_after(sample_every), next_after(ckpt_every)
        next_metric = next_after(metric_every) if metric_every else None

        pt = schedule_at(cfg, self.images_seen)
        fresh = self.images_seen == 0
        self.level, self.phase_index = (pt.level, pt.phase_index) if fresh else (self.level, self.phase_index)
        if fresh:
            self._log(f"training {cfg.resolution}x{cfg.resolution} on {self.device.type} "
                      f"({describe_precision(self.precision, self.device, cfg.arch)}), "
                      f"{len(self.dataset)} images, {total_kimg(cfg):g} kimg")
            self._emit(PhaseEvent(0.0, pt.phase, pt.resolution, growth=False))
            self._write_samples(pt)
        tick_images_start, tick_time_start = self.images_seen, time.perf_counter()
        reason = None
        last_pt = pt
        while True:
            # ---- safe point: between steps
            if control.paused and not control.stop_requested and not self.dist.active:
                self._emit(PausedEvent(True, self.images_seen / 1000.0))
                paused_at = time.perf_counter()
                while control.paused and not control.stop_requested:
                    control.wait_while_paused(0.1)
                    if control.take_checkpoint_request():
                        self.wall_s += paused_at - tick_time_start
                        self._tick(last_pt, self.images_seen - tick_images_start, paused_at - tick_time_start)
                        self.save_checkpoint()
                        tick_images_start, tick_time_start = self.images_seen, paused_at
                tick_time_start += time.perf_counter() - paused_at
                self._emit(PausedEvent(False, self.images_seen / 1000.0))
            if control.stop_requested and not self.dist.active:
                reason = "stopped"
                break
            if self._stop_agreed:
                reason = "stopped"
                break
            if self.images_seen >= end_images:
                reason = "max_kimg" if cfg.max_kimg is not None else "completed"
                break

            pt = schedule_at(cfg, self.images_seen)
            if pt.phase_index != self.phase_index:
                growth = pt.level != self.level
                # close the old phase: a tick and the last grid of the old phase
                now = time.perf_counter()
                self.wall_s += now - tick_time_start
                self._tick(last_pt, self.images_seen - tick_images_start, now - tick_time_start)
                self._write_samples(last_pt)
                tick_images_start, tick_time_start = self.images_seen, time.perf_counter()
                self.phase_index = pt.phase_index
                if growth:
                    self.level = pt.level
                    if cfg.reset_optimizer_at_growth:
                        self._make_optimizers()
                self._log(f"{'growing to' if growth else 'stabilizing at'} {pt.resolution}x{pt.resolution} "
                          f"({pt.phase}) at {pt.kimg:.3f} kimg")
                self._emit(PhaseEvent(pt.kimg, pt.phase, pt.resolution, growth))

            if cfg.compile:     # compilation time is reported on its own, not as slow training
                tick_time_start += self._timed_first_step(pt)
            else:
                self._train_step(pt)
            self.images_seen += pt.batch
            self.step += 1
            last_pt = pt             # what the step trained: grids and stats are labelled with it

            save_now = control.take_checkpoint_request() and not self.dist.active
            if self.images_seen >= next_tick or save_now or self.images_seen >= end_images:
                now = time.perf_counter()
                self.wall_s += now - tick_time_start
                self._tick(pt, self.images_seen - tick_images_start, now - tick_time_start)
                tick_images_start, tick_time_start = self.images_seen, time.perf_counter()
                next_tick = next_after(tick_every)
                if self.images_seen >= next_sample:
                    self._write_samples(last_pt)
                    next_sample = next_after(sample_every)
                if next_metric is not None and self.images_seen >= next_metric:
                    self._compute_metric(last_pt)
                    next_metric = next_after(metric_every)
                if self.images_seen >= next_ckpt or save_now:
                    self.save_checkpoint()
                    next_ckpt = next_after(ckpt_every)
                if control.take_snapshot_request():
                    self._emit_snapshot(last_pt)
                if self.dist.active:        # all ranks must leave the loop at the same step
                    self._stop_agreed = self.dist.any(control.stop_requested, self.device)
                tick_time_start = time.perf_counter()      # reporting time is not training time

        # ---- finish: last tick, grid and checkpoint
        now = time.perf_counter()
        self.wall_s += now - tick_time_start
        self._tick(last_pt, self.images_seen - tick_images_start, now - tick_time_start)
        self._write_samples(last_pt)
        self.save_checkpoint()
        kimg = self.images_seen / 1000.0
        # how the run ended is a record too, so a folder opened later says "completed", not "stopped"
        self.run_folder.append_metrics({"kind": "event", "event": "finished", "reason": reason,
                                        "kimg": round(kimg, 3)})
        self._log(describe_ending(reason, kimg))
        self._emit(FinishedEvent(kimg, reason))
        return RunResult(reason, kimg)


def _ram_mb() -> float | None:
    try:
        import psutil
        return round(psutil.Process().memory_info().rss / 2**20, 1)
    except Exception:
        return None
