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


def _patch_positions(n: int, resolution: int, patches_per_image: int, generator: torch.Generator,
                     chunk: int) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
    """The patches' corners, per level a (ys, xs) pair per chunk of images, drawn in the order the
    descriptors were always drawn in (chunk by chunk, level by level): the numbers do not depend on
    whether the descriptors are then built all at once or one level at a time."""
    levels = pyramid_resolutions(resolution)
    out: list[list[tuple[torch.Tensor, torch.Tensor]]] = [[] for _ in levels]
    for start in range(0, n, chunk):
        b = min(chunk, n - start)
        for li, h in enumerate(levels):
            p = min(7, h)
            ys = torch.randint(0, h - p + 1, (b, patches_per_image), generator=generator)
            xs = torch.randint(0, h - p + 1, (b, patches_per_image), generator=generator)
            out[li].append((ys, xs))
    return out


def _level_descriptors(images: torch.Tensor, level: int, positions: list[tuple[torch.Tensor, torch.Tensor]],
                       chunk: int, progress: Callable[[], None] | None = None) -> torch.Tensor:
    """uint8 NCHW → the [N*patches, 3*p*p] descriptors of one pyramid level."""
    n, _, res, _ = images.shape
    num_levels = len(pyramid_resolutions(res))
    parts = []
    for (ys, xs), start in zip(positions, range(0, n, chunk)):
        level_images = laplacian_pyramid(_as_rgb_float(images[start:start + chunk]), num_levels)[level]
        b, c, h, _ = level_images.shape
        k, p = ys.shape[1], min(7, h)
        offs = torch.arange(p)
        rows = (ys[..., None] + offs)[..., :, None].expand(-1, -1, p, p)        # b, k, p, p
        cols = (xs[..., None] + offs)[..., None, :].expand(-1, -1, p, p)
        bidx = torch.arange(b)[:, None, None, None].expand_as(rows)
        patches = level_images.permute(0, 2, 3, 1)[bidx, rows, cols]            # b, k, p, p, c
        parts.append(patches.permute(0, 1, 4, 2, 3).reshape(b * k, c * p * p))
        if progress:
            progress()
    return torch.cat(parts)


def extract_descriptors(images: torch.Tensor, patches_per_image: int, generator: torch.Generator,
                        chunk: int = 1024, progress: Callable[[], None] | None = None) -> list[torch.Tensor]:
    """uint8 NCHW → per pyramid level a [N*patches, 3*p*p] float descriptor matrix."""
    positions = _patch_positions(images.shape[0], images.shape[-1], patches_per_image, generator, chunk)
    return [_level_descriptors(images, li, pos, chunk, progress) for li, pos in enumerate(positions)]


def normalise(desc: torch.Tensor) -> torch.Tensor:
    """Per colour channel mean/std over all patches and pixels of this set (in place: the
    descriptors are the largest thing a score holds)."""
    m = desc.shape[0]
    x = desc.view(m, 3, -1)
    mean = x.mean(dim=(0, 2), keepdim=True)
    std = x.std(dim=(0, 2), keepdim=True)
    return x.sub_(mean).div_(std.clamp_min(1e-8)).view(m, -1)


DIRECTIONS_PER_PASS = 16     # projected and sorted at a time: memory n*patches*16 floats, same numbers


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator,
                       repeats: int = 4, directions: int = 128,
                       progress: Callable[[], None] | None = None) -> float:
    results = []
    for _ in range(repeats):
        dirs = torch.randn(a.shape[1], directions, generator=generator)
        dirs = dirs / dirs.norm(dim=0, keepdim=True)
        total = 0.0
        for j in range(0, directions, DIRECTIONS_PER_PASS):
            d = dirs[:, j:j + DIRECTIONS_PER_PASS]
            pa = torch.sort((a @ d).T.contiguous(), dim=1).values
            pb = torch.sort((b @ d).T.contiguous(), dim=1).values
            total += (pa - pb).abs().sum(dtype=torch.float64).item()
            del pa, pb
        results.append(total / (directions * a.shape[0]))
        if progress:
            progress()
    return float(sum(results) / len(results))


def swd_steps(n: int, resolution: int, chunk: int = 1024, repeats: int = 4) -> int:
    """Progress steps of one ms_swd: per level, both sets' descriptor chunks and each repeat."""
    return len(pyramid_resolutions(resolution)) * (2 * math.ceil(n / chunk) + repeats)


def ms_swd(images_a: torch.Tensor, images_b: torch.Tensor, seed: int = 0, patches_per_image: int = 128,
           repeats: int = 4, directions: int = 128, progress: Callable[[], None] | None = None,
           chunk: int = 1024) -> list[float]:
    """Distance per pyramid level x1000, highest resolution first. Both sets: uint8 NCHW, same N.

    One level at a time: only that level's two descriptor sets are held (a few hundred MB at
    n = 2,048 and 32², where holding every level of both sets took about 2 GB)."""
    if images_a.shape[0] != images_b.shape[0]:
        raise ValueError("both image sets must hold the same number of images")
    gen = torch.Generator().manual_seed(seed)
    res = images_a.shape[-1]
    pos_a = _patch_positions(images_a.shape[0], res, patches_per_image, gen, chunk)
    pos_b = _patch_positions(images_b.shape[0], res, patches_per_image, gen, chunk)
    out = []
    for li in range(len(pos_a)):
        da = normalise(_level_descriptors(images_a, li, pos_a[li], chunk, progress))
        db = normalise(_level_descriptors(images_b, li, pos_b[li], chunk, progress))
        out.append(1000.0 * sliced_wasserstein(da, db, gen, repeats, directions, progress))
        del da, db
    return out


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


RENDER_BATCH = 256


def swd_set_size(n: int, available: int, with_floor: bool = True) -> int:
    """The images per set a score uses: n, capped at the data set (at half of it with a floor)."""
    return min(n, available // 2 if with_floor else available)


def generator_swd_steps(n: int, available: int, resolution: int, with_floor: bool = True,
                        floor_known: bool = False) -> int:
    """Progress steps of swd_of_generator: rendering batches, then each comparison's."""
    m = swd_set_size(n, available, with_floor)
    comparisons = 1 + (with_floor and not floor_known)
    return math.ceil(m / RENDER_BATCH) + comparisons * swd_steps(m, resolution)


@torch.no_grad()
def swd_of_generator(generator, level: int, alpha: float, images, n: int, seed: int = 0,
                     with_floor: bool = True, progress: Callable[[], None] | None = None,
                     labels=None, known_floor: float | None = None, noise: str = "random") -> dict:
    """MS-SWD of a generator against a data set level (uint8 NCHW numpy array).

    n reals and n fakes (EMA generator, seeded latents); with ``with_floor`` a disjoint second
    set of n reals gives the real-vs-real floor, so n is capped at half the data set. A
    conditional generator's fakes take the labels of the reals they are compared with (``labels``:
    each image's class), so the two sets hold the classes alike. ``known_floor``: the floor of
    this very split (same images, n and seed), computed before — reused instead of recomputed.
    ``progress()`` is called generator_swd_steps times, evenly through the work. ``noise``: a
    generator with noise inputs draws "random" noise per sample (seeded by ``seed``, the official
    metrics' way) or its "const" maps (how runs from before metric_noise were scored).
    """
    import numpy as np
    from .export import render
    if n < MIN_IMAGES:
        raise ValueError(f"MS-SWD needs at least {MIN_IMAGES} images per set (asked for {n})")
    n = swd_set_size(n, images.shape[0], with_floor)
    if n < MIN_IMAGES:
        raise ValueError(f"the data set is too small for MS-SWD ({images.shape[0]} images; it needs "
                         f"{MIN_IMAGES * (2 if with_floor else 1)})")
    perm = np.random.default_rng(seed).permutation(images.shape[0])
    reals = torch.from_numpy(images[perm[:n]])
    floor = torch.from_numpy(images[perm[n:2 * n]]) if with_floor and known_floor is None else None
    z = torch.randn(n, generator.latent_size, generator=torch.Generator().manual_seed(seed))
    fake_labels = (torch.from_numpy(np.asarray(labels)[perm[:n]]) if labels is not None and getattr(generator, "classes", 0)
                   else None)
    if fake_labels is None and getattr(generator, "classes", 0):    # cycled over all n, not per batch
        from ..networks.conditioning import labels_for
        fake_labels = labels_for(generator, None, n, "cpu")
    parts = []
    for k, i in enumerate(range(0, n, RENDER_BATCH)):   # in batches, each a step of progress (and of cancel)
        parts.append(render(generator, z[i:i + RENDER_BATCH], level, alpha, batch=RENDER_BATCH,
                            labels=None if fake_labels is None else fake_labels[i:i + RENDER_BATCH],
                            noise_seed=(seed * 1000 + k) if noise == "random" else None))
        if progress:
            progress()
    fakes = torch.from_numpy(np.concatenate(parts)).permute(0, 3, 1, 2).contiguous()
    del parts
    record = swd_record(reals, fakes, floor, seed=seed, progress=progress)
    if with_floor and known_floor is not None:
        record["floor"] = known_floor
    return record
