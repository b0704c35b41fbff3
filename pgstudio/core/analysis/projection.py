"""Projection: the latent from which a trained generator draws a given image.

Optimises, with Adam and the step-size schedule of StyleGAN2-ADA's projector (a short warm-up, a
cosine ramp-down, noise added to the latent early on that fades out):
  * progressive family: z (the generator normalises it, so z moves freely), from several random
    starts optimised side by side in one batch; the best start is kept;
  * StyleGAN2: w (one w for every layer) or w+ (one per layer), from the mean w (the class's mean w
    for a conditional generator) and a few starts around it. Optionally the per-layer noise maps too,
    with StyleGAN2-ADA's noise regularisation (their autocorrelation at every scale pushed to zero,
    so the noise cannot paint the image); off by default, because the explorer and exports draw
    with the generator's own fixed noise: without it, the reconstruction is exactly what the saved
    latent gives everywhere else.

The loss, since LPIPS needs VGG weights nobody here can download:
  * a multi-scale pixel loss — mean squared error at the image's resolution and at each halving
    down to 4x4 (coarse levels keep colour and layout, fine ones the detail) — always;
  * plus a feature loss on the run's own discriminator, when the source holds one (a checkpoint):
    the distance between D's activations after each block on the reconstruction and on the target,
    each normalised by the target's energy (D was trained on this data, so its features know it);
  * plus, when asked and installed, the Inception pool features of analysis/inception.py (slow on
    a CPU: about a second per step).
A generator export holds no D: its projection uses the pixel loss alone (and Inception if asked).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..data.images import from_uint8, mean_gray, to_uint8
from .inception import prepare
from ..networks.conditioning import class_rows, labels_for

SPACES = ("z", "w", "w+")
NOISE_REGULARISATION = 1e5          # StyleGAN2-ADA's regularize_noise_weight


@dataclass
class ProjectionResult:
    latent: np.ndarray          # z [L], w [L], or w+ [num_ws, L]
    space: str
    image: np.ndarray           # uint8 HWC: the reconstruction at the best step
    loss: float
    psnr: float                 # dB against the target, uint8 scale
    pixel_mse: float            # on [-1, 1]
    perceptual: float | None    # the feature-loss part at the best step (None without D or Inception)
    steps_done: int
    seconds: float
    stopped: bool               # stopped early by the caller; the result is the best so far
    losses: list[dict] = field(default_factory=list)      # per step: step, loss, pixel, features
    noise: dict | None = None   # optimised noise maps by module name (with noise optimisation)
    label: list[float] | None = None


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def matching_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """uint8 HWC (or HW) with the generator's channel count: RGB made gray as the import makes a
    data set gray, gray repeated to RGB."""
    t = image if image.ndim == 3 else image[:, :, None]
    if t.shape[-1] == 3 and channels == 1:
        return mean_gray(t)
    if t.shape[-1] == 1 and channels == 3:
        return np.repeat(t, 3, axis=-1)
    return t


def load_target(image_path, resolution: int, channels: int, mode: str = "crop") -> np.ndarray:
    """An image file cropped and resized as the import does (``mode``), with ``channels``;
    ValueError naming the file when it cannot be used."""
    from pathlib import Path
    from ..data.dataset import load_image
    try:
        image = load_image(Path(image_path), resolution, mode)[0]
    except ValueError as exc:
        raise ValueError(f"{image_path}: {exc}") from None
    return matching_channels(image, channels)


def pixel_loss(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared error, averaged over every halving down to 4x4."""
    losses = []
    while True:
        losses.append((x - target).square().flatten(1).mean(1))
        if x.shape[-1] <= 4:
            break
        x, target = F.avg_pool2d(x, 2), F.avg_pool2d(target, 2)
    return torch.stack(losses).mean(0)


class DiscriminatorFeatures:
    """D's activation after every block it runs (forward hooks on the blocks its family names)."""

    def __init__(self, D, level: int, alpha: float, labels, blocks):
        self.D, self.level, self.alpha, self.labels = D, level, alpha, labels
        self._captured: list[torch.Tensor] = []
        for block in blocks:
            block.register_forward_hook(lambda module, inputs, output: self._captured.append(output))

    def __call__(self, images: torch.Tensor) -> list[torch.Tensor]:
        self._captured = []
        labels = None if self.labels is None else self.labels.expand(images.shape[0], -1)
        self.D(images, self.level, self.alpha, labels=labels)
        return [f.float() for f in self._captured]


def feature_distance(features: list[torch.Tensor], target: list[torch.Tensor]) -> torch.Tensor:
    """Per sample: the mean over layers of ‖f − f_target‖² / ‖f_target‖²."""
    parts = []
    for f, t in zip(features, target):
        energy = t.square().flatten(1).mean(1).clamp_min(1e-8)
        parts.append((f - t).square().flatten(1).mean(1) / energy)
    return torch.stack(parts).mean(0)


def _noise_regularisation(maps: list[torch.Tensor]) -> torch.Tensor:
    """StyleGAN2-ADA's: squared autocorrelation at shifts of one pixel, at every scale down to 8x8."""
    total = torch.zeros(())
    for noise in maps:
        n = noise[None, None] if noise.dim() == 2 else noise
        while True:
            total = total + (n * torch.roll(n, 1, dims=3)).mean() ** 2 + (n * torch.roll(n, 1, dims=2)).mean() ** 2
            if n.shape[-1] <= 8:
                break
            n = F.avg_pool2d(n, 2)
    return total


class Projection:
    """One projection job: build it, then ``run`` (which can be stopped and keeps the best so far)."""

    def __init__(self, generator, level: int, alpha: float, target: np.ndarray, space: str | None = None,
                 discriminator=None, labels=None, steps: int = 300, starts: int = 4, seed: int = 0,
                 optimise_noise: bool = False, use_inception: bool = False, feature_weight: float = 1.0,
                 device: torch.device | str = "cpu"):
        space = space or ("w" if hasattr(generator, "mapping") else "z")
        if space not in SPACES:
            raise ValueError(f"space must be one of {', '.join(SPACES)}")
        styled = hasattr(generator, "mapping")
        if space != "z" and not styled:
            raise ValueError(f"space {space} needs a StyleGAN2 generator: the progressive family has only z")
        if space == "z" and styled:
            raise ValueError("a StyleGAN2 generator is projected into w or w+ (z passes the mapping network, "
                             "which projection would only have to invert as well)")
        if optimise_noise and not styled:
            raise ValueError("noise optimisation is a StyleGAN2 option: the progressive generator has no noise inputs")
        if steps < 1 or starts < 1:
            raise ValueError("steps and starts must be at least 1")
        self.device = torch.device(device)
        self.G = copy.deepcopy(generator).to(self.device).eval().requires_grad_(False)
        self.level, self.alpha, self.space, self.steps, self.starts = level, alpha, space, steps, starts
        self.seed, self.optimise_noise, self.feature_weight = seed, optimise_noise, feature_weight
        resolution = 2 ** level
        if target.shape[0] != resolution or target.shape[1] != resolution:
            raise ValueError(f"the target is {target.shape[1]}x{target.shape[0]}; the generator draws "
                             f"{resolution}x{resolution} (crop and resize it like the data set)")
        self.target_uint8 = matching_channels(target, generator.image_channels)
        self.target = from_uint8(np.ascontiguousarray(self.target_uint8.transpose(2, 0, 1))[None]).to(self.device)
        if labels is not None and not torch.is_tensor(labels):      # a class index
            labels = torch.tensor([int(labels)])
        chosen = labels_for(self.G, labels, 1, self.device)
        self.labels = None if chosen is None else class_rows(chosen, self.G.classes)   # [1, classes]
        self.features = None
        if discriminator is not None:
            from ..families import family_of_generator
            D = copy.deepcopy(discriminator).to(self.device).eval().requires_grad_(False)
            blocks = family_of_generator(generator).discriminator_feature_blocks(D)
            self.features = DiscriminatorFeatures(D, level, alpha, self.labels, blocks)
        self.inception = None
        if use_inception:
            from . import inception
            self.inception = inception.load(self.device)
        self.loss_kind = " + ".join(["multi-scale pixel"] + (["D features"] if self.features else [])
                                    + (["Inception features"] if self.inception is not None else []))

    # ------------------------------------------------------------------ latents
    def _initial(self, gen: torch.Generator) -> tuple[torch.Tensor, float]:
        """The starting latents [starts, ...] and the scale of the noise added to them early on."""
        L = self.G.latent_size
        if self.space == "z":
            return torch.randn(self.starts, L, generator=gen).to(self.device), 0.0
        from .style_space import map_to_w
        probe = torch.randn(2000, L, generator=gen).to(self.device)
        probe_labels = None if self.labels is None else self.labels.expand(probe.shape[0], -1)
        ws = map_to_w(self.G, probe, labels=probe_labels)
        w_std = float(((ws - ws.mean(0)).square().sum(1).mean()) ** 0.5)
        centre = (self.labels @ self.G.mapping.w_avg_class if self.labels is not None
                  and hasattr(self.G.mapping, "w_avg_class") else self.G.w_avg[None]).to(self.device)
        # the mean w, and the other starts a little way from it toward random samples
        picks = ws[torch.randperm(ws.shape[0], generator=gen)[:self.starts]]
        start = centre.expand(self.starts, -1).clone()
        start[1:] = centre + 0.5 * (picks[1:] - centre)
        if self.space == "w+":
            start = start[:, None, :].expand(-1, self.G.num_ws, -1).clone()
        return start, w_std

    def _images(self, latent: torch.Tensor) -> torch.Tensor:
        """Draws with the copy's noise buffers ("const"), which noise optimisation replaced."""
        labels = None if self.labels is None else self.labels.expand(latent.shape[0], -1)
        if self.space == "z":
            return self.G(latent, self.level, self.alpha, labels=labels)
        ws = self.G.broadcast(latent) if self.space == "w" else latent
        return self.G.synthesis(ws)

    def _noise_modules(self):
        from ..networks.style import NoiseInjection
        return [(name, m) for name, m in self.G.named_modules() if isinstance(m, NoiseInjection)]

    # ------------------------------------------------------------------ the loop
    def run(self, progress: Callable[[int, int, float, np.ndarray | None], None] | None = None,
            should_stop: Callable[[], bool] | None = None, preview_every: int = 10) -> ProjectionResult:
        """Optimise; ``progress(step, steps, best loss, reconstruction or None)`` after every step
        (the image every ``preview_every`` steps and at the end); ``should_stop()`` ends it early."""
        gen = torch.Generator().manual_seed(self.seed)
        latent, w_std = self._initial(gen)
        latent = latent.detach().requires_grad_(True)
        params = [latent]
        noise_maps = []
        if self.optimise_noise:
            for _, module in self._noise_modules():
                module.fixed = torch.randn(module.fixed.shape, generator=gen).to(self.device).requires_grad_(True)
                noise_maps.append(module.fixed)
            params += noise_maps
        optimiser = torch.optim.Adam(params, lr=0.1 if self.space != "z" else 0.05, betas=(0.9, 0.999))
        base_lr = optimiser.param_groups[0]["lr"]
        target_feats = None
        with torch.no_grad():
            if self.features is not None:
                target_feats = [t.expand(self.starts, *t.shape[1:]) for t in self.features(self.target)]
            if self.inception is not None:
                target_inc = self.inception(prepare(((self.target + 1) * 127.5).clamp(0, 255)))
        best_loss = torch.full((self.starts,), float("inf"))
        best_latent = latent.detach().clone()
        best_parts: dict = {}
        losses: list[dict] = []
        started, stopped, step = time.time(), False, 0
        for step in range(1, self.steps + 1):
            if should_stop is not None and should_stop():
                stopped, step = True, step - 1
                break
            t = (step - 1) / self.steps
            lr = base_lr * min(1.0, t / 0.05) if t < 0.05 else base_lr
            lr *= 0.5 - 0.5 * math.cos(math.pi * min(1.0, (1.0 - t) / 0.25))
            for group in optimiser.param_groups:
                group["lr"] = max(lr, base_lr * 1e-3)
            jitter = w_std * 0.05 * max(0.0, 1.0 - t / 0.75) ** 2
            x = latent + (torch.randn(latent.shape, generator=gen).to(self.device) * jitter if jitter else 0)
            images = self._images(x)
            pixel = pixel_loss(images.float(), self.target.expand_as(images))
            loss = pixel.clone()
            perceptual = torch.zeros_like(pixel)
            if target_feats is not None:
                perceptual = perceptual + feature_distance(self.features(images), target_feats)
            if self.inception is not None:
                feats = self.inception(prepare(((images.float() + 1) * 127.5).clamp(0, 255)))
                perceptual = perceptual + (feats - target_inc).square().mean(1) / target_inc.square().mean()
            loss = loss + self.feature_weight * perceptual
            total = loss.sum()
            if noise_maps:
                total = total + NOISE_REGULARISATION * _noise_regularisation(noise_maps)
            optimiser.zero_grad(set_to_none=True)
            total.backward()
            optimiser.step()
            if noise_maps:
                with torch.no_grad():               # keep every noise map at zero mean, unit variance
                    for n in noise_maps:
                        n.sub_(n.mean()).div_(n.square().mean().sqrt().clamp_min(1e-8))
            with torch.no_grad():
                current = loss.detach().cpu()
                better = current < best_loss
                best_loss = torch.where(better, current, best_loss)
                best_latent[better.to(best_latent.device)] = x.detach()[better.to(x.device)]
                for i in torch.nonzero(better).flatten().tolist():
                    best_parts[i] = (float(pixel[i]), float(perceptual[i]))
            k = int(best_loss.argmin())
            losses.append({"step": step, "loss": round(float(best_loss[k]), 6), "pixel": round(best_parts[k][0], 6),
                           "features": round(best_parts[k][1], 6)})
            if progress is not None:
                show = step % preview_every == 0 or step == self.steps
                image = None
                if show:
                    with torch.no_grad():
                        image = to_uint8(self._images(best_latent[k:k + 1]))[0]
                progress(step, self.steps, float(best_loss[k]), image)
        k = int(best_loss.argmin())
        with torch.no_grad():
            image = to_uint8(self._images(best_latent[k:k + 1]))[0]
        pixel_part, feature_part = best_parts.get(k, (float("nan"), float("nan")))
        has_features = target_feats is not None or self.inception is not None
        return ProjectionResult(
            latent=best_latent[k].detach().cpu().numpy().astype(np.float32), space=self.space, image=image,
            loss=float(best_loss[k]), psnr=psnr(image, self.target_uint8),
            pixel_mse=pixel_part, perceptual=feature_part if has_features else None, steps_done=step,
            seconds=round(time.time() - started, 2), stopped=stopped, losses=losses,
            noise={name: m.fixed.detach().cpu().numpy() for name, m in self._noise_modules()} if noise_maps else None,
            label=None if self.labels is None else self.labels[0].tolist())


@dataclass
class ProjectionInputs:
    """What a projection of an image file needs from a source: the generator where it was saved,
    its discriminator (None for an export), the target cropped like the data set, the class."""
    loaded: object              # models.LoadedGenerator
    discriminator: object | None
    target: np.ndarray          # uint8 HWC at the generator's resolution
    label: int | None
    class_name: str | None


def projection_inputs(source, image_path, class_name: str | None = None, device="cpu") -> ProjectionInputs:
    """Load ``source`` (checkpoint, run folder, export) and the image, cropped and resized as the run
    imported its data (an export: centre crop). ValueError with a reason for an unusable image."""
    from ..config import TrainConfig
    from ..models import build_discriminator, load_generator_and_state
    from ..training.class_choice import class_index
    loaded, state = load_generator_and_state(source, device)
    cfg = TrainConfig.from_json(state["config"]) if state is not None and "config" in state else None
    target = load_target(image_path, loaded.resolution, loaded.generator.image_channels, cfg.mode if cfg else "crop")
    D = None
    if cfg is not None and state.get("discriminator") is not None:
        try:
            D = build_discriminator(cfg, loaded.generator.image_channels)
            D.load_state_dict(state["discriminator"])
        except (RuntimeError, KeyError, ValueError, TypeError):
            D = None                      # a D that does not fit: the pixel loss still works
    names = list(getattr(loaded.generator, "class_names", None) or [])
    label = None
    if class_name is not None:
        if not names:
            raise ValueError(f"{source}: the generator is unconditional, it has no classes")
        label = class_index(names, class_name)
    elif names:
        label = 0
    return ProjectionInputs(loaded, D, target, label, names[label] if label is not None else None)
