"""Projection: an image a generator can draw is found again (both families, every space), the
best-so-far survives a stop, the discriminator's features join the loss when there is a D, noise
optimisation keeps its maps normalised, and `pgstudio project` writes what it promises."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from pgstudio.cli import main
from pgstudio.core.analysis.projection import Projection, pixel_loss, projection_inputs, psnr
from pgstudio.core.data.images import to_uint8
from pgstudio.core.families.progressive.generator import ProgressiveGenerator
from pgstudio.core.families.stylegan2.generator import StyleGAN2Generator


def _progressive():
    torch.manual_seed(0)
    return ProgressiveGenerator(8, 3, latent_size=8, fmap_base=64, fmap_max=16).eval()


def _stylegan2():
    torch.manual_seed(0)
    return StyleGAN2Generator(8, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2).eval()


def _drawn(G, seed: int = 5) -> np.ndarray:
    with torch.no_grad():
        return to_uint8(G(torch.randn(1, G.latent_size, generator=torch.Generator().manual_seed(seed)), 3, 1.0))[0]


def _loss_of(job: Projection, latent: np.ndarray) -> float:
    """The projection's loss of one latent (a generator without D: the pixel loss alone)."""
    with torch.no_grad():
        images = job._images(torch.from_numpy(latent)[None]).float()
        return float(pixel_loss(images, job.target.expand_as(images)))


@pytest.mark.parametrize("family, space", [("progressive", "z"), ("stylegan2", "w"), ("stylegan2", "w+")])
def test_an_image_the_generator_can_draw_is_found_again(family, space):
    G = _progressive() if family == "progressive" else _stylegan2()
    target = _drawn(G)
    unrelated = _drawn(G, seed=99)
    job = Projection(G, 3, 1.0, target, space, steps=150, starts=4)
    result = job.run()
    assert result.space == space and result.steps_done == 150 and not result.stopped
    shape = {"z": (8,), "w": (8,), "w+": (G.num_ws if space == "w+" else 0, 8)}[space]
    assert result.latent.shape == shape
    # far closer to the target than another of the generator's images is
    assert result.psnr > psnr(unrelated, target) + 6
    assert result.psnr == pytest.approx(psnr(result.image, target))
    # the latent alone redraws the reconstruction through the generator the explorer uses
    latent = torch.from_numpy(result.latent)[None]
    with torch.no_grad():
        if space == "z":
            again = G(latent, 3, 1.0)
        else:
            again = G.synthesis(G.broadcast(latent) if space == "w" else latent)
    assert np.abs(to_uint8(again)[0].astype(int) - result.image.astype(int)).max() <= 1
    # the loss reported is the loss of the latent returned (recomputed here, not the running minimum
    # read back), and the optimisation did reduce it
    assert _loss_of(job, result.latent) == pytest.approx(result.loss, rel=1e-4)
    losses = [r["loss"] for r in result.losses]
    assert losses[-1] < 0.5 * losses[0]


def test_stopping_keeps_the_best_so_far_and_reports_progress():
    G = _progressive()
    seen = []
    job = Projection(G, 3, 1.0, _drawn(G), steps=100, starts=2)
    result = job.run(lambda step, total, loss, image: seen.append((step, image is not None)),
                     should_stop=lambda: len(seen) >= 12, preview_every=5)
    assert result.stopped and result.steps_done == 12 == len(seen) == len(result.losses)
    assert [s for s, has_image in seen if has_image] == [5, 10]
    # what a stop keeps is a latent whose loss is the one reported and whose image is the one shown
    assert _loss_of(job, result.latent) == pytest.approx(result.loss, rel=1e-4)
    with torch.no_grad():
        redrawn = to_uint8(job._images(torch.from_numpy(result.latent)[None]))[0]
    assert np.array_equal(redrawn, result.image)


def test_spaces_and_options_that_do_not_fit_are_refused_with_a_reason():
    target = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="only z"):
        Projection(_progressive(), 3, 1.0, target, "w")
    with pytest.raises(ValueError, match="w or w\\+"):
        Projection(_stylegan2(), 3, 1.0, target, "z")
    with pytest.raises(ValueError, match="no noise inputs"):
        Projection(_progressive(), 3, 1.0, target, optimise_noise=True)
    with pytest.raises(ValueError, match="8x8"):
        Projection(_progressive(), 3, 1.0, np.zeros((16, 16, 3), np.uint8))


def test_noise_optimisation_keeps_each_map_normalised_and_returns_them():
    G = _stylegan2()
    result = Projection(G, 3, 1.0, _drawn(G), "w", steps=20, starts=1, optimise_noise=True).run()
    assert result.noise and all(abs(float(v.mean())) < 1e-4 and abs(float(v.std()) - 1) < 1e-2
                                for v in result.noise.values())
    # the generator given to the projection keeps its own fixed noise
    assert all(not torch.equal(torch.from_numpy(result.noise[name]), m.fixed)
               for name, m in G.named_modules() if hasattr(m, "fixed"))


def test_pixel_loss_counts_every_scale():
    a, b = torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8)
    b[..., ::2, :] = 1.0                 # stripes: lost at coarse scales, so only the 8x8 term sees them
    assert float(pixel_loss(a, b)) == pytest.approx((0.5 + 0.25) / 2)


@pytest.fixture(scope="module")
def run8(tmp_path_factory, shapes_folder):
    out = tmp_path_factory.mktemp("proj") / "run"
    assert main(["train", "--data", str(shapes_folder), "--out", str(out), "--resolution", "8", "--phase-kimg",
                 "0.128", "--max-kimg", "0.3", "--seed", "1", "--quiet", "--device", "cpu", "--classes", "off"]) == 0
    return out


def test_a_checkpoint_projects_with_its_discriminator_and_the_cli_writes_everything(run8, shapes_folder, tmp_path):
    image = next(shapes_folder.rglob("*.png"))
    big = tmp_path / "big.png"
    Image.open(image).resize((40, 30)).save(big)           # any size: cropped and resized like the data
    inputs = projection_inputs(run8, big)
    assert inputs.discriminator is not None and inputs.target.shape == (8, 8, 3)
    job = Projection(inputs.loaded.generator, inputs.loaded.level, inputs.loaded.alpha, inputs.target,
                     discriminator=inputs.discriminator, steps=10, starts=2)
    assert "D features" in job.loss_kind
    assert job.run().perceptual is not None
    out = tmp_path / "out"
    assert main(["project", str(run8), str(big), "--out", str(out), "--steps", "30", "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"latent.npy", "latent.json", "reconstruction.png", "target.png", "loss.csv", "projection.mp4"} <= names
    meta = json.loads((out / "latent.json").read_text())
    assert meta["space"] == "z" and meta["steps"] == 30 and meta["psnr_db"] > 0 and "D features" in meta["loss_kind"]
    assert np.load(out / "latent.npy").shape == (inputs.loaded.generator.latent_size,)
    assert len((out / "loss.csv").read_text().splitlines()) == 31
    assert json.loads(Image.open(out / "reconstruction.png").text["pgstudio.projection"])["space"] == "z"


def test_projecting_an_unreadable_image_or_a_wrong_space_is_a_clear_error(run8, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main(["project", str(run8), str(bad), "--out", str(tmp_path / "o")]) != 0
    assert "bad.png" in capsys.readouterr().err
    assert main(["project", str(run8), str(tmp_path / "missing.png"), "--out", str(tmp_path / "o")]) != 0
    assert "no such image" in capsys.readouterr().err
    good = tmp_path / "good.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(good)
    assert main(["project", str(run8), str(good), "--out", str(tmp_path / "o"), "--space", "w"]) != 0
    assert "only z" in capsys.readouterr().err
