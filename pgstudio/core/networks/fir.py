"""2x up- and downsampling with StyleGAN2's [1, 3, 3, 1] FIR filter, in ordinary PyTorch ops.

The official code runs these through a custom CUDA kernel (upfirdn2d). Here one depthwise
convolution does each: a strided transposed convolution zero-stuffs and filters in one pass
for upsampling, a strided convolution filters and decimates for downsampling. The results
equal upfirdn2d with the same filter and padding (tests/test_stylegan2.py checks a
hand-written reference on a known image).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

FIR_TAPS = (1.0, 3.0, 3.0, 1.0)


def fir_kernel(taps=FIR_TAPS, device=None, dtype=torch.float32) -> torch.Tensor:
    """Separable 2D kernel, normalised to sum 1."""
    k = torch.tensor(taps, device=device, dtype=dtype)
    k = torch.outer(k, k)
    return k / k.sum()


_KERNELS: dict[tuple, torch.Tensor] = {}


def _default_kernel(gain: float, x: torch.Tensor) -> torch.Tensor:
    """The default filter on x's device and dtype, made once: copying a fresh CPU tensor to the
    GPU at every call made the host wait for the GPU ~50 times a StyleGAN2 step (measured)."""
    key = (gain, x.device, x.dtype)
    kernel = _KERNELS.get(key)
    if kernel is None:
        kernel = _KERNELS[key] = fir_kernel(device=x.device, dtype=x.dtype) * gain
    return kernel


def _depthwise(kernel: torch.Tensor, channels: int, x: torch.Tensor) -> torch.Tensor:
    return kernel.to(device=x.device, dtype=x.dtype).expand(channels, 1, *kernel.shape)


def upsample_fir(x: torch.Tensor, kernel: torch.Tensor | None = None) -> torch.Tensor:
    """2x upsampling: zeros between samples, then the filter (gain 4 keeps the mean)."""
    kernel = _default_kernel(4.0, x) if kernel is None else kernel * 4
    c = x.shape[1]
    # stride-2 transposed conv with padding 1 and a 4-tap kernel = upfirdn2d(up=2, pad=(2, 1))
    return F.conv_transpose2d(x, _depthwise(kernel, c, x), stride=2, padding=1, groups=c)


def downsample_fir(x: torch.Tensor, kernel: torch.Tensor | None = None) -> torch.Tensor:
    """2x downsampling: the filter, then every second sample (upfirdn2d(down=2, pad=(1, 1)))."""
    kernel = _default_kernel(1.0, x) if kernel is None else kernel
    c = x.shape[1]
    return F.conv2d(F.pad(x, (1, 1, 1, 1)), _depthwise(kernel, c, x), stride=2, groups=c)


def blur_fir(x: torch.Tensor, pad: int) -> torch.Tensor:
    """The filter alone at full rate, the map padded by ``pad`` zeros on every side
    (upfirdn2d(up=1, down=1, pad=(pad, pad))): 4 taps and pad 2 grow a map by one sample."""
    c = x.shape[1]
    return F.conv2d(F.pad(x, (pad, pad, pad, pad)), _depthwise(_default_kernel(1.0, x), c, x), groups=c)
