"""What a projection leaves on disk: the latent (.npy) with its provenance beside it (.json), the
reconstruction and the target (PNG, provenance in text chunks), the loss log (CSV) and a video of
the optimisation (target | reconstruction, side by side). Shared by `pgstudio project` and the
explorer's Save."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np

from ..storage.disk import make_folder, write_atomic
from .export import save_png, write_video
from .projection import ProjectionResult

FRAME_SIZE = 256               # video frames: each half at least this many pixels (nearest-neighbour)


def provenance(result: ProjectionResult, source, image_path, class_name: str | None, loss_kind: str) -> dict:
    out = {"source": str(source), "target": str(image_path), "space": result.space, "loss_kind": loss_kind,
           "loss": round(result.loss, 6), "psnr_db": round(result.psnr, 3), "pixel_mse": round(result.pixel_mse, 6),
           "perceptual": None if result.perceptual is None else round(result.perceptual, 6),
           "steps": result.steps_done, "seconds": result.seconds, "stopped_early": result.stopped,
           "latent_shape": list(result.latent.shape), "noise_optimised": result.noise is not None}
    if class_name is not None:
        out["class"] = class_name
    return out


def side_by_side(target: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Target | reconstruction, upscaled (nearest) so each half is at least FRAME_SIZE pixels."""
    def rgb(x):
        return np.repeat(x, 3, axis=-1) if x.ndim == 3 and x.shape[-1] == 1 else x
    a, b = rgb(target), rgb(image)
    factor = max(1, FRAME_SIZE // a.shape[0])
    gap = np.full((a.shape[0], max(1, a.shape[0] // 16), 3), 255, np.uint8)
    frame = np.concatenate([a, gap, b], axis=1)
    return np.ascontiguousarray(frame.repeat(factor, axis=0).repeat(factor, axis=1))


def save_latent(result: ProjectionResult, path: str | os.PathLike, meta: dict) -> tuple[Path, Path]:
    """``path``.npy (the latent; w+ as [num_ws, L]) and ``path``.json (its provenance), atomically."""
    path = Path(path).with_suffix(".npy")
    make_folder(path.parent)
    buffer = io.BytesIO()
    np.save(buffer, result.latent)
    write_atomic(path, buffer.getvalue())
    side = path.with_suffix(".json")
    write_atomic(side, json.dumps(meta, indent=1))
    return path, side


def write_projection(result: ProjectionResult, target: np.ndarray, out_dir: str | os.PathLike, meta: dict,
                     frames: list[np.ndarray] | None = None) -> dict[str, Path]:
    """Every file of a projection into ``out_dir``; returns them by role."""
    out = Path(out_dir)
    make_folder(out)
    written = {}
    written["latent"], written["provenance"] = save_latent(result, out / "latent.npy", meta)
    written["reconstruction"] = save_png(result.image, out / "reconstruction.png", {"projection": meta})
    written["target"] = save_png(target, out / "target.png", {"projection_target": str(meta.get("target"))})
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["step", "loss", "pixel", "features"])
    writer.writeheader()
    writer.writerows(result.losses)
    write_atomic(out / "loss.csv", text.getvalue())
    written["loss_log"] = out / "loss.csv"
    if result.noise is not None:
        buffer = io.BytesIO()
        np.savez(buffer, **{k.replace(".", "/"): v for k, v in result.noise.items()})
        write_atomic(out / "noise.npz", buffer.getvalue())
        written["noise"] = out / "noise.npz"
    if frames:
        written["video"] = write_video([side_by_side(target, f) for f in frames], out / "projection.mp4", fps=12)
    return written
