"""Which arithmetic a training step runs in: bf16 autocast or plain fp32.

``auto`` takes bf16 where the hardware computes it natively: every CUDA GPU we train on, and
CPUs with AVX512-BF16 or AMX tiles. Elsewhere on a CPU oneDNN has no bf16 kernels and falls
back to reference code: measured on this project's 2-core AVX2 VM, the trainer's step ran
11-13x slower in bf16 than in fp32 at 8x8 and 16x16 (README, Performance), so auto keeps fp32
there. Either way the gradient penalty and R1 pass stays in fp32 (see trainer).
"""
from __future__ import annotations

import torch

from ..config import PRECISIONS


def cpu_has_native_bf16() -> bool:
    """True when this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")   # torch.cpu's own cpuinfo probes
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def resolve_autocast_precision(name: str, device: torch.device) -> str:
    """``"bf16"`` or ``"fp32"`` for a config's ``precision`` on ``device``, for a family trained
    under autocast (a family with its own rules overrides Family.resolve_precision)."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (got {name!r})")
    if name != "auto":
        return name
    if device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16()):
        return "bf16"
    return "fp32"


def describe_autocast_precision(resolved: str, device: torch.device) -> str:
    """A few words for the log: what runs in which precision, and a warning where it will be slow."""
    if resolved == "fp32":
        return "fp32"
    if device.type == "cpu" and not cpu_has_native_bf16():
        return "bf16 autocast on a CPU without native bf16: expect steps about 10x slower than fp32"
    return "bf16 autocast, penalties in fp32"

