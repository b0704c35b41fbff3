"""Multi-scale sliced Wasserstein distance (MS-SWD), the PGGAN paper's own metric.

Recipe (design.md §2): uint8 RGB images, a Laplacian pyramid from the full resolution down
to 16x16, 128 random 7x7x3 patches per image and level, each descriptor set normalised by
its own per-channel mean and std, then 4 repeats x 128 random unit directions: project,
sort, mean absolute difference. Reported x1000 per level (highest resolution first) and
their mean; a real-vs-real distance with a second set of reals is the noise floor.
Below 16x16 (early in training) the pyramid has one level and patches shrink to fit.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
KERNEL = (_BINOMIAL[:, None] * _BINOMIAL[None, :]) / 256.0
MIN_IMAGES = 16          # per set: with fewer, the distance is noise


def _blur(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    c = x.shape[1]
    k = (KERNEL * gain).to(x).expand(c, 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=c)


def pyramid_down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[:, :, ::2, ::2]


def pyramid_up(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    up = torch.zeros(n, c, h * 2, w * 2, dtype=x.dtype, device=x.device)
    up[:, :, ::2, ::2] = x
    return _blur(up, gain=4.0)


def laplacian_pyramid(x: torch.Tensor, num_levels: int) -> list[torch.Tensor]:
    """Highest resolution first; the last level is the low-pass residual itself."""
    levels = []
    current = x
    for _ in range(num_levels - 1):
        down = pyramid_down(current)
        levels.append(current - pyramid_up(down))
        current = down
    levels.append(current)
    return levels


def pyramid_resolutions(resolution: int) -> list[int]:
    if resolution <= 16:
        return [resolution]
    return [resolution >> i for i in range(int(math.log2(resolution)) - 3)]


def _as_rgb_float(images: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(images)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x.float()


def extract_descriptors(images: torch.Tensor, patches_per_image: int, generator: torch.Generator,
                        chunk: int = 1024, progress: Callable[[], None] | None = None) -> list[torch.Tensor]:
    """uint8 NCHW → per pyramid level a [N*patches, 3*p*p] float descriptor matrix."""
    n, _, res, _ = images.shape
    num_levels = len(pyramid_resolutions(res))
    out: list[list[torch.Tensor]] = [[] for _ in range(num_levels)]
    for start in range(0, n, chunk):
        batch = _as_rgb_float(images[start:start + chunk])
        for li, level in enumerate(laplacian_pyramid(batch, num_levels)):
            b, c, h, w = level.shape
            p = min(7, h)
            ys = torch.randint(0, h - p + 1, (b, patches_per_image), generator=generator)
            xs = torch.randint(0, w - p + 1, (b, patches_per_image), generator=generator)
            offs = torch.arange(p)
            rows = (ys[..., None] + offs)[..., :, None].expand(-1, -1, p, p)        # b, k, p, p
            cols = (xs[..., None] + offs)[..., None, :].expand(-1, -1, p, p)
            bidx = torch.arange(b)[:, None, None, None].expand_as(rows)
            patches = level.permute(0, 2, 3, 1)[bidx, rows, cols]                  # b, k, p, p, c
            out[li].append(patches.permute(0, 1, 4, 2, 3).reshape(b * patches_per_image, c * p * p))
        if progress:
            progress()
    return [torch.cat(parts) for parts in out]


def normalise(desc: torch.Tensor) -> torch.Tensor:
    """Per colour channel mean/std over all patches and pixels of this set."""
    m = desc.shape[0]
    x = desc.view(m, 3, -1)
    mean = x.mean(dim=(0, 2), keepdim=True)
    std = x.std(dim=(0, 2), keepdim=True)
    return ((x - mean) / std.clamp_min(1e-8)).view(m, -1)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator,
                       repeats: int = 4, directions: int = 128) -> float:
    results = []
    for _ in range(repeats):
        dirs = torch.randn(a.shape[1], directions, generator=generator)
        dirs = dirs / dirs.norm(dim=0, keepdim=True)
        pa = torch.sort((a @ dirs).T.contiguous(), dim=1).values
        pb = torch.sort((b @ dirs).T.contiguous(), dim=1).values
        results.append((pa - pb).abs().mean().item())
    return float(sum(results) / len(results))


def ms_swd(images_a: torch.Tensor, images_b: torch.Tensor, seed: int = 0, patches_per_image: int = 128,
           repeats: int = 4, directions: int = 128, progress: Callable[[], None] | None = None) -> list[float]:
    """Distance per pyramid level x1000, highest resolution first. Both sets: uint8 NCHW, same N."""
    if images_a.shape[0] != images_b.shape[0]:
        raise ValueError("both image sets must hold the same number of images")
    gen = torch.Generator().manual_seed(seed)
    da = extract_descriptors(images_a, patches_per_image, gen, progress=progress)
    db = extract_descriptors(images_b, patches_per_image, gen, progress=progress)
    return [1000.0 * sliced_wasserstein(normalise(a), normalise(b), gen, repeats, directions)
            for a, b in zip(da, db)]


def swd_record(reals: torch.Tensor, fakes: torch.Tensor, reals_floor: torch.Tensor | None,
               seed: int = 0, progress: Callable[[], None] | None = None) -> dict:
    """The run folder's "swd" record fields: levels, mean, floor, resolution, n."""
    levels = ms_swd(reals, fakes, seed=seed, progress=progress)
    record = {"resolution": int(reals.shape[-1]), "n": int(reals.shape[0]),
              "levels": [round(v, 3) for v in levels], "mean": round(sum(levels) / len(levels), 3),
              "level_resolutions": pyramid_resolutions(int(reals.shape[-1])), "floor": None}
    if reals_floor is not None:
        floor = ms_swd(reals, reals_floor, seed=seed + 1, progress=progress)
        record["floor"] = round(sum(floor) / len(floor), 3)
    return record


@torch.no_grad()
def swd_of_generator(generator, level: int, alpha: float, images, n: int, seed: int = 0,
                     with_floor: bool = True, progress: Callable[[], None] | None = None,
                     labels=None) -> dict:
    """MS-SWD of a generator against a data set level (uint8 NCHW numpy array).

    n reals and n fakes (EMA generator, seeded latents); with ``with_floor`` a disjoint second
    set of n reals gives the real-vs-real floor, so n is capped at half the data set. A
    conditional generator's fakes take the labels of the reals they are compared with (``labels``:
    each image's class), so the two sets hold the classes alike.
    """
    import numpy as np
    from .export import render
    if n < MIN_IMAGES:
        raise ValueError(f"MS-SWD needs at least {MIN_IMAGES} images per set (asked for {n})")
    cap = images.shape[0] // 2 if with_floor else images.shape[0]
    n = min(n, cap)
    if n < MIN_IMAGES:
        raise ValueError(f"the data set is too small for MS-SWD ({images.shape[0]} images; it needs "
                         f"{MIN_IMAGES * (2 if with_floor else 1)})")
    perm = np.random.default_rng(seed).permutation(images.shape[0])
    reals = torch.from_numpy(images[perm[:n]])
    floor = torch.from_numpy(images[perm[n:2 * n]]) if with_floor else None
    z = torch.randn(n, generator.latent_size, generator=torch.Generator().manual_seed(seed))
    fake_labels = (torch.from_numpy(np.asarray(labels)[perm[:n]]) if labels is not None and getattr(generator, "classes", 0)
                   else None)
    fakes = torch.from_numpy(render(generator, z, level, alpha, batch=256, labels=fake_labels)
                             ).permute(0, 3, 1, 2).contiguous()
    return swd_record(reals, fakes, floor, seed=seed, progress=progress)
