"""MS-SWD during training (#27, 4): every point of a run and its floor on one n and one set of
reals, the same after a resume; runs from before the key keep scoring as they did."""
import json

from pgstudio.core.config import TrainConfig
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config


def swd_records(run):
    return [r for r in RunFolder(run).read_metrics()[0] if r["kind"] == "swd"]


def test_every_point_and_its_floor_use_one_split_kept_across_resume(tmp_path, shapes_folder):
    # 96 images, n asked 64: at most half the folder, 48, for every point (the floor needs the rest)
    cfg = tiny_config(shapes_folder, stabilize_kimg=2.0, metric_kimg=0.064, metric_n=64, max_kimg=0.192)
    assert cfg.metric_split == "fixed"
    Trainer.new(tmp_path / "run", cfg).run()
    assert Trainer.resume(tmp_path / "run", max_kimg=0.384).run().reason == "max_kimg"
    records = swd_records(tmp_path / "run")
    assert len(records) >= 5 and {r["resolution"] for r in records} == {4}
    assert {r["n"] for r in records} == {48}
    assert len({r["floor"] for r in records}) == 1          # the same floor before and after the resume


def test_a_run_from_before_the_key_scores_as_it_did(tmp_path, shapes_folder):
    cfg = tiny_config(shapes_folder, stabilize_kimg=2.0, metric_kimg=0.064, metric_n=64, max_kimg=0.192)
    old = {k: v for k, v in json.loads(cfg.to_json()).items() if k != "metric_split"}
    legacy = TrainConfig.from_json(json.dumps(old))
    assert legacy.metric_split == "per-point"
    Trainer.new(tmp_path / "old", legacy).run()
    ns = [r["n"] for r in swd_records(tmp_path / "old")]
    assert ns[0] == 48 and set(ns[1:]) == {64}               # the first beside the floor, then all of n
