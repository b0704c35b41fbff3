import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pgstudio.cli import main
from pgstudio.core.storage.runfolder import RunFolder


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "pgstudio", *map(str, args)], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, shapes_folder):
    out = tmp_path_factory.mktemp("cli") / "run"
    code = main(["train", "--data", str(shapes_folder), "--out", str(out), "--resolution", "8",
                 "--phase-kimg", "0.128", "--max-kimg", "0.3", "--seed", "1", "--quiet", "--device", "cpu"])
    assert code == 0
    return out


def test_train_writes_run_and_resume_continues(trained_run):
    run = RunFolder(trained_run)
    assert run.read_config().max_kimg == 0.3 and run.checkpoints()
    code = main(["resume", str(trained_run), "--max-kimg", "0.45", "--quiet"])
    assert code == 0
    ticks = [r for r in run.read_metrics()[0] if r["kind"] == "tick"]
    assert ticks[-1]["kimg"] >= 0.45 and ticks[-1]["resolution"] == 8


def test_generate_grid_and_files(trained_run, tmp_path):
    assert main(["generate", str(trained_run), "--out", str(tmp_path / "g.png"), "--n", "9", "--grid"]) == 0
    grid = Image.open(tmp_path / "g.png")
    assert grid.size == (3 * 9 + 1, 3 * 9 + 1)
    assert main(["generate", str(trained_run), "--out", str(tmp_path / "one.png"), "--n", "3",
                 "--truncation", "0.7", "--seed", "4"]) == 0
    files = sorted(tmp_path.glob("one-*.png"))
    assert len(files) == 3 and Image.open(files[0]).size == (8, 8)
    # same seed → same image
    assert main(["generate", str(trained_run), "--out", str(tmp_path / "two.png"), "--n", "3",
                 "--truncation", "0.7", "--seed", "4"]) == 0
    assert np.array_equal(np.asarray(Image.open(files[0])), np.asarray(Image.open(tmp_path / "two-000.png")))


def test_swd_json(trained_run, shapes_folder, capsys):
    assert main(["swd", str(trained_run), "--data", str(shapes_folder), "--n", "40", "--json"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["kind"] == "swd" and record["resolution"] == 8 and record["floor"] is not None
    assert record["mean"] > 0 and len(record["levels"]) == 1


def test_import_report(shapes_folder, capsys):
    assert main(["import", str(shapes_folder), "--resolution", "8"]) == 0
    out = capsys.readouterr().out
    assert "96 images used" in out and "0 skipped" in out


def test_user_errors_are_one_line_without_traceback(tmp_path, trained_run):
    code, out, err = run_cli("train", "--data", tmp_path / "missing", "--out", tmp_path / "r")
    assert code == 2 and "folder not found" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    code, out, err = run_cli("generate", bad, "--out", tmp_path / "x.png")
    assert code == 2 and "bad.pt" in err and "Traceback" not in err
    code, out, err = run_cli("train", "--demo", "--out", tmp_path / "r2", "--resolution", "48")
    assert code == 2 and "power of two" in err
    code, out, err = run_cli("train", "--demo", "--out", trained_run)
    assert code == 2 and "already holds a run" in err
    code, out, err = run_cli("resume", tmp_path / "nowhere")
    assert code == 2 and "no such run folder" in err


def test_help_for_every_subcommand():
    for sub in ("train", "resume", "generate", "swd", "import"):
        code, out, err = run_cli(sub, "--help")
        assert code == 0 and "usage: pgstudio " + sub in out


def test_train_arch_and_r1_gamma_flags(tmp_path, shapes_folder):
    out = tmp_path / "sg2"
    assert main(["train", "--data", str(shapes_folder), "--out", str(out), "--arch", "stylegan2", "--resolution", "8",
                 "--r1-gamma", "0.5", "--max-kimg", "0.064", "--device", "cpu", "--precision", "fp32",
                 "--d-block", "fir-then-conv", "--quiet"]) == 0
    cfg = RunFolder(out).read_config()
    assert cfg.arch == "stylegan2" and cfg.r1_gamma == 0.5 and cfg.loss == "logistic" and cfg.precision == "fp32"
    assert cfg.d_block == "fir-then-conv"
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "sg2bf16"), "--arch", "stylegan2",
                 "--precision", "bf16", "--device", "cpu"]) == 2          # it picks bf16 per block itself
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "bad"), "--arch", "stylegan2",
                 "--loss", "wgan-gp", "--device", "cpu"]) == 2
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "neg"), "--r1-gamma", "-1",
                 "--device", "cpu"]) == 2
    # a family's own choice given to another family is refused, not silently ignored
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "pg"), "--arch", "progressive",
                 "--d-block", "fir-then-conv", "--resolution", "8", "--max-kimg", "0.032", "--device", "cpu",
                 "--quiet"]) == 2
    assert main(["train", "--data", str(shapes_folder), "--out", str(tmp_path / "sg2r"), "--arch", "stylegan2",
                 "--resample", "nearest", "--resolution", "8", "--max-kimg", "0.032", "--device", "cpu",
                 "--quiet"]) == 2
    assert not (tmp_path / "pg").exists() and not (tmp_path / "sg2r").exists()


@pytest.mark.parametrize("user_threads", [None, "3"])
def test_gpus_on_a_cpu_machine_splits_the_threads_among_processes(monkeypatch, shapes_folder, tmp_path, user_threads):
    import torch
    launched = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, env: launched.append((cmd, env)) or 0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    if user_threads:
        monkeypatch.setenv("OMP_NUM_THREADS", user_threads)
    else:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    argv = ["train", "--data", str(shapes_folder), "--out", str(tmp_path / "run"), "--gpus", "4"]
    monkeypatch.setattr(sys, "argv", ["pgstudio", *argv])
    assert main(argv) == 0
    (cmd, env), = launched
    assert "--nproc_per_node=4" in cmd and "--gpus" not in cmd and cmd[-len(argv) + 2:] == argv[:-2]
    assert env["OMP_NUM_THREADS"] == (user_threads or "2")        # the user's setting wins
