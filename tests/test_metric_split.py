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


def test_stylegan2_is_scored_with_fresh_seeded_noise_per_sample(shapes_folder):
    """#27, 5: one z twice gives two images under per-sample noise (one under the fixed maps the
    explorer shows by default), the same two again for the same seed; MS-SWD differs between the
    two ways and repeats exactly; a config from before the key scores with the fixed maps."""
    import numpy as np
    import torch
    from pgstudio.core.analysis.export import render
    from pgstudio.core.analysis.metrics import swd_of_generator
    from pgstudio.core.data.dataset import import_folder
    from pgstudio.core.families.stylegan2.generator import StyleGAN2Generator
    torch.manual_seed(0)
    G = StyleGAN2Generator(8, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2).eval()
    for module in G.modules():
        if hasattr(module, "strength"):
            module.strength.data.fill_(1.0)
    z = torch.randn(1, 8).repeat(2, 1)
    const = render(G, z, 3, 1.0)
    assert np.array_equal(const[0], const[1])
    noisy = render(G, z, 3, 1.0, noise_seed=5)
    assert not np.array_equal(noisy[0], noisy[1])
    assert np.array_equal(noisy, render(G, z, 3, 1.0, noise_seed=5))
    images = import_folder(shapes_folder, 8).levels[8]
    random_a = swd_of_generator(G, 3, 1.0, images, 32, seed=1)
    random_b = swd_of_generator(G, 3, 1.0, images, 32, seed=1)
    fixed = swd_of_generator(G, 3, 1.0, images, 32, seed=1, noise="const")
    assert random_a["mean"] == random_b["mean"] != fixed["mean"]
    cfg = tiny_config(shapes_folder, arch="stylegan2")
    old = {k: v for k, v in json.loads(cfg.to_json()).items() if k != "metric_noise"}
    assert cfg.metric_noise == "random" and TrainConfig.from_json(json.dumps(old)).metric_noise == "const"
