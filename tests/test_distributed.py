"""Data parallelism: 2 CPU processes over gloo equal one process with the same global batch."""
import os
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pgstudio.core.storage.checkpoint import load_checkpoint
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config


def _rank_main(rank, world, init_file, run_dir, data, loss, extra=None):
    os.environ["LOCAL_RANK"] = str(rank)
    os.environ["PGSTUDIO_CACHE"] = os.environ.get("PGSTUDIO_CACHE", "")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        t = Trainer.new(run_dir, tiny_config(data, loss=loss, max_kimg=0.25, r1_interval=2, **(extra or {})))
        assert t.run().reason == "max_kimg"
        torch.save({k: v.clone() for k, v in t.G.state_dict().items()}, f"{run_dir}-rank{rank}.pt")
        t.dist.shutdown()                           # the same ending as `pgstudio train`
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _compare(a: dict, b: dict, atol: float):
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    print(f"max |single - distributed| = {worst:.2e}")
    assert worst < atol, worst


def test_two_processes_match_one(tmp_path, shapes_folder):
    for loss in ("wgan-gp", "logistic"):
        run = tmp_path / f"ddp-{loss}"
        mp.spawn(_rank_main, args=(2, str(tmp_path / f"init-{loss}"), str(run), str(shapes_folder), loss),
                 nprocs=2, join=True)
        r0 = torch.load(f"{run}-rank0.pt", weights_only=True)
        r1 = torch.load(f"{run}-rank1.pt", weights_only=True)
        for k in r0:                                  # identical weights on every rank
            assert torch.equal(r0[k], r1[k]), k
        torch.set_num_threads(1)
        single = Trainer.new(tmp_path / f"single-{loss}", tiny_config(shapes_folder, loss=loss, max_kimg=0.25,
                                                                      r1_interval=2))
        single.run()
        _compare(single.G.state_dict(), r0, atol=1e-5)
        ck = RunFolder(run).checkpoints()                # only rank 0 wrote the run folder
        assert ck and load_checkpoint(ck[-1])["images_seen"] == single.images_seen
        _compare(load_checkpoint(ck[-1])["generator"], single.G.state_dict(), atol=1e-5)


def test_stylegan2_ranks_stay_identical(tmp_path, shapes_folder):
    """StyleGAN2 over 2 processes: identical weights on both ranks, path-length regularisation
    included. (Its per-pixel noise is drawn per rank, so it is not expected to equal one process.)"""
    run = tmp_path / "ddp-sg2"
    extra = dict(arch="stylegan2", mapping_layers=2, pl_interval=2)
    mp.spawn(_rank_main, args=(2, str(tmp_path / "init-sg2"), str(run), str(shapes_folder), "logistic", extra),
             nprocs=2, join=True)
    r0 = torch.load(f"{run}-rank0.pt", weights_only=True)
    r1 = torch.load(f"{run}-rank1.pt", weights_only=True)
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    ticks = [r for r in RunFolder(run).read_metrics()[0] if r["kind"] == "tick"]
    assert ticks and all(t["pl_mean"] > 0 for t in ticks)


def test_cli_gpus_flag_launches_torchrun_and_resume_on_one_process(tmp_path, shapes_folder):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "pgstudio", "train", "--data", str(shapes_folder), "--out", str(out),
                           "--resolution", "8", "--phase-kimg", "0.128", "--max-kimg", "0.2", "--device", "cpu",
                           "--quiet", "--gpus", "2"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = RunFolder(out)
    assert run.checkpoints() and not run.running_path.exists()
    ticks = [r for r in run.read_metrics()[0] if r["kind"] == "tick"]
    assert ticks and ticks == sorted(ticks, key=lambda r: r["kimg"])       # one writer, no duplicates
    proc = subprocess.run([sys.executable, "-m", "pgstudio", "resume", str(out), "--max-kimg", "0.3", "--quiet"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert load_checkpoint(run.checkpoints()[-1])["images_seen"] >= 300


def _rank_p(rank, world, init_file, run_dir, data, extra=None):
    """One rank of an adaptive-augmentation run; writes its final p and G."""
    os.environ["LOCAL_RANK"] = str(rank)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        t = Trainer.new(run_dir, tiny_config(data, loss="logistic", max_kimg=0.25, augment="ada", ada_kimg=0.5,
                                             ada_target=0.2, **(extra or {})))
        assert t.run().reason == "max_kimg"
        torch.save({"p": t.recipe.strength.p, "G": {k: v.clone() for k, v in t.G.state_dict().items()}},
                   f"{run_dir}-rank{rank}.pt")
        t.dist.shutdown()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.parametrize("extra", [{}, {"ada_signal": "rv", "augment_p": 0.3}], ids=["rt", "rv"])
def test_adaptive_augmentation_is_the_same_on_two_processes_as_on_one(tmp_path, shapes_folder, extra):
    """The augmentation draws are sliced from the global batch and D's signs summed over ranks:
    every rank applies the same p, and two processes train what one does. By r_v (from p = 0.3,
    so the held-out batches are augmented too) every rank holds out the same images, scores its
    slice of the held-out batch, and the sums of the scores are reduced like the signs."""
    run = tmp_path / "ddp-ada"
    mp.spawn(_rank_p, args=(2, str(tmp_path / "init-ada"), str(run), str(shapes_folder), extra), nprocs=2, join=True)
    r0, r1 = (torch.load(f"{run}-rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["p"] == r1["p"] > 0
    torch.set_num_threads(1)
    single = Trainer.new(tmp_path / "single-ada", tiny_config(shapes_folder, loss="logistic", max_kimg=0.25,
                                                              augment="ada", ada_kimg=0.5, ada_target=0.2,
                                                              **extra))
    single.run()
    assert abs(single.recipe.strength.p - r0["p"]) < 1e-9
    _compare(single.G.state_dict(), r0["G"], atol=1e-4)


def test_a_transfer_with_frozen_d_blocks_is_the_same_on_two_processes(tmp_path, shapes_folder):
    """Each rank reads the trained model and freezes the same blocks (they take no gradient, so
    nothing of them is reduced): the ranks agree with each other and with one process."""
    from pgstudio.core.training.transfer import configured, read_origin
    origin_run = tmp_path / "origin"
    Trainer.new(origin_run, tiny_config(shapes_folder, loss="logistic", max_kimg=0.128)).run()
    cfg = configured(tiny_config(shapes_folder, loss="logistic"), read_origin(origin_run), freeze_d=1)
    extra = {"start_from": cfg.start_from, "schedule_offset_kimg": cfg.schedule_offset_kimg, "freeze_d": 1}
    run = tmp_path / "ddp-transfer"
    mp.spawn(_rank_main, args=(2, str(tmp_path / "init-transfer"), str(run), str(shapes_folder), "logistic", extra),
             nprocs=2, join=True)
    r0, r1 = (torch.load(f"{run}-rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(r0[k], r1[k]) for k in r0)
    torch.set_num_threads(1)
    single = Trainer.new(tmp_path / "single-transfer", tiny_config(shapes_folder, loss="logistic", max_kimg=0.25,
                                                                   r1_interval=2, **extra))
    single.run()
    _compare(single.G.state_dict(), r0, atol=1e-5)
