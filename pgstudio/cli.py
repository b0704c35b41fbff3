"""`pgstudio` command line. With no sub-command it opens the studio window."""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path

from .core.formatting import format_duration


class UserError(Exception):
    """Shown as one line, exit code 2, no traceback."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from .core.storage.checkpoint import CheckpointError
    from .core.data.dataset import DatasetError
    from .core.storage.runfolder import RunFolderError
    from .core.storage.runlock import RunLockedError
    return (UserError, CheckpointError, DatasetError, RunFolderError, RunLockedError)


# --------------------------------------------------------------------------- argument types
def number(kind=float, low: float | None = None, high: float | None = None, low_open: bool = False):
    """An argparse type: a finite ``kind`` within [low, high] (or (low, high] with ``low_open``).

    argparse's own float accepts 'nan' and 'inf', which every range check afterwards lets through.
    """
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(f"{text} must be {'greater than' if low_open else 'at least'} {low:g}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text} must be at most {high:g}")
        return value
    parse.__name__ = kind.__name__     # argparse names the type in its messages
    return parse


def resolution_type(text: str) -> int:
    """A target resolution: a power of two from 4 to 1024, refused on one line otherwise."""
    value = number(int, 4, 1024)(text)
    if value & (value - 1):
        raise argparse.ArgumentTypeError(f"{text} is not a power of two (4, 8, 16, …, 1024)")
    return value


resolution_type.__name__ = "resolution"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors that say what was meant: a mistyped option or command gets
    "did you mean …", and no error prints the whole usage (--help does)."""

    def error(self, message: str):
        hint = self._did_you_mean(message)
        print(f"{self.prog}: error: {message}{hint} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)

    def _did_you_mean(self, message: str) -> str:
        import difflib
        import re
        m = re.search(r"invalid choice: '([^']*)'", message)
        if m:
            choices = []
            for action in self._actions:
                if action.choices:
                    choices += [c for c in action.choices if isinstance(c, str)]
            close = difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.6)
            return f" — did you mean '{close[0]}'?" if close else ""
        m = re.search(r"unrecognized arguments: (.*)", message)
        if m:
            options = _option_strings(self, sys.argv[1:] if _ARGV is None else _ARGV)
            hints = []
            for word in m.group(1).split():
                if word.startswith("-"):
                    close = difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.6)
                    if close:
                        hints.append((word.split("=")[0], close[0]))
            if len(hints) == 1:
                return f" — did you mean {hints[0][1]}?"
            return (" — did you mean " + ", ".join(f"{c} (for {w})" for w, c in hints) + "?") if hints else ""
        return ""


_ARGV: list[str] | None = None         # the arguments main() parses (for the hints of an unknown option)


def _option_strings(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """The options of the command named in ``argv`` (the top level's when it names none)."""
    options = [o for a in parser._actions for o in a.option_strings]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word in argv:
                if word in action.choices:
                    options += [o for a in action.choices[word]._actions for o in a.option_strings]
                    break
    return options


POSITIVE = number(float, 0, low_open=True)
NON_NEGATIVE = number(float, 0)


# --------------------------------------------------------------------------- train / resume
class ProgressPrinter:
    """Progress over kimg with resolution, α, losses, img/s and ETA; log lines printed above it.

    On a terminal a tqdm bar redrawn in place; into a file or a pipe (where every redraw would be
    another line) a plain line at each tenth of the run. Never above 100 %: the last tick may pass
    the end by part of a minibatch, which the line's kimg shows."""

    def __init__(self, start_kimg: float, total_kimg: float, quiet: bool = False):
        from tqdm import tqdm
        self.total = round(total_kimg, 3)
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()
        self.bar = tqdm(total=self.total, initial=min(round(start_kimg, 3), self.total), unit="kimg",
                        dynamic_ncols=True, disable=not self.live, file=sys.stderr,
                        bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} kimg [{elapsed}{postfix}]")
        self.kimg = start_kimg
        self.shown = min(start_kimg, self.total)           # what the bar has counted
        self.tenth = int(10 * start_kimg / self.total) if self.total else 10
        self.last_line = ""

    def __call__(self, event) -> None:
        from .core.training import events as ev
        if isinstance(event, ev.TickEvent):
            tick = event.tick
            self.kimg = tick.kimg
            capped = min(tick.kimg, self.total)
            self.bar.update(max(0.0, capped - self.shown))
            self.shown = max(self.shown, capped)
            state = (f"{tick.resolution}x{tick.resolution} {tick.phase} α={tick.alpha:.2f} D={tick.loss_d:.3f} "
                     f"G={tick.loss_g:.3f} {tick.img_per_s:.0f} img/s ETA {format_duration(event.eta_s)}")
            self.bar.set_postfix_str(state, refresh=True)
            pct = 100 * capped / self.total if self.total else 100
            self.last_line = f"{pct:3.0f}% {tick.kimg:.1f}/{self.total:.1f} kimg {state}"
            tenth = int(pct // 10)
            if not self.live and not self.quiet and tenth > self.tenth:
                self.tenth = tenth
                print(self.last_line, file=sys.stderr, flush=True)
        elif isinstance(event, (ev.LogEvent, ev.CheckpointEvent)):
            msg = event.message if isinstance(event, ev.LogEvent) else f"checkpoint {event.path}"
            self.write(msg)
        # an ErrorEvent is not written here: _drive prints the run's error once, on stderr

    def write(self, message: str, file=None) -> None:
        if self.live:
            self.bar.write(message, file=file or sys.stdout)
        else:
            print(message, file=file or sys.stdout, flush=True)

    def close(self) -> None:
        self.bar.close()


def _run_stopping_on_ctrl_c(trainer, printer):
    """Run a trainer in this thread; the first Ctrl-C stops at a safe point with a checkpoint,
    a second aborts (KeyboardInterrupt). Returns its RunResult."""
    def on_sigint(signum, frame):
        if trainer.control.stop_requested:
            raise KeyboardInterrupt
        printer.write("stopping after this step (Ctrl-C again to abort without a checkpoint)…")
        trainer.control.request_stop()
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        result = trainer.run()
        if result.reason != "error":      # after an error a peer may be gone: no barrier then
            trainer.dist.shutdown()
    finally:
        signal.signal(signal.SIGINT, previous)
        printer.close()
    return result


def _drive(trainer, printer) -> int:
    """Run a trainer (see above); its error on stderr, or its folder; the exit code."""
    result = _run_stopping_on_ctrl_c(trainer, printer)
    if result.reason == "error":
        print(f"pgstudio: error: {result.error}", file=sys.stderr)
        return 1
    print(f"run folder: {trainer.run_folder.path}")      # how it ended is in the log lines above
    return 0


def _relaunch_with_torchrun(gpus: int) -> int:
    """`--gpus N`: run this same command under torchrun with N processes (one per GPU)."""
    argv = []
    skip = False
    for a in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if a == "--gpus":
            skip = True
            continue
        if a.startswith("--gpus="):
            continue
        argv.append(a)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}",
           "-m", "pgstudio", *argv]
    import subprocess

    import torch
    env = dict(os.environ)
    # torchrun gives each process one thread when OMP_NUM_THREADS is unset, which leaves cores idle
    # on a CPU-only machine: split this machine's threads among the processes instead
    if "OMP_NUM_THREADS" not in env and not torch.cuda.is_available():
        env["OMP_NUM_THREADS"] = str(max(1, torch.get_num_threads() // gpus))
    return subprocess.call(cmd, env=env)


def _join_distributed(args) -> None:
    """Under torchrun, join the process group; only rank 0 draws a progress bar."""
    from .core.training.distributed import init_from_environment
    if not init_from_environment().is_main:
        args.quiet = True


def cmd_train(args) -> int:
    import torch
    if getattr(args, "gpus", None) and args.gpus > 1 and "WORLD_SIZE" not in os.environ:
        return _relaunch_with_torchrun(args.gpus)
    _join_distributed(args)
    from .core.config import ADA_TARGETS
    from .core.presets import PRESETS, preset_config
    from .core.training.schedule import total_kimg
    from .core.training.trainer import Trainer

    origin = None
    overrides = {"demo": bool(args.demo), "data": str(Path(args.data).expanduser().resolve()) if args.data else None}
    if args.init:          # the trained model's architecture, unless this command gives its own
        from .core.training.transfer import matching_settings, read_origin
        origin = read_origin(args.init)
        _report_skipped(origin)
        overrides.update(matching_settings(origin))
    elif args.freeze_d:
        raise UserError("--freeze-d keeps a trained discriminator's blocks: give the model to start from with --init")
    origin_preset = origin.config.preset if origin is not None and origin.config is not None else None
    preset = args.preset or (origin_preset if origin_preset in PRESETS else None) \
        or ("paper" if torch.cuda.is_available() and args.device != "cpu" else "laptop")
    if args.recipe:              # a paper's preset: its family unless --arch names another
        from .core.families import family_with_paper
        owner = family_with_paper(args.recipe)
        if args.preset:
            raise UserError("--recipe is a preset of its own: give --recipe or --preset, not both")
        if args.arch and args.arch != owner.name:
            raise UserError(f"--recipe {args.recipe} trains the {owner.name} family (--arch {owner.name}), "
                            f"not {args.arch}")
        preset, overrides["arch"] = args.recipe, owner.name
    for name in ("arch", "resolution", "loss", "r1_gamma", "seed", "device", "precision", "mode", "channels",
                 "max_kimg", "augment", "augment_p", "ada_signal", "ada_target", "classes", "metric_kimg",
                 "metric_n", "resample", "d_block"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.ada_signal is not None and args.ada_target is None:     # the target that signal is measured with
        overrides["ada_target"] = ADA_TARGETS[args.ada_signal]
    if args.metric is not None:
        overrides["metric_kind"] = args.metric
    if args.compile:
        overrides["compile"] = True
    if args.balance_classes:
        overrides["balance_classes"] = True
    if args.phase_kimg is not None:
        overrides["stabilize_kimg"] = overrides["fade_kimg"] = args.phase_kimg
    try:
        cfg = preset_config(preset, **overrides)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if origin is not None:
        from .core.training.transfer import configured
        cfg = configured(cfg, origin, args.freeze_d or 0)
    from .core.validation import config_messages
    problems = config_messages(cfg)
    if problems:
        raise UserError("; ".join(problems))
    from .core.families import family
    fam = family(cfg.arch)
    for flag, setting in (("--resample", "resample"), ("--d-block", "d_block")):   # one family's choices
        if getattr(args, setting) is not None and setting not in fam.own_settings:
            raise UserError(f"{flag} is not a choice of {fam.title} (--arch {cfg.arch}): it would change nothing")
    # what opening chose (augment auto, the model it starts from) is logged; shown unless --quiet
    trainer = Trainer.new(args.out, cfg, origin=origin, on_event=None if args.quiet else _print_note)
    printer = ProgressPrinter(0.0, total_kimg(cfg), args.quiet)
    trainer.on_event = printer
    print(trainer.dataset.report.text().splitlines()[0])
    from .core.training.advice import small_data_warning
    warning = small_data_warning(trainer.cfg, len(trainer.dataset))
    if warning:                  # said before the first step, where a wrong folder is still cheap to stop
        printer.write(f"pgstudio: warning: {warning} Ctrl-C stops the run.", file=sys.stderr)
    return _drive(trainer, printer)


def cmd_queue(args) -> int:
    """Build a queue (presets × seeds on one data set) or continue one, and train it run by run."""
    from .core.training.run_queue import QueueError, RunQueue, plan
    creating = any(getattr(args, k) is not None for k in ("data", "recipes", "seeds", "resolution", "max_kimg",
                                                          "arch", "metric_kimg")) or args.demo
    try:
        if RunQueue.exists(args.queue):
            if creating:
                raise UserError(f"{args.queue} already holds a queue: run `pgstudio queue {args.queue}` to continue "
                                "it, or build a new one in another folder")
            queue = RunQueue(args.queue)
        elif args.list:
            raise UserError(f"{args.queue}: no queue here")
        else:
            if not (args.data or args.demo):
                raise UserError("a new queue needs its data: --data DIR or --demo")
            from .core.presets import preset_config
            base = {"demo": bool(args.demo), "data": str(Path(args.data).expanduser().resolve()) if args.data else None}
            for name in ("arch", "resolution", "max_kimg", "device", "metric_kimg"):
                if getattr(args, name) is not None:
                    base[name] = getattr(args, name)
            recipes = [r.strip() for r in (args.recipes or "").split(",") if r.strip()]
            seeds = [int(s) for s in (args.seeds or "").split(",") if s.strip()] or None
            cfg = preset_config("laptop", **base)
            runs = plan(cfg, recipes or None, seeds)
            from .core.validation import config_messages
            for run in runs:
                problems = config_messages(run.train_config())
                if problems:
                    raise UserError(f"{run.name}: " + "; ".join(problems))
            queue = RunQueue.create(args.queue, runs)
    except (QueueError, ValueError) as exc:
        raise UserError(str(exc)) from None
    print(queue.describe())
    if args.list:
        return 0

    def announce(run, index: int) -> None:
        print(f"[{index + 1}/{len(queue.runs)}] {run.name} ({run.state}) → {queue.run_folder(run)}", flush=True)
    try:
        counts = queue.train(on_run=announce, drive=_queue_driver(args.quiet))
    except KeyboardInterrupt:
        print(queue.describe())
        return 130
    print(queue.describe())
    return 1 if counts.get("failed") else 0


def _queue_driver(quiet: bool):
    """One queued run in this thread, with the CLI's progress bar and Ctrl-C handling."""
    from .core.training.schedule import total_kimg

    def drive(trainer):
        printer = ProgressPrinter(trainer.images_seen / 1000, total_kimg(trainer.cfg), quiet)
        trainer.on_event = printer
        result = _run_stopping_on_ctrl_c(trainer, printer)
        if result.reason == "error":
            print(f"pgstudio: error: {result.error}", file=sys.stderr)
        return result
    return drive


def cmd_resume(args) -> int:
    if getattr(args, "gpus", None) and args.gpus > 1 and "WORLD_SIZE" not in os.environ:
        return _relaunch_with_torchrun(args.gpus)
    _join_distributed(args)
    from .core.training.schedule import total_kimg
    from .core.training.trainer import Trainer
    if not Path(args.run).is_dir():
        raise UserError(f"{args.run}: no such run folder")
    # what resuming had to say (a damaged checkpoint skipped, a stale lock taken over, …) before the bar
    trainer = Trainer.resume(args.run, checkpoint=args.checkpoint, max_kimg=args.max_kimg,
                             lr_scale=args.lr_scale, take_over=args.take_over,
                             on_event=_print_note)
    if trainer.images_seen >= total_kimg(trainer.cfg) * 1000:
        trainer.close()
        raise UserError(f"the run already reached {trainer.images_seen / 1000:.3f} kimg; "
                        "give a larger --max-kimg to train further")
    printer = ProgressPrinter(trainer.images_seen / 1000, total_kimg(trainer.cfg), args.quiet)
    trainer.on_event = printer
    return _drive(trainer, printer)


def cmd_branch(args) -> int:
    from .core.storage.continuing import branch_from, run_of
    if not Path(args.checkpoint).is_file():
        raise UserError(f"{args.checkpoint}: no such checkpoint file")
    parent = args.into or run_of(args.checkpoint).path.parent
    plan = branch_from(args.checkpoint, parent, args.name)
    print(f"branched run: {plan.run.path}\ncontinue it with: pgstudio resume {plan.run.path}")
    return 0


def _print_note(event) -> None:
    message = getattr(event, "message", None)
    if message:
        print(message, file=sys.stderr)


def _report_skipped(loaded) -> None:
    for path, why in loaded.skipped:
        print(f"note: skipped unusable checkpoint {path.name}: {why}", file=sys.stderr)


# --------------------------------------------------------------------------- generate / swd / import
def cmd_generate(args) -> int:
    import torch
    from .core.analysis.export import save_png
    from .core.models import render_for_user
    from .core.data.images import make_grid
    from .core.analysis.latents import sample_latents
    from .core.models import load_generator

    from .core.analysis.export import image_suffix_problem
    problem = image_suffix_problem(args.out)
    if problem:                       # before the model loads: nothing to wait for to hear it
        raise UserError(problem)
    loaded = load_generator(args.source)
    _report_skipped(loaded)
    G = loaded.generator
    names = list(getattr(G, "class_names", None) or [])
    labels, count = _generate_labels(names, args)
    z = sample_latents(count, G.latent_size, _z_truncation(loaded, args.truncation),
                       torch.Generator().manual_seed(args.seed))
    images = render_for_user(G, z, loaded.level, loaded.alpha, args.truncation, args.noise, labels=labels)
    out = Path(args.out)
    provenance = {"source": str(loaded.source), "kimg": loaded.kimg, "seed": args.seed}
    if args.grid or count == 1:
        cols = args.per_class if args.per_class and names else None
        pic = make_grid(images, cols=cols, pad=1) if count > 1 else images[0]
        if labels is not None:
            provenance["classes"] = sorted({names[int(c)] for c in labels})
        written = [save_png(pic, out, provenance)]
    else:
        written = [save_png(img, out.with_name(f"{out.stem}-{i:03d}{out.suffix or '.png'}"),
                            {**provenance, "index": i, **({"class": names[int(labels[i])]} if labels is not None else {})})
                   for i, img in enumerate(images)]
    drawn = ""
    if labels is not None:
        used = sorted({int(c) for c in labels})
        drawn = f", class{'es' if len(used) > 1 else ''} " + ", ".join(names[c] for c in used)
    print(f"{len(images)} image(s) at {loaded.resolution}x{loaded.resolution} (α={loaded.alpha:.2f}, "
          f"{loaded.kimg:.1f} kimg, {loaded.source.name}{drawn}) → "
          f"{written[0] if len(written) == 1 else f'{written[0]} … {written[-1]}'}")
    return 0


def _generate_labels(names: list[str], args):
    """(labels or None, how many images) for `generate`: one class, N of every class, or — on a
    conditional generator given neither — the classes in turn, said on stderr."""
    import torch
    from .core.networks.conditioning import cycled_labels
    from .core.training.class_choice import class_index
    if not names:
        if args.class_ is not None or args.per_class:
            raise UserError(f"{args.source}: the generator is unconditional; --class and --per-class need one "
                            "trained with classes")
        return None, args.n
    if args.per_class:
        if args.class_ is not None:
            raise UserError("give --class (that class only) or --per-class (every class), not both")
        return torch.arange(len(names)).repeat_interleave(args.per_class), args.per_class * len(names)
    if args.class_ is not None:
        try:
            return torch.full((args.n,), class_index(names, args.class_)), args.n
        except ValueError as exc:
            raise UserError(str(exc)) from None
    print(f"note: a conditional generator: the images cycle through its {len(names)} classes "
          f"({', '.join(names)}); choose one with --class NAME", file=sys.stderr)
    return cycled_labels(args.n, len(names)), args.n


def _z_truncation(loaded, psi: float | None) -> float | None:
    """ψ truncates z for a family explored in z; one explored in w (StyleGAN, StyleGAN2) applies it in w instead."""
    if loaded.family.latent_space == "w":
        return None
    if psi is not None and psi <= 0:
        raise UserError("--truncation must be positive for a progressive generator")
    return psi


def _score(args, desc: str, unit: str, score, errors: tuple = (ValueError,)) -> dict:
    """``score(source, progress)`` of the command's CKPT|RUN with a progress bar (none with
    --json); the errors it names become one-line user errors."""
    from tqdm import tqdm
    from .core.models import load_generator

    loaded = load_generator(args.source)
    _report_skipped(loaded)
    bar = tqdm(total=None, desc=desc, disable=args.json, unit=unit)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
    try:
        return score(loaded.source, progress)
    except errors as exc:
        raise UserError(str(exc)) from None
    finally:
        bar.close()


def _record_score(record: dict) -> None:
    """Every number the studio computes is a record in its run: a score of a run's checkpoint goes
    into that run's metrics.jsonl (as the Checkpoints page's do), unless a trainer is writing it."""
    from .core.storage.runfolder import RunFolder
    ckpt = Path(record["checkpoint"])
    run = RunFolder(ckpt.parent.parent)
    if ckpt.parent.name != "checkpoints" or not run.is_run():
        return                                   # an export or a loose checkpoint: nothing to add to
    why_not = run.append_score({**record, "source": "cli", "checkpoint": ckpt.name})
    if why_not:
        print(f"note: not recorded in {run.metrics_path}: {why_not}", file=sys.stderr)


def cmd_swd(args) -> int:
    from .core.analysis.checkpoint_swd import score_checkpoint

    record = _score(args, "MS-SWD", "chunk", lambda source, progress: score_checkpoint(
        source, args.n, args.seed, args.data, args.demo, progress, class_name=args.class_))
    _record_score(record)
    if record["n"] < args.n:
        print(f"note: the data set has fewer than {2 * args.n} images; used n={record['n']} so that the "
              "real-vs-real floor uses a disjoint second set", file=sys.stderr)
    if args.json:
        print(json.dumps(record))
    else:
        levels = ", ".join(f"{r}: {v:.2f}" for r, v in zip(record["level_resolutions"], record["levels"]))
        which = f" for class {record['class']}" if "class" in record else ""
        print(f"MS-SWD x1000{which} at {record['resolution']}x{record['resolution']}, n={record['n']}: mean "
              f"{record['mean']:.2f} (levels {levels}); real-vs-real floor {record['floor']:.2f}")
    return 0


def cmd_fid(args) -> int:
    from .core.analysis import inception
    from .core.analysis.checkpoint_fid import score_checkpoint_fid
    from .core.training.device import resolve_device

    device = resolve_device(args.device)
    record = _score(args, "Inception features", "img", lambda source, progress: score_checkpoint_fid(
        source, args.n, args.seed, args.data, args.demo, with_pr=args.pr, device=device, progress=progress,
        class_name=args.class_), errors=(ValueError, inception.FeatureNetworkMissing))
    _record_score(record)
    if args.json:
        print(json.dumps(record))
        return 0
    r = record
    which = f" for class {r['class']}" if "class" in r else ""
    print(f"FID{which} at {r['resolution']}x{r['resolution']}, {r['n']} fakes vs {r['n']} reals: {r['fid']:.2f} "
          f"(real-vs-real floor {r['floor_fid']:.2f}, {r['n_floor']} other reals)")
    if args.kid:
        # with every image in each subset (n ≤ 1,000) the subsets are alike and the spread says nothing
        spread = (lambda key: f" ± {1000 * r[key]:.2f}" if r[key] > 0 else "")
        print(f"KID x1000: {1000 * r['kid']:.2f}{spread('kid_std')} "
              f"(floor {1000 * r['floor_kid']:.2f}{spread('floor_kid_std')})")
    if args.pr:
        print(f"precision {r['precision']:.3f}, recall {r['recall']:.3f} (floor {r['floor_precision']:.3f}, "
              f"{r['floor_recall']:.3f}), k=3 on Inception features (the paper uses VGG-16)")
    if "note" in r:
        print(f"note: {r['note']}", file=sys.stderr)
    return 0


def cmd_project(args) -> int:
    from tqdm import tqdm
    from .core.analysis import inception
    from .core.analysis.projection import Projection, projection_inputs
    from .core.analysis.projection_files import provenance, write_projection
    from .core.training.device import resolve_device

    if not Path(args.image).is_file():
        raise UserError(f"{args.image}: no such image file")
    device = resolve_device(args.device)
    try:
        inputs = projection_inputs(args.source, args.image, args.class_, device)
        _report_skipped(inputs.loaded)
        loaded = inputs.loaded
        job = Projection(loaded.generator, loaded.level, loaded.alpha, inputs.target, args.space,
                         discriminator=inputs.discriminator, labels=inputs.label, steps=args.steps,
                         starts=args.starts, seed=args.seed, optimise_noise=args.optimise_noise,
                         use_inception=args.inception, device=device)
    except (ValueError, inception.FeatureNetworkMissing) as exc:
        raise UserError(str(exc)) from None
    if inputs.discriminator is None and not args.inception:
        print(f"note: {loaded.source} holds no discriminator (a generator export): the loss is the "
              "multi-scale pixel loss alone", file=sys.stderr)
    frames = []
    bar = tqdm(total=args.steps, desc=f"projecting into {job.space}", disable=args.quiet, unit="step")

    def progress(step: int, total: int, loss: float, image) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")
        if image is not None:
            frames.append(image)
    try:
        result = job.run(progress, preview_every=max(1, args.steps // 60))
    except KeyboardInterrupt:
        raise UserError("projection interrupted") from None
    finally:
        bar.close()
    meta = provenance(result, loaded.source, Path(args.image).resolve(), inputs.class_name, job.loss_kind)
    written = write_projection(result, inputs.target, args.out, meta, frames)
    which = f", class {inputs.class_name}" if inputs.class_name else ""
    print(f"projected {Path(args.image).name} into {result.space}{which} in {result.steps_done} steps "
          f"({result.seconds:.1f} s, {job.loss_kind}): PSNR {result.psnr:.2f} dB, pixel MSE {result.pixel_mse:.4f}"
          + (f", feature distance {result.perceptual:.4f}" if result.perceptual is not None else ""))
    print(f"wrote {', '.join(p.name for p in written.values())} to {Path(args.out)}")
    return 0


def cmd_import(args) -> int:
    from tqdm import tqdm
    from .core.data.dataset import import_folder
    bar = tqdm(desc="importing", unit="file")

    def progress(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()
    try:
        dataset = import_folder(args.folder, args.resolution, args.mode, args.channels, progress=progress)
    finally:
        bar.close()
    print(dataset.report.text())
    return 0


def _parse_seeds(text: str, least: int = 2) -> list[int]:
    try:
        seeds = [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise UserError(f"--seeds must be integers separated by commas (got {text!r})") from None
    if len(seeds) < least:
        raise UserError("--seeds needs at least two keyframe seeds, e.g. --seeds 1,2,3")
    return seeds


def cmd_interpolate(args) -> int:
    from tqdm import tqdm
    from .core.storage.disk import ensure_writable
    from .core.analysis.export import upscale_nearest, write_video
    from .core.models import render_for_user
    from .core.analysis.latents import seeded_latents
    from .core.models import load_generator

    if Path(args.out).suffix.lower() not in (".gif", ".mp4"):
        raise UserError("--out must end in .gif or .mp4")
    ensure_writable(Path(args.out).parent)          # before minutes of rendering, not after
    loaded = load_generator(args.source)
    _report_skipped(loaded)
    G = loaded.generator
    if args.space == "w" and loaded.family.latent_space != "w":
        raise UserError("--space w needs a StyleGAN or StyleGAN2 generator (this family has only z)")
    if args.classes:            # one seed, its latent fixed, the label blended from class to class
        path, labels = _class_path(G, loaded, args, seeded_latents)
        draw = lambda batch, at: render_for_user(G, batch, loaded.level, loaded.alpha, args.truncation, args.noise,
                                                 labels=labels[at:at + len(batch)])
    else:
        path, draw = _latent_path(G, loaded, args, seeded_latents)
    size = args.size or max(256, loaded.resolution)
    size += size % 2
    frames = []
    for i in tqdm(range(0, path.shape[0], 32), desc="rendering", unit="batch"):
        for img in draw(path[i:i + 32], i):
            frames.append(upscale_nearest(img, size))
    write_video(frames, args.out, fps=args.fps)
    print(f"{len(frames)} frames at {size}x{size} → {args.out}")
    return 0


def _class_path(G, loaded, args, seeded_latents):
    """`interpolate --classes a,b[,c]`: the latents (one seed's, repeated) and the class-weight rows
    blending a → b → c, frames per segment as for seeds."""
    from .core.analysis.latents import class_blend_path
    from .core.training.class_choice import class_index
    names = list(getattr(G, "class_names", None) or [])
    if not names:
        raise UserError(f"{args.source}: the generator is unconditional; --classes needs one trained with classes")
    try:
        chosen = [class_index(names, c.strip()) for c in args.classes.split(",") if c.strip()]
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if len(chosen) < 2:
        raise UserError("--classes needs two or more classes, e.g. --classes rose,tulip")
    seeds = _parse_seeds(args.seeds, least=1)
    if len(seeds) != 1:
        raise UserError("with --classes, give one seed (--seeds 7): its image is blended from class to class")
    labels = class_blend_path(chosen, len(names), args.frames, loop=args.loop)
    z = seeded_latents(seeds, G.latent_size, _z_truncation(loaded, args.truncation))
    return z.expand(len(labels), -1).contiguous(), labels


def _latent_path(G, loaded, args, seeded_latents):
    from .core.models import render_for_user
    from .core.analysis.latents import interpolation_path
    from .core.analysis.style_space import interpolate_w, map_to_w, render_w
    keys = seeded_latents(_parse_seeds(args.seeds), G.latent_size, _z_truncation(loaded, args.truncation))
    if args.space == "w":       # lerp between the keyframes' w
        path = interpolate_w(map_to_w(G, keys, 1.0 if args.truncation is None else args.truncation),
                             args.frames, loop=args.loop)
        return path, lambda batch, at: render_w(G, batch, args.noise)
    path = interpolation_path(keys, args.frames, loop=args.loop)
    return path, lambda batch, at: render_for_user(G, batch, loaded.level, loaded.alpha, args.truncation, args.noise)


def cmd_timelapse(args) -> int:
    from .core.storage.disk import ensure_writable
    from .core.analysis.export import timelapse_frames, write_video
    from .core.storage.runfolder import RunFolder
    if Path(args.out).suffix.lower() not in (".gif", ".mp4"):
        raise UserError("--out must end in .gif or .mp4")
    ensure_writable(Path(args.out).parent)
    run = RunFolder(args.run)
    if not run.is_run():
        raise UserError(f"{args.run}: not a pgstudio run folder")
    frames = timelapse_frames(run, args.size)
    write_video(frames, args.out, fps=args.fps)
    print(f"{len(frames)} grids → {args.out}")
    return 0


def cmd_export(args) -> int:
    from .core.analysis.export import export_generator
    from .core.models import load_generator
    loaded = load_generator(args.source)
    _report_skipped(loaded)
    out = export_generator(loaded, args.out)
    print(f"EMA generator ({loaded.resolution}x{loaded.resolution}, α={loaded.alpha:.2f}, {loaded.kimg:.1f} kimg) "
          f"→ {out}/generator.safetensors + generator.json")
    return 0


def cmd_gui(args) -> int:
    from .qt_platform import window_problem
    problem = window_problem()      # before Qt loads: a missing xcb library aborts QApplication itself
    if problem:
        raise UserError(problem)
    path = getattr(args, "run", None)
    if path is not None and not Path(path).is_dir():
        raise UserError(f"{path}: no such folder (give a run folder or a folder of images)")
    try:
        from .gui.app import main as gui_main
    except ImportError as exc:
        raise UserError(f"the studio window cannot start: {exc} (the command-line tools still work: "
                        "pgstudio --help)") from None
    return gui_main(path)


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from .core.config import (ADA_SIGNALS, ADA_TARGETS, AUGMENT_CHOICES, CLASS_CHOICES, CHANNELS, DEVICES, LOSSES, METRIC_KINDS, MODES,
                              PRECISIONS)
    from .core.families import FAMILIES
    from .core.families.stylegan2.discriminator import D_BLOCKS
    from .core.presets import PRESETS
    from .core.training.augment_choice import ADA_BELOW_IMAGES, NARROW_D_FMAPS
    from .core.analysis.metrics import MIN_IMAGES
    from . import __version__
    p = Parser(prog="pgstudio", description="Train and explore Progressive Growing GANs. "
               "With no command, opens the studio window; `pgstudio RUN` opens a run folder, `pgstudio DIR` "
               "a folder of images on the Dataset page.")
    p.add_argument("--version", action="version", version=f"pgstudio {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    t = sub.add_parser("train", help="train a new run (headless)")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="DIR", help="folder of images (searched recursively)")
    src.add_argument("--demo", action="store_true", help="the built-in colour emoji set")
    t.add_argument("--out", required=True, metavar="RUN", help="new run folder")
    t.add_argument("--arch", choices=tuple(FAMILIES), help="progressive (default: PGGAN, grows 4x4 → target), "
                   "stylegan (2019: grows too, AdaIN styles), stylegan2, classic (the survey's GANs; see --recipe) "
                   "or biggan (class-conditional by sub-folders); the last three at a fixed resolution with the "
                   "same image budget by default")
    t.add_argument("--resolution", type=resolution_type, help="target resolution, a power of two (4..1024)")
    t.add_argument("--phase-kimg", type=POSITIVE, help="kimg of each stabilize and each fade phase")
    t.add_argument("--max-kimg", type=POSITIVE, help="stop (with a checkpoint) after this many kimg in total")
    t.add_argument("--loss", choices=LOSSES)
    t.add_argument("--resample", choices=("nearest", "fir"),
                   help="progressive family: how G doubles its maps: fir (default), zeros between pixels and "
                        "StyleGAN2's [1,3,3,1] low-pass, or nearest, the paper's pixel repetition (it leaves "
                        "lines along the axes in small runs: docs/faithful.md)")
    t.add_argument("--d-block", choices=D_BLOCKS,
                   help="stylegan2: how each D block halves its map: blur-stride (default, the official block: "
                        "blur at full resolution, stride-2 3x3 conv, bias-free skip) or fir-then-conv (downsample "
                        "first, then the conv: pgstudio's earlier block; better at 16² in short CPU runs, mixed "
                        "at 32²: docs/faithful.md)")
    t.add_argument("--r1-gamma", type=NON_NEGATIVE, metavar="GAMMA", help="R1 weight γ for logistic/hinge (0: off)")
    t.add_argument("--preset", choices=sorted(PRESETS),
                   help="laptop (default without a GPU) or paper (default with one)")
    papers = {name: paper for fam in FAMILIES.values() for name, paper in fam.papers.items()}
    t.add_argument("--recipe", choices=list(papers), metavar="NAME",
                   help="a paper's model and settings (--arch classic): " +
                        ", ".join(f"{name} ({p.title}, {p.citation})" for name, p in papers.items()))
    t.add_argument("--seed", type=int)
    t.add_argument("--device", choices=DEVICES)
    t.add_argument("--precision", choices=PRECISIONS,
                   help="auto (default): bf16 autocast on CUDA and on CPUs with native bf16 (AVX512-BF16, AMX), "
                        "fp32 elsewhere")
    t.add_argument("--augment", choices=AUGMENT_CHOICES,
                   help=f"augment every image D sees: auto (default: ada below {ADA_BELOW_IMAGES:,} images for networks "
                        f"wider than {NARROW_D_FMAPS} feature maps, off above and for the laptop preset's), off, "
                        "fixed (p = --augment-p) or ada (p adapts to D's overfitting)")
    t.add_argument("--augment-p", type=number(float, 0.0, 1.0), metavar="P",
                   help="the fixed p, or ada's starting p (default 0)")
    t.add_argument("--ada-signal", choices=ADA_SIGNALS,
                   help="what ada reads as overfitting: rv (the presets' default: D's train-vs-held-out gap over "
                        "its real-vs-fake gap, with 5%% of the images held out of training) or rt (E[sign D(reals)], "
                        "ADA's published default; needs no held-out images, not with wgan-gp)")
    t.add_argument("--ada-target", type=number(float, 0.0, 1.0), metavar="T",
                   help=f"ada keeps its signal at this (default: r_v {ADA_TARGETS['rv']:g}, r_t {ADA_TARGETS['rt']:g})")
    t.add_argument("--init", metavar="CKPT|RUN|EXPORT",
                   help="transfer learning: start G, D and the EMA generator from a trained model (a checkpoint, "
                        "a run folder's newest, or a generator export: then D starts fresh); its architecture "
                        "is used, and a progressive model starts at the level it reached")
    t.add_argument("--freeze-d", type=number(int, 0), metavar="K",
                   help="with --init: keep D's K highest-resolution blocks (fromRGB included) frozen (FreezeD)")
    t.add_argument("--classes", choices=CLASS_CHOICES,
                   help="class-conditional training on the folder's first-level sub-folders: auto (default: on "
                        "with two or more and no image beside them), on or off")
    t.add_argument("--balance-classes", action="store_true",
                   help="draw the classes evenly (reals and the fakes' labels) instead of by image count")
    t.add_argument("--metric", choices=METRIC_KINDS,
                   help="the metric computed every --metric-kimg: swd (MS-SWD, default) or fid (FID and KID on "
                        "Inception features; needs the [fid] extra and costs minutes per evaluation on a CPU)")
    t.add_argument("--metric-kimg", type=NON_NEGATIVE, metavar="KIMG", help="metric interval (default 0: none)")
    t.add_argument("--metric-n", type=number(int, 16), metavar="N", help="images per metric set (default 2048)")
    t.add_argument("--mode", choices=MODES, help="non-square images: crop, pad or stretch")
    t.add_argument("--channels", choices=CHANNELS)
    t.add_argument("--compile", action="store_true",
                   help="torch.compile the networks (recompiles at each growth step; worth it on GPUs)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--gpus", type=number(int, 1), help="train on N processes/GPUs (launches torchrun with DDP-style "
                                            "data parallelism; under torchrun this is read from the environment)")
    t.set_defaults(func=cmd_train)

    r = sub.add_parser("resume", help="continue a run from its newest good checkpoint")
    r.add_argument("run", metavar="RUN")
    r.add_argument("--max-kimg", type=POSITIVE, help="train on to this many kimg in total")
    r.add_argument("--lr-scale", type=POSITIVE, metavar="S",
                   help="multiply the run's learning rates by S from the resumed checkpoint on (cumulative, "
                        "recorded in config.json): how a run gets past a step where training blew up")
    r.add_argument("--take-over", action="store_true",
                   help="resume even though running.json names a trainer on another machine (when it is gone)")
    r.add_argument("--checkpoint", help="a specific checkpoint instead of the newest")
    r.add_argument("--quiet", action="store_true", help="no progress bar (notes and errors are still printed)")
    r.add_argument("--gpus", type=number(int, 1), help="resume on N processes/GPUs (any number works)")
    r.set_defaults(func=cmd_resume)

    q = sub.add_parser("queue", help="train several runs one after another (presets × seeds on one data set)")
    q.add_argument("queue", metavar="QUEUE", help="the queue's folder: each run gets a folder inside it")
    qsrc = q.add_mutually_exclusive_group()
    qsrc.add_argument("--data", metavar="DIR", help="folder of images (a new queue)")
    qsrc.add_argument("--demo", action="store_true", help="the built-in colour emoji set (a new queue)")
    q.add_argument("--recipes", metavar="A,B,…", help="presets to queue, e.g. dcgan,wgan-gp,sngan (a paper's "
                   "preset trains its family; laptop and paper the --arch family)")
    q.add_argument("--seeds", metavar="S,…", help="seeds to queue each preset with, e.g. 0,1,2")
    q.add_argument("--arch", choices=tuple(FAMILIES), help="the family of laptop/paper presets (default progressive)")
    q.add_argument("--resolution", type=resolution_type)
    q.add_argument("--max-kimg", type=POSITIVE, help="every run's image budget")
    q.add_argument("--metric-kimg", type=NON_NEGATIVE, help="MS-SWD every N kimg in every run (0: off)")
    q.add_argument("--device", choices=DEVICES)
    q.add_argument("--list", action="store_true", help="show the queue and its runs' states, train nothing")
    q.add_argument("--quiet", action="store_true", help="no progress bars")
    q.set_defaults(func=cmd_queue)

    b = sub.add_parser("branch", help="a new run folder that starts from one of a run's checkpoints")
    b.add_argument("checkpoint", metavar="CKPT")
    b.add_argument("--into", metavar="FOLDER", help="where the new run folder goes (default: beside the run)")
    b.add_argument("--name", help="the new folder's name (default: RUN-branch-<kimg>kimg)")
    b.set_defaults(func=cmd_branch)

    g = sub.add_parser("generate", help="images from a checkpoint or a run's newest checkpoint")
    g.add_argument("source", metavar="CKPT|RUN")
    g.add_argument("--out", required=True, metavar="FILE.png")
    g.add_argument("--n", type=number(int, 1, 65536), default=16)
    g.add_argument("--seed", type=int, default=0)
    psi_help = ("ψ: a truncated-normal threshold on z, values beyond it redrawn (progressive, classic, BigGAN), or the "
                "pull toward the mean w, 0..1 (StyleGAN2; StyleGAN in its first 8 layers, the paper's cutoff)")
    noise_help = "StyleGAN's and StyleGAN2's noise inputs: const (fixed, default), random or none"
    g.add_argument("--truncation", type=NON_NEGATIVE, metavar="PSI", help=psi_help)
    g.add_argument("--noise", choices=["const", "random", "none"], default="const", help=noise_help)
    g.add_argument("--grid", action="store_true", help="one grid image instead of one file per image")
    g.add_argument("--class", dest="class_", metavar="NAME|INDEX",
                   help="a conditional generator: images of this class (default: its classes in turn)")
    g.add_argument("--per-class", type=number(int, 1, 4096), metavar="N",
                   help="a conditional generator: N images of every class (with --grid, a row per class)")
    g.set_defaults(func=cmd_generate)

    def scoring(name: str, help_text: str, n_type, n_default: int, n_help: str, json_help: str):
        """A command that scores a checkpoint against real images: the options swd and fid share."""
        c = sub.add_parser(name, help=help_text)
        c.add_argument("source", metavar="CKPT|RUN")
        reals = c.add_mutually_exclusive_group()
        reals.add_argument("--data", metavar="DIR", help="real images (default: the ones the run trained on)")
        reals.add_argument("--demo", action="store_true")
        c.add_argument("--n", type=n_type, default=n_default, help=n_help)
        c.add_argument("--seed", type=int, default=0)
        c.add_argument("--json", action="store_true", help=json_help)
        c.add_argument("--class", dest="class_", metavar="NAME|INDEX",
                       help="a conditional generator: score one class (its reals against its fakes)")
        return c

    s = scoring("swd", "multi-scale sliced Wasserstein distance (PGGAN recipe)",
                number(int, MIN_IMAGES), 16384, "images per set (default 16384)", "print one JSON record")
    s.set_defaults(func=cmd_swd)

    f = scoring("fid", "FID (and KID, precision/recall) on Inception features; needs the [fid] extra",
                number(int, 8), 2048, "fakes, and reals per set (capped at half the reals; default 2048)",
                "print one JSON record (every figure computed)")
    f.add_argument("--kid", action="store_true", help="print KID too (the figure to read below 2,048 images)")
    f.add_argument("--pr", action="store_true", help="precision and recall (k=3 nearest neighbours)")
    f.add_argument("--device", choices=DEVICES, default="auto")
    f.set_defaults(func=cmd_fid)

    pj = sub.add_parser("project", help="find the latent that reproduces an image (writes latent, PNGs, loss log, video)")
    pj.add_argument("source", metavar="CKPT|RUN|EXPORT")
    pj.add_argument("image", metavar="IMAGE", help="any size: cropped and resized like the run's data set")
    pj.add_argument("--out", required=True, metavar="DIR")
    pj.add_argument("--steps", type=number(int, 1, 100000), default=300)
    pj.add_argument("--space", choices=["z", "w", "w+"],
                    help="z for a generator explored in z (its only space); w (default) or w+ for StyleGAN and StyleGAN2")
    pj.add_argument("--starts", type=number(int, 1, 64), default=4,
                    help="starting points optimised side by side; the best is kept (default 4)")
    pj.add_argument("--class", dest="class_", metavar="NAME|INDEX", help="a conditional generator's class")
    pj.add_argument("--optimise-noise", action="store_true",
                    help="StyleGAN, StyleGAN2: optimise the noise maps too (regularised; saved to noise.npz — the latent "
                         "alone then gives a slightly different image)")
    pj.add_argument("--inception", action="store_true",
                    help="add Inception features to the loss (the [fid] extra; about a second per step on a CPU)")
    pj.add_argument("--seed", type=int, default=0)
    pj.add_argument("--device", choices=DEVICES, default="auto")
    pj.add_argument("--quiet", action="store_true")
    pj.set_defaults(func=cmd_project)

    i = sub.add_parser("import", help="import a folder into the cache and report on it")
    i.add_argument("folder", metavar="DIR")
    i.add_argument("--resolution", type=resolution_type, default=32)
    i.add_argument("--mode", choices=MODES, default="crop")
    i.add_argument("--channels", choices=CHANNELS, default="auto")
    i.set_defaults(func=cmd_import)

    ip = sub.add_parser("interpolate", help="slerp between seeds into a GIF or MP4")
    ip.add_argument("source", metavar="CKPT|RUN")
    ip.add_argument("--seeds", required=True, help="keyframe seeds, e.g. 1,2,3")
    ip.add_argument("--frames", type=number(int, 1, 100_000), required=True, help="frames per segment")
    ip.add_argument("--out", required=True, metavar="FILE.gif|FILE.mp4")
    ip.add_argument("--loop", action="store_true", help="return to the first seed")
    ip.add_argument("--truncation", type=NON_NEGATIVE, metavar="PSI", help=psi_help)
    ip.add_argument("--noise", choices=["const", "random", "none"], default="const", help=noise_help)
    ip.add_argument("--space", choices=["z", "w"], default="z", help="slerp in z, or lerp in w (StyleGAN, StyleGAN2)")
    ip.add_argument("--classes", metavar="A,B[,C…]",
                    help="a conditional generator: one seed's image blended from class to class (the label "
                         "embeddings interpolated), e.g. --seeds 7 --classes rose,tulip")
    ip.add_argument("--size", type=number(int, 2, 8192), help="frame size in pixels (nearest-neighbour upscaling)")
    ip.add_argument("--fps", type=number(float, 0, 1000, low_open=True), default=24)
    ip.set_defaults(func=cmd_interpolate)

    tl = sub.add_parser("timelapse", help="the run's sample grids as a video")
    tl.add_argument("run", metavar="RUN")
    tl.add_argument("--out", required=True, metavar="FILE.mp4|FILE.gif")
    tl.add_argument("--fps", type=number(float, 0, 1000, low_open=True), default=8)
    tl.add_argument("--size", type=number(int, 2, 8192), help="common frame size (default: the largest grid)")
    tl.set_defaults(func=cmd_timelapse)

    ex = sub.add_parser("export", help="EMA generator as safetensors + JSON")
    ex.add_argument("source", metavar="CKPT|RUN")
    ex.add_argument("--out", required=True, metavar="DIR")
    ex.set_defaults(func=cmd_export)

    w = sub.add_parser("gui", help="open the studio window (the default)")
    w.add_argument("run", nargs="?", metavar="RUN|DIR",
                   help="a run folder to open, or a folder of images to choose on the Dataset page")
    w.set_defaults(func=cmd_gui)
    return p


def _describe_os_error(exc: OSError) -> str:
    from .core.storage.disk import DiskWriteError
    if isinstance(exc, DiskWriteError):
        return str(exc)
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _folder_as_gui(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """`pgstudio DIR` is `pgstudio gui DIR`: a first word that is no command but a folder opens it."""
    commands = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if argv and not argv[0].startswith("-") and argv[0] not in commands and os.path.isdir(argv[0]):
        return ["gui", *argv]
    return argv


def main(argv: list[str] | None = None) -> int:
    global _ARGV
    parser = build_parser()
    argv = _folder_as_gui(list(sys.argv[1:] if argv is None else argv), parser)
    _ARGV = argv
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # --help (0) or a refused argument (2, already explained)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        args.func = cmd_gui
    try:
        return args.func(args)
    except _user_errors() as exc:
        print(f"pgstudio: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"pgstudio: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:      # a DiskWriteError says which file and why; any other names its file
        print(f"pgstudio: error: {_describe_os_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pgstudio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
