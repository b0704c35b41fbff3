import numpy as np
import pytest
import torch

from pgstudio.cli import main
from pgstudio.core.analysis.directions import Directions, compute_directions
from pgstudio.core.analysis.export import read_provenance, save_png
from pgstudio.core.analysis.latents import interpolation_path, sample_latents, seeded_latents, slerp
from pgstudio.core.models import load_generator
from pgstudio.core.training.trainer import Trainer
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def run(tmp_path_factory, shapes_folder):
    out = tmp_path_factory.mktemp("exp") / "run"
    Trainer.new(out, tiny_config(shapes_folder, max_kimg=0.3)).run()
    return out


def _frames(path):
    import imageio.v3 as iio
    return iio.imread(path, index=None)


@pytest.mark.parametrize("ext", ["gif", "mp4"])
def test_interpolate_frame_count_and_size(run, tmp_path, ext):
    out = tmp_path / f"i.{ext}"
    assert main(["interpolate", str(run), "--seeds", "1,2,3", "--frames", "5", "--out", str(out), "--size", "64"]) == 0
    frames = _frames(out)
    assert frames.shape[0] == 5 * 2 and frames.shape[1:3] == (64, 64)
    loop = tmp_path / f"l.{ext}"
    assert main(["interpolate", str(run), "--seeds", "1,2,3", "--frames", "4", "--loop", "--out", str(loop),
                 "--size", "32"]) == 0
    assert _frames(loop).shape[0] == 12


def test_timelapse(run, tmp_path):
    out = tmp_path / "t.gif"
    assert main(["timelapse", str(run), "--out", str(out)]) == 0
    from pgstudio.core.storage.runfolder import RunFolder
    n = len(RunFolder(run).read_samples()[0])
    frames = _frames(out)
    assert frames.shape[0] == n and len({f.shape for f in frames}) == 1


def test_export_round_trips_to_identical_images(run, tmp_path):
    assert main(["export", str(run), "--out", str(tmp_path / "g")]) == 0
    a, b = load_generator(run), load_generator(tmp_path / "g")
    assert (a.level, a.alpha) == (b.level, b.alpha)
    z = sample_latents(8, a.generator.latent_size, None, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(a.generator(z, a.level, a.alpha), b.generator(z, b.level, b.alpha))
    assert main(["generate", str(tmp_path / "g"), "--out", str(tmp_path / "x.png"), "--n", "4", "--grid"]) == 0


def test_png_provenance_round_trip(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    save_png(img, tmp_path / "p.png", {"checkpoint": "/a/b.pt", "seed": 7, "psi": 0.7, "offsets": [0.5, -1.0]})
    meta = read_provenance(tmp_path / "p.png")
    assert meta == {"checkpoint": "/a/b.pt", "seed": 7, "psi": 0.7, "offsets": [0.5, -1.0]}


def test_latent_math():
    a, b = torch.randn(2, 16).unbind(0)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-4)
    mid = slerp(a / a.norm(), b / b.norm(), 0.5)
    assert abs(mid.norm().item() - 1) < 1e-4                 # stays on the sphere
    keys = seeded_latents([1, 2, 3], 16)
    assert torch.equal(keys[0], seeded_latents([1], 16)[0])
    assert interpolation_path(keys, 5).shape == (10, 16)
    assert torch.equal(interpolation_path(keys, 5)[5], keys[1])
    t = sample_latents(1000, 16, 0.5, torch.Generator().manual_seed(0))
    assert t.abs().max() <= 0.5


def test_directions_move_first_block_activations(run, tmp_path):
    g = load_generator(run).generator
    d = compute_directions(g, k=4, samples=400)
    assert d.vectors.shape == (4, g.latent_size)
    z = torch.randn(1, g.latent_size)
    moved = d.apply(z, [3.0, 0, 0, 0])
    assert not torch.equal(moved, z)
    d.names[0] = "thickness"
    d.save(tmp_path / "d.json")
    e = Directions.load(tmp_path / "d.json")
    assert e.names[0] == "thickness" and torch.allclose(e.vectors, d.vectors)


def test_stylegan2_export_generate_and_interpolate(tmp_path, shapes_folder):
    """Exports carry the family; the CLI truncates StyleGAN2 in w and interpolates in w."""
    import json
    from PIL import Image
    from pgstudio.core.analysis.style_space import map_to_w
    run = tmp_path / "sg2"
    Trainer.new(run, tiny_config(shapes_folder, arch="stylegan2", loss="logistic", mapping_layers=2,
                                 max_kimg=0.1)).run()
    assert main(["export", str(run), "--out", str(tmp_path / "exp")]) == 0
    meta = json.loads((tmp_path / "exp" / "generator.json").read_text())
    assert meta["arch"] == "stylegan2" and meta["architecture"]["mapping_layers"] == 2
    a, b = load_generator(run), load_generator(tmp_path / "exp")
    z = torch.randn(4, a.generator.latent_size)
    assert torch.equal(a.generator(z), b.generator(z)) and torch.equal(a.generator.w_avg, b.generator.w_avg)
    # ψ = 0 gives the mean-w image for every seed
    assert main(["generate", str(tmp_path / "exp"), "--n", "3", "--truncation", "0", "--out",
                 str(tmp_path / "g.png")]) == 0
    imgs = [np.asarray(Image.open(tmp_path / f"g-{i:03d}.png")) for i in range(3)]
    assert np.array_equal(imgs[0], imgs[1]) and np.array_equal(imgs[0], imgs[2])
    assert torch.allclose(map_to_w(b.generator, z, 0.0), b.generator.w_avg.expand(4, -1))
    assert main(["interpolate", str(run), "--seeds", "1,2", "--frames", "4", "--space", "w", "--out",
                 str(tmp_path / "w.gif"), "--size", "16"]) == 0
    assert _frames(tmp_path / "w.gif").shape[0] == 4
    assert main(["interpolate", str(run), "--seeds", "1,2", "--frames", "2", "--noise", "random", "--out",
                 str(tmp_path / "n.gif")]) == 0


def test_w_space_is_refused_for_a_progressive_generator(run, tmp_path, capsys):
    assert main(["interpolate", str(run), "--seeds", "1,2", "--frames", "2", "--space", "w",
                 "--out", str(tmp_path / "x.gif")]) == 2
    assert "StyleGAN2" in capsys.readouterr().err
