import numpy as np
import torch
import torch.nn.functional as F

from pgstudio.core.analysis.metrics import laplacian_pyramid, ms_swd, pyramid_resolutions, swd_record
from tests.conftest import draw_shapes


def _set(n, seed):
    return torch.from_numpy(np.stack([np.asarray(im) for im in draw_shapes(n, 32, seed)])).permute(0, 3, 1, 2).contiguous()


def _blur(x, k):
    xf = x.float()
    for _ in range(k):
        xf = F.avg_pool2d(F.pad(xf, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return xf.round().clamp(0, 255).to(torch.uint8)


def _noise(x, sigma, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (x.float() + sigma * torch.randn(x.shape, generator=g)).round().clamp(0, 255).to(torch.uint8)


def test_pyramid_levels_and_reconstruction():
    assert pyramid_resolutions(128) == [128, 64, 32, 16]
    assert pyramid_resolutions(32) == [32, 16]
    assert pyramid_resolutions(8) == [8]
    x = _set(4, 0).float()
    levels = laplacian_pyramid(x, 2)
    assert [l.shape[-1] for l in levels] == [32, 16]
    # against the recipe written out with numpy: a separable 5-tap binomial [1 4 6 4 1]/16 with
    # mirrored edges, every second pixel kept going down; zeros between the pixels and the same
    # blur times 4 going up; the band is the image minus its low-pass brought back up
    def blur(a, gain=1.0):
        k = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16
        a = np.pad(a, [(0, 0), (0, 0), (2, 2), (2, 2)], mode="reflect")
        a = sum(k[i] * a[..., i:i + a.shape[-2] - 4, :] for i in range(5))
        return gain * sum(k[i] * a[..., :, i:i + a.shape[-1] - 4] for i in range(5))
    xn = x.numpy().astype(np.float64)
    down = blur(xn)[..., ::2, ::2]
    zeros = np.zeros_like(xn)
    zeros[..., ::2, ::2] = down
    up = blur(zeros, gain=4.0)
    assert np.allclose(levels[1].numpy(), down, atol=1e-3)
    assert np.allclose(levels[0].numpy(), xn - up, atol=1e-3)


def test_damage_scores_worse_and_monotone():
    reals, reals2 = _set(256, 1), _set(256, 2)
    floor = np.mean(ms_swd(reals, reals2))
    blur1, blur3 = np.mean(ms_swd(reals, _blur(reals2, 1))), np.mean(ms_swd(reals, _blur(reals2, 3)))
    noise1, noise2 = np.mean(ms_swd(reals, _noise(reals2, 10))), np.mean(ms_swd(reals, _noise(reals2, 40)))
    assert floor < blur1 < blur3
    assert floor < noise1 < noise2


def test_record_fields_and_reproducible():
    reals, fakes, floor = _set(64, 1), _blur(_set(64, 3), 2), _set(64, 2)
    r1 = swd_record(reals, fakes, floor, seed=5)
    r2 = swd_record(reals, fakes, floor, seed=5)
    assert r1 == r2
    assert r1["resolution"] == 32 and len(r1["levels"]) == 2 and r1["floor"] < r1["mean"]
