"""Class labels as the networks take them (class-conditional training, both families).

A label is a class index (int64, one per sample) or a row of class weights (float, [N, classes]):
an index is its one-hot row, and a blend of two rows is what the explorer interpolates between
classes with, since every use of a label goes through one linear embedding of that row.

G's label enters beside the normalised latent: its embedding, normalised like the latent, goes
through a dense layer of its own whose output is added to the latent's dense layer — the same
linear map as one dense layer on the concatenation [z, embed(c)] (PGGAN's and StyleGAN2-ADA's
input), kept as two layers so that an unconditional model's weights load unchanged into a
conditional one (transfer.py: the label layers start fresh). D is conditioned by a projection
(Miyato & Koyama 2018): score + ⟨embed(c), φ(x)⟩ / √dim on its last features.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import EqualLinear, PixelNorm, leaky_relu


def class_rows(labels: torch.Tensor, classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Indices [N] → one-hot rows [N, classes]; float rows [N, classes] (blends) as they are."""
    if labels.is_floating_point():
        if labels.dim() != 2 or labels.shape[1] != classes:
            raise ValueError(f"class weights must be [N, {classes}] (got {list(labels.shape)})")
        return labels.to(dtype)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise ValueError(f"class index out of range 0..{classes - 1}")
    return F.one_hot(labels.long(), classes).to(dtype)


def cycled_labels(batch: int, classes: int, device=None) -> torch.Tensor:
    """What a conditional network does when called without labels: sample i gets class i mod
    classes (a grid of one latent per sample then shows every class in turn)."""
    return torch.arange(batch, device=device) % classes


def labels_for(net: nn.Module, labels: torch.Tensor | None, batch: int, device) -> torch.Tensor | None:
    """The labels a network runs with: None for an unconditional one (labels given to it are an
    error: they would be silently dropped), cycled when a conditional one gets none."""
    classes = getattr(net, "classes", 0)
    if not classes:
        if labels is not None:
            raise ValueError("this network is unconditional: it takes no class labels")
        return None
    return cycled_labels(batch, classes, device) if labels is None else labels.to(device)


class ClassEmbedding(nn.Module):
    """A label → a vector of ``size``: a learned embedding (one equalised dense layer on the
    one-hot row), then ``layers`` dense layers with activation (StyleGAN2's D maps its labels
    through a small network, "cmap"); normalised to unit average square when ``normalize``."""

    def __init__(self, classes: int, size: int, layers: int = 0, normalize: bool = True, lr_mul: float = 1.0):
        super().__init__()
        self.classes = classes
        self.embed = EqualLinear(classes, size, gain=1.0)
        self.mapping = nn.ModuleList([EqualLinear(size, size, lr_mul=lr_mul) for _ in range(layers)])
        self.norm = PixelNorm() if normalize else None

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        x = self.embed(class_rows(labels, self.classes, self.embed.weight.dtype))
        if self.norm is not None:
            x = self.norm(x)
        for layer in self.mapping:
            x = leaky_relu(layer(x))
        return x


class LabelInput(nn.Module):
    """G's label path: embed(c), normalised, through a dense layer of ``out_features`` without
    bias, added by the caller to the latent's own dense layer (see the module's docstring)."""

    def __init__(self, classes: int, embed_size: int, out_features: int, gain: float, lr_mul: float = 1.0):
        super().__init__()
        self.embedding = ClassEmbedding(classes, embed_size)
        self.weight = nn.Parameter(torch.randn(out_features, embed_size) / lr_mul)
        self.scale = math.sqrt(gain / embed_size) * lr_mul

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return F.linear(self.embedding(labels), self.weight * self.scale)


class Projection(nn.Module):
    """D's class term: ⟨embed(c), φ⟩ / √dim for features φ [N, dim]."""

    def __init__(self, classes: int, dim: int, layers: int = 0):
        super().__init__()
        self.embedding = ClassEmbedding(classes, dim, layers, normalize=layers > 0)
        self.dim = dim

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cmap = self.embedding(labels).to(features.dtype)
        return (features * cmap).sum(dim=1) * (1.0 / math.sqrt(self.dim))
