"""Real images for a step: drawn from the resolution's array, kept on the device per resolution."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.dataset import ImageDataset
from . import heldout
from .labels import ClassDraws
from .schedule_point import SchedulePoint


class RealSampler:
    def __init__(self, dataset: ImageDataset, device: torch.device, dist, rng: torch.Generator,
                 mirror: bool, memory_format=torch.channels_last, classes: ClassDraws | None = None):
        self.dataset, self.device, self.dist, self.rng = dataset, device, dist, rng
        self.mirror, self.memory_format, self.classes = mirror, memory_format, classes
        self._on_device: dict[int, torch.Tensor] = {}
        self.last_labels: torch.Tensor | None = None   # the class of each real of the last sample

    def sample(self, pt: SchedulePoint) -> torch.Tensor:
        """This rank's share of a batch at ``pt``'s resolution, in [-1, 1] (x-flipped at random
        with mirror augmentation); the indices are drawn for the global batch. A conditional run
        leaves the reals' classes in ``last_labels``."""
        data = self._on_device.get(pt.resolution)
        if data is None:      # one resolution at a time on the device
            self._on_device = {pt.resolution: torch.from_numpy(self.dataset.levels[pt.resolution]).to(self.device)}
            data = self._on_device[pt.resolution]
        mine = self.dist.local_slice(pt.batch)
        if self.classes is None:
            idx = torch.randint(data.shape[0], (pt.batch,), device=self.device, generator=self.rng)[mine]
        else:
            idx = self.classes.real_indices(pt.batch, self.device, self.rng)[mine]
            self.last_labels = self.classes.labels[idx]
        x = (data[idx].float() / 127.5 - 1.0).contiguous(memory_format=self.memory_format)
        if self.mirror:
            flip = (torch.rand(pt.batch, 1, 1, 1, device=self.device, generator=self.rng) < 0.5)[mine]
            x = torch.where(flip, x.flip(3), x)
        return x


@dataclass
class RunReals:
    """A run's real images: those it trains on with their sampler and class draws, and the images
    ADA's r_v holds out (heldout.py) with theirs; the whole set trains when none are held out."""
    training: ImageDataset
    sampler: RealSampler
    classes: ClassDraws | None                 # None: unconditional
    heldout: ImageDataset | None = None
    heldout_sampler: RealSampler | None = None

    @classmethod
    def of(cls, cfg, dataset: ImageDataset, device: torch.device, dist, rng: torch.Generator) -> "RunReals":
        training, held = heldout.split(dataset, cfg.ada_heldout, cfg.seed)
        classes = ClassDraws.for_run(cfg, training, device)
        sampler = RealSampler(training, device, dist, rng, cfg.mirror_augment, classes=classes)
        if held is None:
            return cls(training, sampler, classes)
        held_classes = None if classes is None else \
            ClassDraws(held.labels, len(cfg.class_names), False, device)   # by count: a class may have none held out
        return cls(training, sampler, classes, held,
                   RealSampler(held, device, dist, rng, cfg.mirror_augment, classes=held_classes))
