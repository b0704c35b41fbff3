"""Faults as they really happen: a full disk, a read-only folder, poisoned and foreign checkpoints,
torn and foreign lines, two trainers on one folder, bad numbers, broken links, a package install."""
import errno
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import torch

from pgstudio.cli import main
from pgstudio.core.storage import disk
from pgstudio.core.training import events as ev
from pgstudio.core.storage.checkpoint import CheckpointError, load_checkpoint, non_finite_tensors
from pgstudio.core.data.dataset import import_folder
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.storage.runlock import RunLock, RunLockedError
from pgstudio.core.config import STALL_FRACTION
from pgstudio.core.training.trainer import Trainer
from tests.conftest import draw_shapes, tiny_config
from pgstudio.core.validation import config_messages

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def finished(tmp_path_factory, shapes_folder):
    """A finished tiny run with several checkpoints (copied by each test that changes it)."""
    out = tmp_path_factory.mktemp("hard") / "run"
    cfg = tiny_config(shapes_folder, max_kimg=0.3, checkpoint_kimg=0.128)
    assert Trainer.new(out, cfg).run().reason == "max_kimg"
    return out


@pytest.fixture
def run_copy(finished, tmp_path):
    import shutil
    target = tmp_path / "run"
    shutil.copytree(finished, target)
    return target


def one_error_line(err: str) -> str:
    """stderr of a failed command: exactly one line, no traceback."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


# --------------------------------------------------------------------------- 1. poisoned state
def test_inf_in_an_optimizer_moment_stops_training_and_saves_nothing_poisoned(tmp_path, tiny_cfg):
    seen = []
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(checkpoint_kimg=0.064), on_event=seen.append)
    real_step = t.opt_d.step
    calls = {"n": 0}

    def step_then_poison(*args, **kwargs):       # what an overflowing squared gradient leaves behind
        out = real_step(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 10:
            state = next(iter(t.opt_d.state.values()))
            state["exp_avg_sq"].view(-1)[0] = float("inf")
        return out
    t.opt_d.step = step_then_poison
    result = t.run()
    assert result.reason == "error"
    assert "discriminator weights or optimizer state at step 9" in result.error
    assert "exp_avg_sq of" in result.error and "--lr-scale 0.5" in result.error
    assert [e.kind for e in seen if isinstance(e, ev.ErrorEvent)] == ["nonfinite"]
    for path in RunFolder(tmp_path / "run").checkpoints():
        state = load_checkpoint(path)               # every one that was written is clean
        assert state["step"] <= 9 and not non_finite_tensors(state)


def test_a_non_finite_weight_is_caught_by_the_tick_check(tmp_path, tiny_cfg):
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(checkpoint_kimg=0.064))
    real_step = t.opt_g.step
    calls = {"n": 0}

    def step_then_poison(*args, **kwargs):      # a weight, not a moment: the per-tick full check
        out = real_step(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 6:
            with torch.no_grad():
                next(iter(t.G.parameters())).view(-1)[0] = float("nan")
        return out
    t.opt_g.step = step_then_poison
    result = t.run()
    assert result.reason == "error" and "generator weights or optimizer state" in result.error
    first_weight = next(iter(n for n, _ in t.G.named_parameters()))
    assert f"generator: {first_weight}" in result.error
    assert all(load_checkpoint(p)["step"] < 6 for p in RunFolder(tmp_path / "run").checkpoints())


def test_finite_watch_flags_each_group():
    from pgstudio.core.training.health import FiniteWatch
    nets = [torch.nn.Linear(3, 2), torch.nn.Linear(2, 2)]
    opts = [torch.optim.Adam(n.parameters()) for n in nets]
    for n, o in zip(nets, opts):
        n(torch.ones(1, n.in_features)).sum().backward()
        o.step()
    moments, full = FiniteWatch(list(zip(nets, opts))), FiniteWatch(list(zip(nets, opts)), moments_only=False)
    assert [bool(f) for f in moments.finite()] == [True, True]
    next(iter(opts[1].state.values()))["exp_avg_sq"][0] = float("inf")
    assert [bool(f) for f in moments.finite()] == [True, False]
    with torch.no_grad():
        nets[0].weight[0, 0] = float("nan")
    assert [bool(f) for f in moments.finite()] == [True, False]       # weights: the tick's full check
    assert [bool(f) for f in full.finite()] == [False, False]


def test_a_poisoned_checkpoint_is_refused_and_resume_falls_back(run_copy, capsys):
    run = RunFolder(run_copy)
    newest, before = run.checkpoints()[-1], run.checkpoints()[-2]
    state = torch.load(newest, weights_only=True)
    next(iter(state["opt_d"]["state"].values()))["exp_avg_sq"].view(-1)[0] = float("inf")
    torch.save(state, newest)
    with pytest.raises(CheckpointError, match=r"poisoned checkpoint: non-finite values in opt_d\.state\.\d+\.exp_avg_sq"):
        load_checkpoint(newest)
    assert main(["resume", str(run_copy), "--max-kimg", "0.4", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"skipped unusable checkpoint {newest.name}: poisoned checkpoint" in err     # on the console
    assert f"resumed from {before.name}" in run.log_path.read_text()


def test_following_the_printed_advice_gets_past_a_blow_up(tmp_path, shapes_folder, capsys):
    """A learning rate 5000x too high: Adam's second moment overflows at the same step on every
    resume with the same settings (CPU training is deterministic); the advice gets past it."""
    # Adam's state kept across the lod boundaries: the new default resets it at each of them, which
    # can empty the second moment just before it would overflow (the blow-up then depends on the CPU)
    cfg = tiny_config(shapes_folder, lr_default=10.0, checkpoint_kimg=0.064, stabilize_kimg=0.512,
                      reset_optimizer="never")
    run = tmp_path / "run"
    result = Trainer.new(run, cfg).run()
    assert result.reason == "error"
    bad_kimg = float(re.search(r"kimg (\d+\.\d+)\)", result.error).group(1))
    assert "optimizer state" in result.error
    # the same settings meet the same step again
    again = Trainer.resume(run, max_kimg=None).run()
    assert again.reason == "error" and f"kimg {bad_kimg:.3f}" in again.error
    error, follows = again.error, 0
    while error is not None:        # a repeat steps further back and halves the rate again
        assert follows < 4, error
        command = re.search(r"pgstudio (resume .*)$", error, re.MULTILINE).group(1)
        code = main(shlex.split(command) + ["--quiet"])
        follows += 1
        error = capsys.readouterr().err if code else None
        ticks = [r["kimg"] for r in RunFolder(run).read_metrics()[0] if r["kind"] == "tick"]
        assert ticks[-1] > bad_kimg and ticks == sorted(set(ticks))     # past the bad step, every time
    assert RunFolder(run).read_config().lr_scale == 0.5 ** follows
    assert ticks[-1] == pytest.approx(1.28)                            # and on to the end of the run
    events = [r for r in RunFolder(run).read_metrics()[0] if r.get("event") == "lr_scale"]
    assert events and events[-1]["factor"] == 0.5


def test_lr_scale_multiplies_the_rates_and_accumulates(run_copy):
    t = Trainer.resume(run_copy, lr_scale=0.5, max_kimg=0.32)
    assert t.cfg.lr_scale == 0.5 and t.cfg.lr_at(8) == pytest.approx(0.001)
    assert t.run().reason == "max_kimg"
    assert [r["lr"] for r in RunFolder(run_copy).read_metrics()[0] if r["kind"] == "tick"][-1] == pytest.approx(0.001)
    t = Trainer.resume(run_copy, lr_scale=0.5)
    t.close()
    assert RunFolder(run_copy).read_config().lr_scale == 0.25


def test_a_stall_is_reported_in_log_tick_record_and_events(tmp_path, tiny_cfg):
    seen = []
    # a rate so small that fp32 cannot represent a step: nothing moves, the losses stay finite
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(lr_default=1e-30, max_kimg=0.2), on_event=seen.append)
    assert t.run().reason == "max_kimg"
    ticks = [r for r in RunFolder(tmp_path / "run").read_metrics()[0] if r["kind"] == "tick"]
    assert all(set(r["stalled"]) == {"generator", "discriminator"} for r in ticks)
    assert all(v < STALL_FRACTION for r in ticks for v in r["weights_changed"].values())
    warnings = [e.message for e in seen if isinstance(e, ev.LogEvent) and "stalled" in e.message]
    assert len(warnings) == 2          # once per network when the stall starts, not every tick
    assert "has stalled" in RunFolder(tmp_path / "run").log_path.read_text()


def test_weights_that_get_no_gradient_do_not_count_toward_a_stall(tmp_path, tiny_cfg):
    """At 4x4 the 8x8 blocks get no gradient and stay as they are: a healthy tick is no stall."""
    t = Trainer.new(tmp_path / "run", tiny_cfg.replace(max_kimg=0.128))
    untouched = {n: p.detach().clone() for n, p in t.G.named_parameters() if ".3." in n or n.endswith("3.weight")}
    assert t.run().reason == "max_kimg"
    assert untouched and all(torch.equal(p, dict(t.G.named_parameters())[n]) for n, p in untouched.items())
    ticks = [r for r in RunFolder(tmp_path / "run").read_metrics()[0] if r["kind"] == "tick"]
    assert ticks and all(r["stalled"] == [] and r["weights_changed"]["generator"] > 0.9 for r in ticks)


# --------------------------------------------------------------------------- 2. one trainer a folder
def hold_lock(folder: Path) -> subprocess.Popen:
    """Another process holding the run folder's lock, as a trainer does."""
    code = ("import sys, time; from pgstudio.core.storage.runlock import RunLock; "
            "lock = RunLock.acquire(sys.argv[1]); print('held', flush=True); time.sleep(600)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_trainer_on_a_locked_folder_is_refused(run_copy, capsys):
    before = (run_copy / "metrics.jsonl").read_bytes()
    proc = hold_lock(run_copy)
    try:
        assert main(["resume", str(run_copy), "--max-kimg", "0.5", "--quiet"]) == 2
        line = one_error_line(capsys.readouterr().err)
        assert f"being trained by process {proc.pid}" in line and "follow it" in line
        with pytest.raises(RunLockedError):
            Trainer.resume(run_copy, max_kimg=0.5)
        assert (run_copy / "metrics.jsonl").read_bytes() == before           # nothing was touched
        assert RunFolder(run_copy).active_trainer_pid() == proc.pid           # followers still see it
    finally:
        proc.kill()
        proc.wait()
    # killed with -9: the OS dropped its lock, the marker it left is stale and is taken over
    assert (run_copy / "running.json").exists()
    assert RunFolder(run_copy).active_trainer_pid() is None
    assert main(["resume", str(run_copy), "--max-kimg", "0.4", "--quiet"]) == 0
    assert f"took over a stale lock from process {proc.pid}" in capsys.readouterr().err
    assert not (run_copy / "running.json").exists()                          # released at the end


def test_two_trainers_in_one_process_and_a_new_run_into_a_locked_folder(tmp_path, tiny_cfg):
    first = Trainer.new(tmp_path / "run", tiny_cfg)
    with pytest.raises(RunLockedError, match="this process"):
        Trainer.resume(tmp_path / "run")
    with pytest.raises(RunLockedError):
        Trainer.new(tmp_path / "run", tiny_cfg)
    first.close()
    assert not (tmp_path / "run" / "running.json").exists()


def test_a_marker_from_another_machine_needs_take_over(run_copy, capsys):
    (run_copy / "running.json").write_text(json.dumps({"pid": 4242, "host": "elsewhere", "started": 0,
                                                        "lock": "trainer.lock"}))
    assert main(["resume", str(run_copy), "--max-kimg", "0.4", "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "process 4242 on elsewhere" in line and "--take-over" in line
    assert main(["resume", str(run_copy), "--max-kimg", "0.4", "--quiet", "--take-over"]) == 0
    assert "took the run folder over from process 4242 on elsewhere" in capsys.readouterr().err


# --------------------------------------------------------------------------- 3. full and read-only disks
def test_a_full_disk_is_one_clear_line(tmp_path, shapes_folder):
    """RLIMIT_FSIZE makes the OS refuse writes past 1 MB, as a full disk does: torch's zip writer
    then raises RuntimeError ('unexpected pos'), not OSError."""
    out = tmp_path / "run"
    limit = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        from pgstudio.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    proc = subprocess.run([sys.executable, "-c", limit, "train", "--data", str(shapes_folder), "--out", str(out),
                           "--resolution", "8", "--phase-kimg", "0.128", "--max-kimg", "0.3", "--quiet",
                           "--device", "cpu", "--seed", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    line = one_error_line(proc.stderr)                      # printed once
    assert line.startswith(f"pgstudio: error: could not write {out / 'checkpoints'}")
    assert "the disk is" in line and "training stopped" in line and "internal error" not in line
    assert not list((out / "checkpoints").glob("*.tmp"))    # no half-written file left behind


@pytest.fixture
def read_only(monkeypatch):
    """Make folders read-only the way a read-only file system is: every write under them fails
    with EROFS (CI runs as root, for whom chmod changes nothing)."""
    roots: list[Path] = []
    real_open, real_mkdir = disk.open_for_write, disk._mkdir

    def refused(path) -> bool:
        p = Path(path).absolute()
        return any(p == r or r in p.parents for r in roots)

    def open_for_write(path, mode="wb"):
        if refused(path):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, mode)

    def mkdir(path):
        if refused(path) and not Path(path).exists():
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        real_mkdir(path)
    monkeypatch.setattr(disk, "open_for_write", open_for_write)
    monkeypatch.setattr(disk, "_mkdir", mkdir)
    return lambda folder: roots.append(Path(folder).absolute())


def test_read_only_folders_give_one_line_in_every_command(run_copy, tmp_path, shapes_folder, read_only, capsys):
    read_only(run_copy)
    ro_out = tmp_path / "ro"
    ro_out.mkdir()
    read_only(ro_out)
    config_before = (run_copy / "config.json").read_bytes()
    commands = {
        "resume": ["resume", str(run_copy), "--max-kimg", "0.6", "--quiet"],
        "generate": ["generate", str(run_copy), "--out", str(ro_out / "g.png"), "--n", "4", "--grid"],
        "train": ["train", "--data", str(shapes_folder), "--out", str(ro_out / "new"), "--resolution", "8",
                  "--max-kimg", "0.1", "--quiet", "--device", "cpu"],
        "export": ["export", str(run_copy), "--out", str(ro_out / "exported")],
        "interpolate": ["interpolate", str(run_copy), "--seeds", "1,2", "--frames", "3",
                        "--out", str(ro_out / "v.gif")],
        "timelapse": ["timelapse", str(run_copy), "--out", str(ro_out / "t.mp4")],
    }
    for name, argv in commands.items():
        assert main(argv) == 1, name
        line = one_error_line(capsys.readouterr().err)
        assert line.startswith("pgstudio: error: could not write ") and "the file system is read-only" in line, line
    assert (run_copy / "config.json").read_bytes() == config_before


# --------------------------------------------------------------------------- 4. damaged and foreign checkpoints
def test_foreign_files_are_named_for_what_they_are_not(tmp_path):
    random_bytes = tmp_path / "random.pt"
    random_bytes.write_bytes(os.urandom(4096))
    readme = tmp_path / "README.pt"
    readme.write_text("# pgstudio\nA desktop studio.\n")
    for path in (random_bytes, readme):
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path)
        message = str(info.value)
        assert "not a checkpoint (not a PyTorch archive" in message
        assert "weights_only" not in message and "refused" not in message
    keyless = tmp_path / "keyless.pt"
    torch.save({"format": "pgstudio-checkpoint", "version": 1}, keyless)
    with pytest.raises(CheckpointError, match="incomplete checkpoint: missing or malformed .*images_seen"):
        load_checkpoint(keyless)


def test_a_keyless_newest_checkpoint_is_skipped_by_resume_and_generate(run_copy, tmp_path, capsys):
    run = RunFolder(run_copy)
    good = run.checkpoints()[-1]
    keyless = run.checkpoint_path(999_999)
    torch.save({"format": "pgstudio-checkpoint", "version": 1, "architecture": {}}, keyless)
    assert main(["generate", str(run_copy), "--out", str(tmp_path / "g.png"), "--n", "4", "--grid"]) == 0
    err = capsys.readouterr().err
    assert f"skipped unusable checkpoint {keyless.name}: incomplete checkpoint" in err
    assert (tmp_path / "g.png").exists()
    assert main(["resume", str(run_copy), "--max-kimg", "0.4", "--quiet"]) == 0
    assert f"skipped unusable checkpoint {keyless.name}" in capsys.readouterr().err
    assert f"resumed from {good.name}" in run.log_path.read_text()
    keyless.unlink()
    torch.save({"format": "pgstudio-checkpoint", "version": 1}, keyless)
    assert main(["resume", str(run_copy), "--checkpoint", str(keyless), "--quiet"]) == 2
    assert "incomplete checkpoint" in one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------- 5. torn and foreign lines
def test_torn_and_foreign_lines(run_copy):
    run = RunFolder(run_copy)
    records, _ = run.read_metrics()
    n = len(records)
    with open(run.metrics_path, "ab") as f:
        f.write(b'42\n{"kind": "tick", "loss_d": 1.0}\n[1, 2]\nnot json at all\n{"kind": "tick", "kimg": 9.0, "re')
    fresh = RunFolder(run_copy)
    records, offset = fresh.read_metrics()
    assert len(records) == n                                   # foreign lines skipped, the rest kept
    assert len(fresh.unusable_lines) == 4
    assert any("not a JSON object" in s and "'42'" in s for s in fresh.unusable_lines)
    assert any("tick without a valid kimg" in s for s in fresh.unusable_lines)
    # a follower leaves the unfinished line alone: it reads it once its writer ends it
    size = run.metrics_path.stat().st_size
    assert offset < size
    with open(run.metrics_path, "ab") as f:
        f.write(b'solution": 8, "alpha": 1.0, "phase": "stabilize", "loss_d": 0.5, "loss_g": 0.5}\n')
    more, _ = RunFolder(run_copy).read_metrics(offset)
    assert [r["kimg"] for r in more] == [9.0] and more[0]["resolution"] == 8
    # a torn tail left by a killed writer is cut once by the next lock holder, so the next record
    # does not glue onto it
    with open(run.metrics_path, "ab") as f:
        f.write(b'{"kind": "tick", "kimg": 0.2, "resol')
    logs = []
    t = Trainer.resume(run_copy, max_kimg=0.45, on_event=logs.append)
    assert any("removed an unfinished last line" in e.message for e in logs)
    assert any("not a JSON object" in e.message for e in logs)
    assert t.run().reason == "max_kimg"
    raw = run.metrics_path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode().splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)      # repaired and clean
    ticks = [json.loads(line)["kimg"] for line in lines if json.loads(line)["kind"] == "tick"]
    assert ticks == sorted(set(ticks)) and ticks[-1] >= 0.45


def test_a_foreign_samples_index_line_is_skipped(run_copy):
    run = RunFolder(run_copy)
    entries, _ = run.read_samples()
    with open(run.samples_index_path, "ab") as f:
        f.write(b'{"file": "../../etc/passwd", "kimg": 1, "resolution": 8, "alpha": 1, "phase": "x"}\n7\n'
                b'{"file": "grid.png"}\n')
    again, _ = RunFolder(run_copy).read_samples()
    assert [e.file for e in again] == [e.file for e in entries]


# --------------------------------------------------------------------------- 6. numbers at the door
@pytest.mark.parametrize("argv, flag", [
    (["train", "--demo", "--out", "{tmp}/r", "--max-kimg", "nan"], "--max-kimg"),
    (["train", "--demo", "--out", "{tmp}/r", "--max-kimg", "inf"], "--max-kimg"),
    (["train", "--demo", "--out", "{tmp}/r", "--phase-kimg", "-1"], "--phase-kimg"),
    (["train", "--demo", "--out", "{tmp}/r", "--resolution", "2048"], "--resolution"),
    (["resume", "{run}", "--max-kimg", "nan"], "--max-kimg"),
    (["resume", "{run}", "--lr-scale", "0"], "--lr-scale"),
    (["generate", "{run}", "--out", "{tmp}/g.png", "--truncation", "nan"], "--truncation"),
    (["generate", "{run}", "--out", "{tmp}/g.png", "--n", "0"], "--n"),
    (["interpolate", "{run}", "--seeds", "1,2", "--frames", "2", "--out", "{tmp}/v.gif", "--fps", "0"], "--fps"),
    (["swd", "{run}", "--demo", "--n", "1"], "--n"),
])
def test_bad_numbers_are_refused_before_anything_is_written(argv, flag, run_copy, tmp_path, capsys):
    config_before = (run_copy / "config.json").read_bytes()
    argv = [a.format(tmp=tmp_path, run=run_copy) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists() and not (tmp_path / "g.png").exists()
    assert (run_copy / "config.json").read_bytes() == config_before


def test_config_refuses_non_finite_numbers_anywhere():
    from pgstudio.core.config import TrainConfig
    assert config_messages(TrainConfig(demo=True)) == []
    problems = config_messages(TrainConfig(demo=True, max_kimg=float("nan"), ema_halflife_kimg=float("inf"),
                           batch={4: 16}, lr={8: float("nan")}))
    assert any("ema_halflife_kimg, lr[8], max_kimg must be finite" in p for p in problems)


def test_an_old_config_holding_nan_is_refused_with_a_way_out(run_copy, capsys):
    cfg = json.loads((run_copy / "config.json").read_text())
    cfg["max_kimg"] = float("nan")                 # what an earlier pgstudio wrote on `resume --max-kimg nan`
    (run_copy / "config.json").write_text(json.dumps(cfg))
    assert main(["resume", str(run_copy), "--quiet"]) == 2
    assert "max_kimg that are not finite" in one_error_line(capsys.readouterr().err)
    assert main(["resume", str(run_copy), "--max-kimg", "0.4", "--quiet"]) == 0


# --------------------------------------------------------------------------- 7. odd data folders
def test_a_dangling_link_and_a_vanished_file_are_skipped(tmp_path, monkeypatch):
    import pgstudio.core.data.dataset as dataset_module
    folder = tmp_path / "data"
    folder.mkdir()
    for i, img in enumerate(draw_shapes(6, size=8)):
        img.save(folder / f"{i}.png")
    (folder / "broken.png").symlink_to(tmp_path / "nowhere.png")
    real_list = dataset_module.list_files
    monkeypatch.setattr(dataset_module, "list_files",          # deleted between listing and reading
                        lambda f: real_list(f) + [Path(f) / "gone.png"])
    ds = import_folder(folder, 8, cache_dir=tmp_path / "cache")
    skipped = dict(ds.report.skipped)
    assert len(ds) == 6
    assert skipped["broken.png"].startswith("broken link (its target")
    assert skipped["gone.png"] == "the file disappeared while the folder was being imported"


# --------------------------------------------------------------------------- 8. the window's system libraries
def test_window_problem_tells_missing_libraries_from_no_display():
    from pgstudio.qt_platform import chosen_platform, missing_xcb_libraries, window_problem
    x11 = {"DISPLAY": ":0"}
    missing = lambda: ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]   # noqa: E731
    message = window_problem(x11, "linux", missing)
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in message
    assert "libxcb-cursor.so.0" in message and "\n" not in message
    assert window_problem(x11, "linux", lambda: []) is None
    assert "needs a display" in window_problem({}, "linux", missing)
    assert window_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", missing) is None
    assert window_problem({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux", missing) is None
    assert window_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}, "linux", missing) is not None
    assert window_problem({}, "darwin", missing) is None
    assert chosen_platform({"QT_QPA_PLATFORM": "xcb;wayland"}, "linux") == "xcb"
    # the real probe: a library this machine has is not reported missing, one it lacks is
    import ctypes.util
    present = [name for name in ("xcb-cursor", "xcb-icccm", "xcb-keysyms") if ctypes.util.find_library(name)]
    reported = missing_xcb_libraries()
    assert all(isinstance(s, str) and ".so" in s for s in reported)
    assert not [lib for lib in reported if any(f"lib{name}.so" in lib for name in present)]
    absent = {"xcb-cursor", "xcb-icccm", "xcb-keysyms"} - set(present)
    assert all(any(f"lib{name}.so" in lib for lib in reported) for name in absent)


def test_pgstudio_says_what_to_install_instead_of_aborting(monkeypatch, capsys):
    import pgstudio.qt_platform as qt_platform
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(qt_platform, "missing_xcb_libraries", lambda: ["libxcb-cursor.so.0"])
    monkeypatch.setattr(sys, "platform", "linux")
    import pgstudio.gui.app as app

    def must_not_start(*args):       # with no display Qt would abort the whole test process
        raise AssertionError("the window was started although the probe found a problem")
    monkeypatch.setattr(app, "main", must_not_start)
    assert main([]) == 2
    assert "apt-get install libxcb-cursor0" in one_error_line(capsys.readouterr().err)
    monkeypatch.delenv("DISPLAY")
    assert main(["gui"]) == 2
    assert "needs a display" in one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------- 9. the demo set in a wheel
def test_the_demo_set_ships_in_the_wheel(tmp_path):
    import shutil
    source = tmp_path / "src"
    shutil.copytree(REPO / "pgstudio", source / "pgstudio", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("pgstudio-*.whl"))
    assert "pgstudio/data/demo_emoji.png" in zipfile.ZipFile(wheel).namelist()
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import pgstudio; print(pgstudio.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(site)                     # the installed copy, not the checkout
    proc = subprocess.run([sys.executable, "-m", "pgstudio", "train", "--demo", "--out", str(tmp_path / "run"),
                           "--resolution", "4", "--phase-kimg", "0.032", "--max-kimg", "0.064", "--quiet",
                           "--device", "cpu"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "demo (colour emoji): 2003 images used" in proc.stdout


def test_a_branch_copies_the_history_as_written(run_copy, tmp_path):
    """Keys a newer pgstudio adds to index.jsonl lines survive a branch (the format grows by keys)."""
    run = RunFolder(run_copy)
    lines = run.samples_index_path.read_text().splitlines()
    run.samples_index_path.write_text("".join(json.dumps({**json.loads(l), "note": "from the future"}) + "\n"
                                              for l in lines))
    ckpt = run.checkpoints()[0]
    new = run.branch(ckpt, tmp_path / "branch", RunFolder.checkpoint_images(ckpt))
    copied = [json.loads(l) for l in new.samples_index_path.read_text().splitlines()]
    assert copied and all(r["note"] == "from the future" for r in copied)
    assert all(r["kimg"] <= RunFolder.checkpoint_images(ckpt) / 1000 for r in copied)
    assert all((new.samples_dir / r["file"]).exists() for r in copied)
