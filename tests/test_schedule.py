import math

import pytest
import torch

from pgstudio.core.config import TrainConfig
from pgstudio.core.networks.layers import downsample2x, upsample2x
from pgstudio.core.training.schedule import phases, preview, schedule_at, schedule_length_kimg, total_kimg
from pgstudio.core.validation import config_messages


def cfg(**kw):
    base = dict(demo=True, resolution=32, stabilize_kimg=10, fade_kimg=20,
                batch={4: 64, 8: 32, 16: 16, 32: 8}, lr={32: 0.001}, lr_default=0.002)
    base.update(kw)
    return TrainConfig(**base)


def test_phase_sequence():
    ps = phases(cfg())
    assert [(p.resolution, p.kind) for p in ps] == [
        (4, "stabilize"), (8, "fade"), (8, "stabilize"), (16, "fade"), (16, "stabilize"),
        (32, "fade"), (32, "stabilize")]
    assert ps[1].start_kimg == 10 and ps[1].end_kimg == 30 and ps[2].end_kimg == 40
    assert math.isinf(ps[-1].end_kimg)
    assert schedule_length_kimg(cfg()) == 10 + 3 * 30


@pytest.mark.parametrize("kimg, res, alpha, phase, batch, lr", [
    (0, 4, 1.0, "stabilize", 64, 0.002),
    (9.999, 4, 1.0, "stabilize", 64, 0.002),
    (10, 8, 0.0, "fade", 32, 0.002),
    (20, 8, 0.5, "fade", 32, 0.002),
    (30, 8, 1.0, "stabilize", 32, 0.002),
    (45, 16, 0.25, "fade", 16, 0.002),
    (85, 32, 0.75, "fade", 8, 0.001),
    (500, 32, 1.0, "stabilize", 8, 0.001),
])
def test_schedule_point(kimg, res, alpha, phase, batch, lr):
    p = schedule_at(cfg(), int(round(kimg * 1000)))
    assert (p.resolution, p.phase, p.batch, p.lr) == (res, phase, batch, lr)
    assert p.alpha == pytest.approx(alpha, abs=1e-6)
    assert p.lod == pytest.approx(math.log2(32) - math.log2(res) + (1 - alpha))


def test_lod_falls_through_the_fades_and_holds_in_between():
    c = cfg()
    points = [schedule_at(c, i * 500) for i in range(300)]
    lods = [p.lod for p in points]
    assert all(a >= b for a, b in zip(lods, lods[1:]))
    assert lods[0] == pytest.approx(math.log2(32) - 2) and lods[-1] == pytest.approx(0.0)
    # whole while a resolution stabilizes, strictly between two wholes while the next fades in
    assert all(p.lod == int(p.lod) for p in points if p.phase == "stabilize")
    assert all(0 < p.lod - math.floor(p.lod) < 1 for p in points if p.phase == "fade" and 0 < p.alpha < 1)


def test_total_kimg_and_preview():
    assert total_kimg(cfg()) == 100
    assert total_kimg(cfg(max_kimg=42)) == 42
    pv = preview(cfg(), points=50)
    assert pv["resolution"][0] == 4 and pv["resolution"][-1] == 32
    assert min(pv["alpha"]) == 0.0 and max(pv["alpha"]) == 1.0
    assert len(pv["kimg"]) == len(pv["alpha"]) == len(pv["resolution"])


def test_validation_messages():
    assert config_messages(cfg()) == []
    problems = config_messages(cfg(resolution=48, loss="x", stabilize_kimg=0, batch={4: 0}))
    assert len(problems) == 4
    assert any("power of two" in p for p in problems)


def test_config_json_round_trip():
    c = cfg(max_kimg=7.5)
    assert TrainConfig.from_json(c.to_json()) == c


@pytest.mark.parametrize("resample", ["fir", "nearest"])
def test_reals_are_cross_faded_like_the_generator(shapes_folder, resample):
    """During a fade D's reals are lerp(up(down(x)), x, α), the same blend G outputs: up is G's own
    upsampling (FIR in new runs, nearest in runs from before the key)."""
    from tests.conftest import tiny_config
    from pgstudio.core.data.dataset import import_folder
    from pgstudio.core.networks.fir import upsample_fir
    from pgstudio.core.training.trainer import Trainer
    import tempfile
    c = tiny_config(shapes_folder, resample=resample)
    up = upsample_fir if resample == "fir" else upsample2x
    ds = import_folder(shapes_folder, 8)
    t = Trainer.new(tempfile.mkdtemp() + "/run", c, dataset=ds)
    for alpha in (0.0, 0.3):
        images = int((c.stabilize_kimg + alpha * c.fade_kimg) * 1000)
        p = schedule_at(c, images)
        assert p.phase == "fade" and p.alpha == pytest.approx(alpha, abs=0.01)
        state = t.rng.get_state()
        blended = t.stepper.reals(p)
        t.rng.set_state(state)
        raw = t.stepper.reals(schedule_at(c, int((c.stabilize_kimg + c.fade_kimg) * 1000)))
        low = up(downsample2x(raw))
        assert torch.allclose(blended, (1 - p.alpha) * low + p.alpha * raw, atol=1e-6)
