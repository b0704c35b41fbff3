"""The w space of the style-based generators (StyleGAN, StyleGAN2) for the explorer, the CLI and
notebooks: truncation toward the mean w, style mixing, w interpolation and principal directions in w (GANSpace's choice for StyleGAN)."""
from __future__ import annotations

import numpy as np
import torch

from .directions import Directions
from ..data.images import make_grid, to_uint8
from .latents import interpolation_path

# the StyleGAN paper's bands: coarse 4²–8², middle 16²–32², fine 64² and up
LAYER_BANDS = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 1 << 20)}


def _device(G) -> torch.device:
    return next(G.parameters()).device


@torch.no_grad()
def map_to_w(G, z: torch.Tensor, psi: float = 1.0, batch: int = 256, labels: torch.Tensor | None = None) -> torch.Tensor:
    """z → w, pulled toward the tracked mean w by ψ (1: none, 0: the mean image); a conditional
    generator's labels (cycled through its classes when None) pull toward their class's mean.
    A generator that truncates only its first layers (StyleGAN's cutoff) gives w+ [N, num_ws,
    w_dim] when ψ leaves its finer layers apart from the others; else one w per latent."""
    from ..networks.conditioning import labels_for
    device = _device(G)
    labels = labels_for(G, labels, len(z), device)
    cutoff = getattr(G, "truncation_cutoff", None)
    if psi != 1.0 and cutoff is not None and cutoff < G.num_ws:
        w = map_to_w(G, z, 1.0, batch, labels)
        centre = G.mapping.centre(len(z), None if labels is None else labels.to(device), device).cpu()
        return G.truncate(G.broadcast(w), psi, centre)
    return torch.cat([G.mapping(z[i:i + batch].to(device), psi,
                                labels=None if labels is None else labels[i:i + batch]).float().cpu()
                      for i in range(0, len(z), batch)])


@torch.no_grad()
def render_w(G, w: torch.Tensor, noise_mode: str = "const", batch: int = 64) -> np.ndarray:
    """w [N, w_dim] (one w for every layer) or ws [N, num_ws, w_dim] → uint8 NHWC images."""
    device = _device(G)
    ws = G.broadcast(w) if w.dim() == 2 else w
    return np.concatenate([to_uint8(G.synthesis(ws[i:i + batch].to(device), noise_mode))
                           for i in range(0, len(ws), batch)])


def layer_range(G, band: str) -> tuple[int, int]:
    """The w indices [lo, hi) styling a band's resolutions; empty (lo == hi) if the net has none."""
    lo_res, hi_res = LAYER_BANDS[band]
    idx = [i for i in range(G.num_ws) if lo_res <= G.layer_resolution(i) <= hi_res]
    return (idx[0], idx[-1] + 1) if idx else (0, 0)


def mix_styles(G, w_rows: torch.Tensor, w_cols: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """Every (row, column) pair: the row's w everywhere except layers [lo, hi), taken from the column.
    Rows and columns are w [N, w_dim] or, for a projected image, ws [N, num_ws, w_dim]."""
    def per_layer(w):
        return w if w.dim() == 3 else G.broadcast(w)
    rows = per_layer(w_rows)[:, None].expand(-1, len(w_cols), -1, -1).clone()   # [R, C, num_ws, w]
    rows[:, :, lo:hi] = per_layer(w_cols)[None, :, lo:hi]
    return rows.reshape(-1, G.num_ws, rows.shape[-1])


def style_mixing_grid(G, w_rows: torch.Tensor, w_cols: torch.Tensor, lo: int, hi: int,
                      noise_mode: str = "const", pad: int = 2) -> np.ndarray:
    """The StyleGAN figure: column sources across the top, row sources down the left, and in
    each cell the row image with the column's styles in layers [lo, hi)."""
    cols_img = render_w(G, w_cols, noise_mode)
    rows_img = render_w(G, w_rows, noise_mode)
    cells = render_w(G, mix_styles(G, w_rows, w_cols, lo, hi), noise_mode)
    blank = np.full_like(cells[:1], 255)
    table = [blank, cols_img]
    for r in range(len(w_rows)):
        table += [rows_img[r:r + 1], cells[r * len(w_cols):(r + 1) * len(w_cols)]]
    return make_grid(np.concatenate(table), cols=len(w_cols) + 1, pad=pad, pad_value=255)


def interpolate_w(keys: torch.Tensor, frames_per_segment: int, loop: bool = False) -> torch.Tensor:
    """Linear interpolation between keyframe w (w is not Gaussian, so no slerp)."""
    return interpolation_path(keys, frames_per_segment, loop, blend=torch.lerp)


@torch.no_grad()
def compute_w_directions(G, k: int = 8, samples: int = 2000, seed: int = 0) -> Directions:
    """PCA of w over random z: the principal axes are the directions, σ their spread."""
    z = torch.randn(samples, G.latent_size, generator=torch.Generator().manual_seed(seed))
    w = map_to_w(G, z)
    centred = w - w.mean(0)
    k = min(k, w.shape[1], samples - 1)
    _, _, v = torch.pca_lowrank(centred, q=k, center=False)
    vectors = v.T.contiguous()                              # [k, w_dim], unit length
    sigma = (centred @ v).std(0)
    return Directions(vectors, sigma, [f"PC{i + 1}" for i in range(k)], space="w")
