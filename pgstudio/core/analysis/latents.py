"""Latent-space math shared by the CLI, the explorer and exports."""
from __future__ import annotations

import torch


def seeded_latents(seeds: list[int], latent_size: int, truncation: float | None = None) -> torch.Tensor:
    """One latent per seed, the same for a seed whatever else is drawn (stable across tools)."""
    return torch.cat([sample_latents(1, latent_size, truncation, torch.Generator().manual_seed(int(s)))
                      for s in seeds])


def sample_latents(n: int, latent_size: int, truncation: float | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal latents, or a normal truncated to [-ψ, ψ] (redrawn, not clipped).

    The progressive generator pixel-normalises z, so a truncated latent needs no rescaling of
    its own: its direction is what changes the image, and truncation narrows it.
    """
    z = torch.empty(n, latent_size)
    if truncation is None:
        return z.normal_(generator=generator)
    if truncation <= 0:
        raise ValueError("truncation ψ must be positive")
    return torch.nn.init.trunc_normal_(z, 0.0, 1.0, -truncation, truncation, generator=generator)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation, the right path between two Gaussian latents."""
    an, bn = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    if float(so.abs().min()) < 1e-6:
        return torch.lerp(a, b, t)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def interpolation_path(keyframes: torch.Tensor, frames_per_segment: int, loop: bool = False,
                       blend=None) -> torch.Tensor:
    """k keyframes → N·(k−1) latents (N·k with loop), each segment starting on its keyframe.

    ``blend(a, b, t)`` defaults to slerp, the right path between Gaussian latents."""
    blend = slerp if blend is None else blend
    keys = list(keyframes)
    if loop:
        keys.append(keys[0])
    out = [blend(keys[i], keys[i + 1], j / frames_per_segment)
           for i in range(len(keys) - 1) for j in range(frames_per_segment)]
    return torch.stack(out)


def class_blend_path(classes: list[int], class_count: int, frames_per_segment: int, loop: bool = False) -> torch.Tensor:
    """Class-weight rows [F, class_count] going linearly from one chosen class to the next: a
    conditional generator embeds each row linearly, so this blends the classes' embeddings. Without
    ``loop`` the path ends on the last class itself."""
    keys = torch.nn.functional.one_hot(torch.tensor(classes), class_count).float()
    path = interpolation_path(keys, frames_per_segment, loop, blend=torch.lerp)
    return path if loop else torch.cat([path, keys[-1:]])
