"""Generator export (safetensors + JSON), rendering helpers, and image / video writers."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from ..storage.disk import atomic_file, copy_file, make_folder, write_atomic
from ..data.images import make_grid, to_uint8

WEIGHTS_NAME = "generator.safetensors"
CONFIG_NAME = "generator.json"


def export_generator(loaded, out_dir: str | os.PathLike) -> Path:
    """EMA generator weights as safetensors plus a JSON config: architecture, level, α, source."""
    from safetensors.torch import save
    out = make_folder(out_dir)
    G = loaded.generator
    tensors = {k: v.detach().cpu().contiguous() for k, v in G.state_dict().items()}
    write_atomic(out / WEIGHTS_NAME, save(tensors))
    meta = {"format": "pgstudio-generator", "version": 1, "arch": G.architecture()["arch"],
            "architecture": G.architecture(),
            "level": loaded.level, "resolution": 2 ** loaded.level, "alpha": loaded.alpha,
            "phase": loaded.phase, "kimg": loaded.kimg, "image_channels": G.image_channels,
            "latent_size": G.latent_size, "source": str(loaded.source)}
    if getattr(G, "class_names", None):      # also inside "architecture", which the loader reads
        meta["class_names"] = list(G.class_names)
    if loaded.fixed_latents is not None:
        meta["fixed_latents"] = loaded.fixed_latents.tolist()
    write_atomic(out / CONFIG_NAME, json.dumps(meta, indent=2))
    return out


def takes_noise(G) -> bool:
    """Whether a generator draws per-pixel noise (StyleGAN2), which a caller may choose."""
    import inspect
    return "noise_generator" in inspect.signature(G.forward).parameters


def render(G, z: torch.Tensor, level: int, alpha: float, batch: int = 64,
           labels: torch.Tensor | None = None, noise_seed: int | None = None,
           codes: torch.Tensor | None = None) -> np.ndarray:
    """Latents → uint8 NHWC images, in batches, without gradients (a conditional generator's
    labels: class indices or class-weight rows, cycled through its classes when None; an
    InfoGAN generator's code rows, one per latent, those z stands for when None).

    ``noise_seed``: a generator with noise inputs draws fresh noise for every sample from a
    generator seeded so (as the official metrics do: one fixed map shared by every sample removes
    per-sample detail and biases a distribution's score); None keeps its fixed maps."""
    from ..networks.conditioning import labels_for
    device = next(G.parameters()).device
    labels = labels_for(G, labels, z.shape[0], device)
    extra = {}
    if noise_seed is not None and takes_noise(G):
        extra = {"noise_mode": "random", "noise_generator": torch.Generator(device).manual_seed(noise_seed)}

    def call(i: int):
        kwargs = dict(extra) if labels is None else {**extra, "labels": labels[i:i + batch]}
        if codes is not None:
            kwargs["codes"] = codes[i:i + batch].to(device)
        return to_uint8(G(z[i:i + batch].to(device), level, alpha, **kwargs))
    with torch.no_grad():
        return np.concatenate([call(i) for i in range(0, z.shape[0], batch)])


def class_grid_inputs(G, z: torch.Tensor, columns: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents and labels of a class grid: one row per class (in class order), the same
    ``columns`` latents (the first of ``z``; by default as many as a square grid of z has) in
    every row."""
    from ..data.images import grid_shape
    columns = min(len(z), columns or grid_shape(len(z))[1])
    rows = torch.arange(G.classes).repeat_interleave(columns)
    return z[:columns].repeat(G.classes, 1), rows


def render_grid(G, z: torch.Tensor, level: int, alpha: float, columns: int | None = None) -> np.ndarray:
    """The sample grid of fixed latents: for an unconditional generator a square of them, for a
    conditional one a row per class of the same latents (class_grid_inputs)."""
    if not getattr(G, "classes", 0):
        return make_grid(render(G, z, level, alpha), cols=columns)
    zs, labels = class_grid_inputs(G, z, columns)
    return make_grid(render(G, zs, level, alpha, labels=labels), cols=len(zs) // G.classes)


def save_png(image: np.ndarray, path: str | os.PathLike, provenance: dict | None = None) -> Path:
    """One uint8 HWC image; provenance goes into PNG text chunks (one per key, JSON values).
    Returns the path written."""
    info = PngImagePlugin.PngInfo()
    for key, value in (provenance or {}).items():
        info.add_text(f"pgstudio.{key}", value if isinstance(value, str) else json.dumps(value))
    arr = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    return save_image(arr, path, pnginfo=info)


# the formats an image is written in, by suffix (no suffix: PNG); any other suffix is refused rather
# than written as PNG bytes under a name that says otherwise
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
                 ".tif": "TIFF", ".tiff": "TIFF"}


def image_suffix_problem(path: str | os.PathLike) -> str | None:
    suffix = Path(path).suffix.lower()
    if suffix and suffix not in IMAGE_FORMATS:
        return (f"{Path(path).name}: {suffix!r} is not an image format pgstudio writes; "
                f"use one of {', '.join(IMAGE_FORMATS)}")
    return None


def save_image(image: np.ndarray, path: str | os.PathLike, **options) -> Path:
    """A uint8 image (HW, HWC) written atomically through the one write path; format from the suffix
    (PNG without one); ValueError for a suffix that names no format written here."""
    path = Path(path)
    problem = image_suffix_problem(path)
    if problem:
        raise ValueError(problem)
    make_folder(path.parent)
    fmt = IMAGE_FORMATS.get(path.suffix.lower(), "PNG")
    with atomic_file(path) as f:
        Image.fromarray(image).save(f, format=fmt, **options)
    return path


def read_provenance(path: str | os.PathLike) -> dict:
    with Image.open(path) as im:
        text = dict(getattr(im, "text", {}))
    out = {}
    for k, v in text.items():
        if k.startswith("pgstudio."):
            try:
                out[k[9:]] = json.loads(v)
            except json.JSONDecodeError:
                out[k[9:]] = v
    return out


def upscale_nearest(frame: np.ndarray, size: int) -> np.ndarray:
    """Scale an HWC frame to size x size with nearest neighbour (pixels stay crisp)."""
    arr = frame if frame.ndim == 3 else frame[..., None]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.shape[0] == size and arr.shape[1] == size:
        return arr
    return np.asarray(Image.fromarray(arr).resize((size, size), Image.NEAREST))


def write_video(frames: list[np.ndarray], path: str | os.PathLike, fps: float = 24.0) -> Path:
    """uint8 HWC RGB frames → .gif (Pillow) or .mp4 (imageio-ffmpeg, H.264)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not frames:
        raise ValueError("no frames to write")
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"unsupported video format {suffix!r}: use .gif or .mp4")
    make_folder(path.parent)
    if suffix == ".gif":
        images = [Image.fromarray(f) for f in frames]
        with atomic_file(path) as f:
            images[0].save(f, format="GIF", save_all=True, append_images=images[1:],
                           duration=max(20, int(round(1000 / fps))), loop=0, optimize=False, disposal=1)
        return path
    import tempfile
    import imageio.v2 as imageio
    # ffmpeg writes to a path of its own: encode in the temp folder, then copy through the write path
    with tempfile.TemporaryDirectory(prefix="pgstudio-video-") as tmp:
        encoded = Path(tmp) / "video.mp4"
        with imageio.get_writer(encoded, fps=fps, codec="libx264", quality=8, macro_block_size=16,
                                ffmpeg_log_level="error", pixelformat="yuv420p") as writer:
            for f in frames:
                writer.append_data(f)
        copy_file(encoded, path)
    return path


def label_frame(frame: np.ndarray, text: str) -> np.ndarray:
    """Write a caption on a band above the frame (time-lapse: kimg and resolution)."""
    from PIL import ImageDraw, ImageFont
    h, w = frame.shape[:2]
    band = max(14, w // 24)
    canvas = Image.new("RGB", (w, h + band), (20, 20, 20))
    canvas.paste(Image.fromarray(frame), (0, band))
    try:
        font = ImageFont.load_default(size=max(10, band - 4))
    except TypeError:
        font = ImageFont.load_default()
    ImageDraw.Draw(canvas).text((4, 1), text, fill=(240, 240, 240), font=font)
    return np.asarray(canvas)


def timelapse_frames(run_folder, size: int | None = None) -> list[np.ndarray]:
    """Every grid of a run, scaled (nearest) to a common size, captioned with kimg and resolution."""
    entries, _ = run_folder.read_samples()
    if not entries:
        raise ValueError(f"{run_folder.path}: the run has no sample grids yet")
    grids = []
    for e in entries:
        with Image.open(e.path) as im:
            grids.append((e, np.asarray(im.convert("RGB"))))
    side = size or max(max(g.shape[:2]) for _, g in grids)
    side += side % 2
    frames = []
    for e, g in grids:
        scaled = upscale_nearest(g, side)
        frames.append(label_frame(scaled, f"{e.kimg:.1f} kimg  {e.resolution}x{e.resolution}"
                                          + (f"  fade a={e.alpha:.2f}" if e.phase == "fade" else "")))
    return frames


__all__ = ["export_generator", "render", "render_grid", "class_grid_inputs", "save_png", "read_provenance", "write_video", "timelapse_frames",
           "upscale_nearest", "make_grid"]
