"""The one place that converts between network tensors and uint8 pictures."""
from __future__ import annotations

import math

import numpy as np
import torch


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] float NCHW tensor → uint8 NHWC numpy array (C is 1 or 3), as in the paper's code."""
    x = (images.detach().float() * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8)
    return np.ascontiguousarray(x.permute(0, 2, 3, 1).cpu().numpy())


def mean_gray(images: np.ndarray, axis: int = -1) -> np.ndarray:
    """uint8 RGB → uint8 one-channel (the mean of the channels, kept as an axis of size 1): how
    the import turns a data set gray, so everything compared with it is turned gray alike."""
    return np.round(images.astype(np.float32).mean(axis=axis, keepdims=True)).astype(np.uint8)


def from_uint8(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 NCHW → float [-1, 1]."""
    x = torch.as_tensor(images)
    return x.float() / 127.5 - 1.0


def grid_shape(n: int) -> tuple[int, int]:
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    return rows, cols


def make_grid(images: np.ndarray, cols: int | None = None, pad: int = 1, pad_value: int = 0) -> np.ndarray:
    """uint8 NHWC images → one uint8 HWC (C=3) grid; grayscale is tiled to RGB."""
    n, h, w, c = images.shape
    if c == 1:
        images = np.repeat(images, 3, axis=3)
    rows, default_cols = grid_shape(n)
    cols = cols or default_cols
    rows = int(math.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), pad_value, np.uint8)
    for i in range(n):
        r, col = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y:y + h, x:x + w] = images[i]
    return grid
