"""The explorer's projected images: latents found by projection (core/analysis/projection.py),
kept per generator as p1, p2, … so that interpolation keyframes can name them beside seeds
("3, p1, p2") and the current point can be one of them."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ...core.analysis.latents import seeded_latents


@dataclass(frozen=True)
class Projected:
    name: str                  # the image's file name
    space: str                 # "z", "w" or "w+"
    latent: torch.Tensor       # [1, L] (z or w) or [1, num_ws, L] (w+)
    psnr: float


class ProjectedLatents:
    def __init__(self):
        self.items: list[Projected] = []

    def add(self, item: Projected) -> str:
        self.items.append(item)
        return f"p{len(self.items)}"

    def clear(self) -> None:
        self.items = []

    def describe(self) -> str:
        if not self.items:
            return "none yet: project an image (or drop one on the explorer) to explore it like a seed"
        return " · ".join(f"p{i + 1} {p.name} ({p.space}, {p.psnr:.1f} dB)" for i, p in enumerate(self.items))

    def parse_keyframes(self, text: str) -> list:
        """'0, p1, 7' → [0, Projected, 7]; ValueError naming what is wrong."""
        keys = []
        for token in (t.strip() for t in text.split(",")):
            if not token:
                continue
            if token.lower().startswith("p"):
                try:
                    keys.append(self.items[int(token[1:]) - 1])
                except (ValueError, IndexError):
                    raise ValueError(f"{token}: no such projected image (have {len(self.items)})") from None
            else:
                try:
                    keys.append(int(token))
                except ValueError:
                    raise ValueError(f"{token}: keyframes are seeds or projected images (p1, p2, …)") from None
        return keys


def key_names(text: str) -> list:
    """The keys of '0, p1, 7' as provenance records them: seeds as numbers, projections by name."""
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    return [int(t) if t.lstrip("-").isdigit() else t for t in tokens]


def truncate_w(G, w: torch.Tensor, psi: float, labels: torch.Tensor | None) -> torch.Tensor:
    """Truncation of a given w (or w+) toward the mean w — the class's mean for a conditional
    generator — as map_to_w truncates the w of a seed."""
    if psi == 1.0:
        return w
    if getattr(G, "truncation_cutoff", None) is not None and G.truncation_cutoff < G.num_ws:
        centre = G.mapping.centre(len(w), labels, G.mapping.w_avg.device)
        return G.truncate(w if w.dim() == 3 else G.broadcast(w), psi, centre.to(w.device))
    mapping = G.mapping
    centre = (labels.to(mapping.w_avg_class) @ mapping.w_avg_class if labels is not None
              and hasattr(mapping, "w_avg_class") else mapping.w_avg[None])
    if w.dim() == 3:
        centre = centre[:, None, :]
    return centre + psi * (w - centre)


def keyframe_latents(G, keys: list, z_truncation: float | None, map_to_w, psi: float, labels_for,
                     in_w: bool) -> tuple[torch.Tensor, str]:
    """The keyframes as one tensor and its space: z when every key is a seed or a z projection
    (and ``in_w`` is off), else w — or w+ when any key is a w+ projection (the others broadcast)."""
    spaces = {k.space for k in keys if isinstance(k, Projected)}
    if not in_w and spaces <= {"z"}:
        rows = [k.latent if isinstance(k, Projected) else seeded_latents([k], G.latent_size, z_truncation)
                for k in keys]
        return torch.cat(rows), "z"
    rows = []
    for k in keys:
        if isinstance(k, Projected):
            rows.append(k.latent)
        else:
            rows.append(map_to_w(G, seeded_latents([k], G.latent_size), psi, labels=labels_for(1)))
    if "w+" in spaces or any(r.dim() == 3 for r in rows):     # (a StyleGAN w truncated below its cutoff)
        rows = [r if r.dim() == 3 else G.broadcast(r) for r in rows]
        return torch.cat(rows), "w+"
    return torch.cat(rows), "w"
