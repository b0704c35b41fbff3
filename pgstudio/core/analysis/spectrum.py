"""Mean power spectra of image sets, and how a generator's differ from the reals' on the axes.

An upsampling or downsampling operator that repeats on a 2-pixel grid leaves energy at the
high frequencies of the sampling lattice: in the grids a crosshatch of axis-aligned lines, in
the mean power spectrum an excess on the frequency axes (fx = 0 or fy = 0) near Nyquist. This
module measures that excess against real images, so that a change of resampling can be judged
by a number rather than by eye.

Spectra are of the luminance (the channel mean) with each image's mean removed. A separable
Hann window is applied by default: without it the FFT's periodic extension turns every image's
border into a cross of energy on the axes, which a generator's border (its zero padding) can
change without any lattice in the interior. ``window=False`` keeps that border term.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# the band compared: frequencies above this fraction of Nyquist ("the top quarter")
HIGH_BAND = 0.75


def power_spectrum(images: np.ndarray | torch.Tensor, window: bool = True, chunk: int = 512) -> np.ndarray:
    """Mean |FFT|² over a set of images [N, C, H, W] (any range), zero frequency in the centre."""
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    n, _, h, w = x.shape
    taper = (torch.hann_window(h, periodic=False, dtype=torch.float64)[:, None]
             * torch.hann_window(w, periodic=False, dtype=torch.float64)[None, :]) if window else None
    total = torch.zeros(h, w, dtype=torch.float64)
    for start in range(0, n, chunk):
        lum = x[start:start + chunk].double().mean(dim=1)
        lum = lum - lum.mean(dim=(1, 2), keepdim=True)
        if taper is not None:
            lum = lum * taper
        total += torch.fft.fft2(lum).abs().square().sum(dim=0)
    return torch.fft.fftshift(total / max(n, 1)).numpy()


def _axis_masks(h: int, w: int) -> dict[str, np.ndarray]:
    """Bins above HIGH_BAND of Nyquist on each frequency axis, and a control band off the axes."""
    fy = np.fft.fftshift(np.fft.fftfreq(h))[:, None] * 2       # in units of Nyquist, [-1, 1)
    fx = np.fft.fftshift(np.fft.fftfreq(w))[None, :] * 2
    high_y, high_x = np.abs(fy) > HIGH_BAND, np.abs(fx) > HIGH_BAND
    radius = np.sqrt(fy ** 2 + fx ** 2)
    return {
        # the fy axis (fx = 0): horizontal stripes; the fx axis (fy = 0): vertical lines
        "vertical_frequency_axis": high_y & (fx == 0),
        "horizontal_frequency_axis": high_x & (fy == 0),
        # the same radii away from both axes: what the overall high-frequency level does
        "off_axis": (radius > HIGH_BAND) & (radius <= 1) & (np.abs(fy) > 1.5 / h * 2) & (np.abs(fx) > 1.5 / w * 2),
    }


@dataclass(frozen=True)
class SpectrumComparison:
    """Fakes' power over reals' power in each band (1 = as much as the reals)."""
    vertical_frequency_axis: float      # > 1: horizontal stripes
    horizontal_frequency_axis: float    # > 1: vertical lines
    off_axis: float
    radial: list[float]                 # per radius bin (Nyquist in ``len(radial)`` steps): the ratio

    def worst_axis(self) -> float:
        """The axis excess furthest from 1, as a factor ≥ 1 (1.25 means 25 % more or 20 % less)."""
        return max(max(r, 1 / r) for r in (self.vertical_frequency_axis, self.horizontal_frequency_axis))

    def as_dict(self) -> dict:
        return {"vertical_frequency_axis": round(self.vertical_frequency_axis, 4),
                "horizontal_frequency_axis": round(self.horizontal_frequency_axis, 4),
                "off_axis": round(self.off_axis, 4), "worst_axis": round(self.worst_axis(), 4),
                "radial": [round(r, 4) for r in self.radial]}


def radial_profile(spectrum: np.ndarray, bins: int | None = None) -> np.ndarray:
    """Mean power per ring of radius (in units of Nyquist, [0, 1] in ``bins`` steps)."""
    h, w = spectrum.shape
    bins = bins or min(h, w) // 2
    fy = np.fft.fftshift(np.fft.fftfreq(h))[:, None] * 2
    fx = np.fft.fftshift(np.fft.fftfreq(w))[None, :] * 2
    ring = np.minimum((np.sqrt(fy ** 2 + fx ** 2) * bins).astype(int), bins)
    sums = np.bincount(ring.ravel(), spectrum.ravel(), minlength=bins + 1)[:bins + 1]
    counts = np.bincount(ring.ravel(), minlength=bins + 1)[:bins + 1]
    return sums / np.maximum(counts, 1)


def compare(fake_spectrum: np.ndarray, real_spectrum: np.ndarray) -> SpectrumComparison:
    masks = _axis_masks(*real_spectrum.shape)

    def ratio(mask: np.ndarray) -> float:
        return float(fake_spectrum[mask].sum() / max(real_spectrum[mask].sum(), 1e-30))
    radial = radial_profile(fake_spectrum) / np.maximum(radial_profile(real_spectrum), 1e-30)
    return SpectrumComparison(ratio(masks["vertical_frequency_axis"]), ratio(masks["horizontal_frequency_axis"]),
                              ratio(masks["off_axis"]), [float(r) for r in radial])
