"""Import a folder of images (or the built-in demo set) into multi-resolution uint8 arrays.

Folder → cache → trainer: a folder is walked recursively, each readable image is oriented,
converted and made square by the chosen mode, resized to the target resolution and then
box-downsampled to every lower power of two. The result is cached under a key made from the
folder's listing (paths, sizes, mtimes) and the options, so a second run starts at once and
a changed folder is imported again. A file that cannot be used is skipped with its reason.

Classes: each first-level sub-folder holding a usable image is a class (a deeper folder belongs
to its first-level ancestor), in sorted name order; an image at the top level has label −1 (no
class). Class-conditional training (training/class_choice.py) decides what to do with them.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .images import mean_gray

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
DEFAULT_MAX_PIXELS = 89_478_485          # Pillow's own decompression-bomb threshold
CACHE_VERSION = 3          # 3: labels are first-level sub-folders, −1 at the top level
DEMO_PATH = Path(__file__).resolve().parents[2] / "data" / "demo_emoji.png"   # package data: in every install


class DatasetError(Exception):
    """A data set cannot be used at all (missing folder, no usable image, damaged cache)."""


class ImportCancelled(Exception):
    pass


@dataclass
class ImportReport:
    source: str
    used: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (relative path, reason)
    widths: list[int] = field(default_factory=list)
    heights: list[int] = field(default_factory=list)
    modes: dict[str, int] = field(default_factory=dict)
    channels: int = 3
    from_cache: bool = False

    def size_summary(self) -> dict:
        if not self.widths:
            return {}
        w, h = np.array(self.widths), np.array(self.heights)
        return {"width_min": int(w.min()), "width_median": int(np.median(w)), "width_max": int(w.max()),
                "height_min": int(h.min()), "height_median": int(np.median(h)), "height_max": int(h.max()),
                "non_square": int((w != h).sum())}

    def smaller_than(self, resolution: int, mode: str = "crop") -> int:
        """How many used images the import enlarged to reach ``resolution``: the side that becomes
        the square's (the shorter one when cropping or stretching, the longer when padding) is
        smaller than it."""
        if not self.widths:
            return 0
        w, h = np.array(self.widths), np.array(self.heights)
        side = np.maximum(w, h) if mode == "pad" else np.minimum(w, h)
        return int((side < resolution).sum())

    def to_dict(self) -> dict:
        return {"source": self.source, "used": self.used, "skipped": [list(s) for s in self.skipped],
                "widths": self.widths, "heights": self.heights, "modes": self.modes,
                "channels": self.channels}

    @classmethod
    def from_dict(cls, d: dict) -> "ImportReport":
        return cls(source=d["source"], used=d["used"], skipped=[tuple(s) for s in d["skipped"]],
                   widths=list(d["widths"]), heights=list(d["heights"]), modes=dict(d["modes"]),
                   channels=int(d["channels"]))

    def text(self) -> str:
        lines = [f"{self.source}: {self.used} images used, {len(self.skipped)} skipped, "
                 f"{self.channels} channel{'s' if self.channels > 1 else ''}"
                 + (" (from cache)" if self.from_cache else "")]
        s = self.size_summary()
        if s:
            lines.append(f"  width  {s['width_min']}..{s['width_max']} (median {s['width_median']}), "
                         f"height {s['height_min']}..{s['height_max']} (median {s['height_median']}), "
                         f"{s['non_square']} not square")
        if self.modes:
            lines.append("  modes  " + ", ".join(f"{k}: {v}" for k, v in sorted(self.modes.items())))
        for path, reason in self.skipped[:50]:
            lines.append(f"  skipped {path}: {reason}")
        if len(self.skipped) > 50:
            lines.append(f"  … and {len(self.skipped) - 50} more skipped")
        return "\n".join(lines)


@dataclass
class ImageDataset:
    """uint8 NCHW arrays keyed by resolution (4, 8, …, resolution), and each image's class: an
    index into ``class_names`` (the first-level sub-folders, sorted), −1 for top-level images."""
    levels: dict[int, np.ndarray]
    labels: np.ndarray
    class_names: list[str]
    report: ImportReport

    def class_counts(self) -> list[int]:
        """Images per class, in class order."""
        counts = np.bincount(self.labels[self.labels >= 0], minlength=len(self.class_names))
        return [int(c) for c in counts[:len(self.class_names)]]

    @property
    def unlabelled(self) -> int:
        """Images at the top level of the folder, in no class."""
        return int((self.labels < 0).sum())

    @property
    def resolution(self) -> int:
        return max(self.levels)

    @property
    def channels(self) -> int:
        return self.levels[self.resolution].shape[1]

    def __len__(self) -> int:
        return self.levels[self.resolution].shape[0]


# --------------------------------------------------------------------------- one image
def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float greyscale → 8-bit 'L' by value range, not by clipping."""
    arr = np.asarray(img)
    if img.mode == "F":
        arr = arr * 255.0 if arr.max() <= 1.0 else arr
    elif arr.dtype != np.uint8:
        arr = arr.astype(np.float64) / 257.0          # 0..65535 → 0..255
    return Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), "L")


def normalise_mode(img: Image.Image) -> tuple[Image.Image, bool]:
    """Any Pillow mode → RGB, with transparency composited on white. Returns (rgb, was_gray)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _to_8bit(img).convert("RGB"), True
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB"), mode in ("LA", "La")
    if mode in ("1", "L"):
        return img.convert("RGB"), True
    return img.convert("RGB"), False       # RGB, CMYK, YCbCr, LAB, HSV …


def square_and_resize(img: Image.Image, resolution: int, mode: str) -> Image.Image:
    w, h = img.size
    if mode == "crop" and w != h:
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        img = img.crop((left, top, left + s, top + s))
    elif mode == "pad" and w != h:
        s = max(w, h)
        canvas = Image.new("RGB", (s, s), (0, 0, 0))
        canvas.paste(img, ((s - w) // 2, (s - h) // 2))
        img = canvas
    if img.size != (resolution, resolution):
        img = img.resize((resolution, resolution), Image.LANCZOS, reducing_gap=3.0)
    return img


def load_image(path: Path, resolution: int, mode: str, max_pixels: int = DEFAULT_MAX_PIXELS
               ) -> tuple[np.ndarray, bool, tuple[int, int], str]:
    """One file → (uint8 HWC RGB at resolution, is_gray, original size, original mode).

    Raises ValueError with a human reason for anything unusable.
    """
    try:
        if path.stat().st_size == 0:
            raise ValueError("empty file (0 bytes)")
    except FileNotFoundError:
        raise ValueError(_missing_reason(path)) from None
    except PermissionError:
        raise ValueError("cannot be read (permission denied)") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > max_pixels:
                    raise ValueError(f"image too large ({img.width}x{img.height} pixels; "
                                     "possible decompression bomb)")
                img.seek(0)                         # GIF / multi-page TIFF: first frame
                img.load()
                original_mode, size = img.mode, img.size
                img = ImageOps.exif_transpose(img)
                rgb, gray = normalise_mode(img)
    except UnidentifiedImageError:
        raise ValueError("not an image (unrecognised format)") from None
    except FileNotFoundError:
        raise ValueError(_missing_reason(path)) from None
    except PermissionError:
        raise ValueError("cannot be read (permission denied)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValueError("image too large (possible decompression bomb)") from None
    except (OSError, SyntaxError, EOFError) as exc:
        raise ValueError(f"truncated or corrupt image ({exc})") from None
    out = np.asarray(square_and_resize(rgb, resolution, mode), dtype=np.uint8)
    if not gray:
        spread = np.abs(out.astype(np.int16) - out[..., :1].astype(np.int16)).max()
        gray = bool(spread <= 2)
    return out, gray, size, original_mode


def _missing_reason(path: Path) -> str:
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"broken link (its target {target} does not exist)"
    return "the file disappeared while the folder was being imported"


def box_pyramid(images: np.ndarray) -> dict[int, np.ndarray]:
    """uint8 NCHW at R → {R: …, R/2: …, …, 4: …}, each a 2x2 box mean of the one above."""
    levels = {images.shape[-1]: images}
    current = images
    while current.shape[-1] > 4:
        n, c, h, w = current.shape
        down = np.empty((n, c, h // 2, w // 2), np.uint8)
        for i in range(0, n, 4096):            # chunks keep the float copy small
            x = current[i:i + 4096].astype(np.float32)
            x = x.reshape(-1, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))
            down[i:i + 4096] = np.clip(np.round(x), 0, 255).astype(np.uint8)
        levels[h // 2] = down
        current = down
    return levels


# --------------------------------------------------------------------------- folders
def list_files(folder: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                files.append(Path(root) / name)
    return files


def fingerprint(folder: Path, files: list[Path], resolution: int, mode: str, channels: str) -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION}|{folder.resolve()}|{resolution}|{mode}|{channels}".encode())
    for f in files:
        try:
            st = f.stat()
            h.update(f"{f.relative_to(folder)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        except OSError:         # a broken link or a file gone since the listing: skipped on import
            h.update(f"{f.relative_to(folder)}|unreadable\n".encode())
    return h.hexdigest()[:32]


def default_cache_dir() -> Path:
    env = os.environ.get("PGSTUDIO_CACHE")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("pgstudio"))


def import_folder(folder: str | os.PathLike, resolution: int = 32, mode: str = "crop",
                  channels: str = "auto", cache_dir: Path | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None,
                  max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageDataset:
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DatasetError(f"folder not found: {folder}")
    if not folder.is_dir():
        raise DatasetError(f"not a folder: {folder}")
    if resolution < 4 or resolution & (resolution - 1):
        raise DatasetError(f"resolution must be a power of two ≥ 4 (got {resolution})")
    files = list_files(folder)
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    key = fingerprint(folder, files, resolution, mode, channels)
    cache_file = cache_dir / f"{key}.npz"
    if cache_file.exists():
        try:
            return _read_cache(cache_file)
        except Exception:                      # a damaged cache is rebuilt, never fatal
            cache_file.unlink(missing_ok=True)

    report = ImportReport(source=str(folder))
    rgb_images, grays, folders = [], [], []
    for i, path in enumerate(files):
        if cancelled and cancelled():
            raise ImportCancelled()
        if progress:
            progress(i, len(files))
        rel = str(path.relative_to(folder))
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            report.skipped.append((rel, f"not an image file type ({path.suffix or 'no extension'})"))
            continue
        try:
            arr, gray, size, original_mode = load_image(path, resolution, mode, max_pixels)
        except (ValueError, OSError) as exc:
            report.skipped.append((rel, str(exc)))
            continue
        parts = path.relative_to(folder).parts
        folders.append(parts[0] if len(parts) > 1 else None)      # the first-level sub-folder
        rgb_images.append(arr)
        grays.append(gray)
        report.widths.append(size[0])
        report.heights.append(size[1])
        report.modes[original_mode] = report.modes.get(original_mode, 0) + 1
    if progress:
        progress(len(files), len(files))
    if not rgb_images:
        reason = f"{len(files)} file(s) found, none usable" if files else "the folder holds no files"
        raise DatasetError(f"no usable image in {folder}: {reason}")

    class_names = sorted({f for f in folders if f is not None})
    index = {name: i for i, name in enumerate(class_names)}
    labels = [index[f] if f is not None else -1 for f in folders]
    stack = np.stack(rgb_images).transpose(0, 3, 1, 2)           # NCHW
    gray_out = all(grays) if channels == "auto" else channels == "gray"
    if gray_out:
        stack = mean_gray(stack, axis=1)
    report.used = len(rgb_images)
    report.channels = stack.shape[1]
    dataset = ImageDataset(levels=box_pyramid(np.ascontiguousarray(stack)),
                           labels=np.array(labels, np.int64), class_names=class_names, report=report)
    _write_cache(cache_file, dataset)
    return dataset


def _write_cache(path: Path, dataset: ImageDataset) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")     # data-parallel ranks may write at once
        with open(tmp, "wb") as f:
            np.savez(f, labels=dataset.labels,
                     meta=np.frombuffer(json.dumps({"report": dataset.report.to_dict(),
                                                    "class_names": dataset.class_names}).encode(), np.uint8),
                     **{f"res{r}": a for r, a in dataset.levels.items()})
        os.replace(tmp, path)
    except OSError:
        pass        # a cache is an optimisation: a full or read-only disk must not stop training


def _read_cache(path: Path) -> ImageDataset:
    with np.load(path) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        levels = {int(k[3:]): z[k] for k in z.files if k.startswith("res")}
        labels = z["labels"]
    report = ImportReport.from_dict(meta["report"])
    report.from_cache = True
    return ImageDataset(levels=levels, labels=labels, class_names=meta["class_names"], report=report)


# --------------------------------------------------------------------------- demo set
def load_demo(resolution: int = 32, mode: str = "crop", channels: str = "auto") -> ImageDataset:
    """The built-in colour emoji set (2,003 renders at 32x32, shipped inside the package)."""
    if not DEMO_PATH.exists():
        raise DatasetError(f"the demo data set is missing from the installation ({DEMO_PATH})")
    with Image.open(DEMO_PATH) as atlas_img:
        count, tile = int(atlas_img.text["count"]), int(atlas_img.text["tile"])
        atlas = np.asarray(atlas_img.convert("RGB"))
    per_row = atlas.shape[1] // tile
    tiles = np.stack([atlas[(i // per_row) * tile:(i // per_row + 1) * tile,
                            (i % per_row) * tile:(i % per_row + 1) * tile] for i in range(count)])
    if resolution != tile:
        tiles = np.stack([np.asarray(Image.fromarray(t).resize((resolution, resolution), Image.LANCZOS))
                          for t in tiles])
    stack = tiles.transpose(0, 3, 1, 2)
    if channels == "gray":
        stack = mean_gray(stack, axis=1)
    report = ImportReport(source="demo (colour emoji)", used=count, widths=[tile] * count,
                          heights=[tile] * count, modes={"RGB": count}, channels=stack.shape[1])
    return ImageDataset(levels=box_pyramid(np.ascontiguousarray(stack)),
                        labels=np.full(count, -1, np.int64), class_names=[], report=report)


def load_dataset(data: str | None, demo: bool, resolution: int, mode: str = "crop",
                 channels: str = "auto", **kwargs) -> ImageDataset:
    if demo:
        return load_demo(resolution, mode, channels)
    if not data:
        raise DatasetError("no data set: give an image folder or use the demo set")
    return import_folder(data, resolution, mode, channels, **kwargs)
