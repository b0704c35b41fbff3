"""The power-spectrum comparison that judges the lattice artefact (core/analysis/spectrum.py)."""
import numpy as np
import pytest

from pgstudio.core.analysis.spectrum import compare, power_spectrum, radial_profile


def smooth_images(n: int = 64, size: int = 32, seed: int = 0) -> np.ndarray:
    """Blobs: random noise low-passed, so the high band holds little energy of its own."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1, size, size))
    f = np.fft.fftfreq(size)
    low = np.exp(-(f[:, None] ** 2 + f[None, :] ** 2) / (2 * 0.12 ** 2))
    return np.real(np.fft.ifft2(np.fft.fft2(x) * low)) * 10


def with_horizontal_stripes(images: np.ndarray, amplitude: float = 0.05) -> np.ndarray:
    """Every other row brighter: energy at fy = Nyquist, fx = 0 (the vertical-frequency axis)."""
    stripes = np.where(np.arange(images.shape[2]) % 2 == 0, amplitude, -amplitude)[:, None]
    return images + stripes


def test_the_same_images_compare_as_one():
    a = smooth_images()
    c = compare(power_spectrum(a), power_spectrum(a))
    assert c.vertical_frequency_axis == pytest.approx(1) and c.horizontal_frequency_axis == pytest.approx(1)
    assert c.worst_axis() == pytest.approx(1)


def test_horizontal_stripes_show_on_the_vertical_frequency_axis_only():
    reals = smooth_images(seed=1)
    fakes = with_horizontal_stripes(smooth_images(seed=2))
    c = compare(power_spectrum(fakes), power_spectrum(reals))
    assert c.vertical_frequency_axis > 5
    assert 0.5 < c.horizontal_frequency_axis < 2 and 0.5 < c.off_axis < 2
    # the same images turned by 90°: the excess moves to the other axis
    turned = compare(power_spectrum(fakes.transpose(0, 1, 3, 2)), power_spectrum(reals.transpose(0, 1, 3, 2)))
    assert turned.horizontal_frequency_axis == pytest.approx(c.vertical_frequency_axis, rel=1e-9)
    assert turned.worst_axis() == pytest.approx(c.worst_axis(), rel=1e-9)


def test_a_two_pixel_block_lattice_shows_on_both_axes():
    """Nearest-neighbour 2x upsampling of a fine pattern: what a generator's lattice looks like."""
    rng = np.random.default_rng(3)
    reals = smooth_images(seed=4)
    blocks = rng.normal(size=(64, 1, 16, 16)).repeat(2, axis=2).repeat(2, axis=3) * 0.3
    c = compare(power_spectrum(smooth_images(seed=5) + blocks), power_spectrum(reals))
    assert c.vertical_frequency_axis > 2 and c.horizontal_frequency_axis > 2


def test_the_window_keeps_borders_off_the_axes():
    """A bright border is a cross on the axes without a window and (nearly) nothing with one."""
    reals = smooth_images(seed=6)
    framed = reals.copy()
    framed[:, :, :, 0] += 3
    framed[:, :, :, -1] -= 3
    bare = compare(power_spectrum(framed, window=False), power_spectrum(reals, window=False))
    windowed = compare(power_spectrum(framed), power_spectrum(reals))
    assert bare.horizontal_frequency_axis > 3
    assert windowed.horizontal_frequency_axis < bare.horizontal_frequency_axis / 2


def test_the_radial_profile_of_white_noise_is_flat():
    noise = np.random.default_rng(7).normal(size=(256, 1, 32, 32))
    profile = radial_profile(power_spectrum(noise, window=False))
    assert profile[1:].std() / profile[1:].mean() < 0.1
