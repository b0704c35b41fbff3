"""Which device a run trains on, and the CUDA settings that go with its precision."""
from __future__ import annotations

import torch

from ..data.dataset import DatasetError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DatasetError("device cuda was asked for but no CUDA GPU is available")
    return torch.device(name)


def training_device(name: str, dist) -> torch.device:
    """The config's device; under torchrun each rank takes its own GPU."""
    device = resolve_device(name)
    if dist.active and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
    return device


def configure_device(device: torch.device, bf16: bool) -> None:
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = bf16      # "fp32" asks for full fp32 matmuls
        torch.backends.cudnn.allow_tf32 = bf16
        torch.backends.cudnn.benchmark = True
