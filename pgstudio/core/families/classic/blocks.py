"""What the survey's models differ by beyond the shared residual and attention blocks
(networks/residual.py): the architectures and norms by name, DCGAN's initialisation (its widths: networks/residual.width).

Plain torch layers, not the equalised-learning-rate layers of the other families: these models
were trained with their weights stored at their true scale (DCGAN's N(0, 0.02)), which weight
clipping (WGAN) and spectral normalisation act on directly.
"""
from __future__ import annotations

from torch import nn

ARCHS = ("mlp", "dcgan", "resnet")
D_ARCHS = ARCHS + ("autoencoder",)             # EBGAN, BEGAN
D_NORMS = ("none", "batch", "layer", "spectral")
CONDITIONINGS = ("projection", "concat")


def dcgan_init(net: nn.Module) -> None:
    """Radford et al.: every conv and dense weight N(0, 0.02), batch norm's scale N(1, 0.02)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


