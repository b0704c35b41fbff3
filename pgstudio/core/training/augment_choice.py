"""What ``augment="auto"`` chooses for a data set: adaptive augmentation for small folders, none for
large ones, and the reason in words for the run form and the log.

Adaptive augmentation costs little where it is not needed (p stays near 0 while D does not
overfit, and the pipeline costs 3–9 % of a 32² step, docs/performance.md), and it is what keeps
a small folder from being memorised. The threshold is measured (docs/small_data.md): below it,
the laptop preset's run sees each image often enough for D to start telling the training images
from held-out ones.
"""
from __future__ import annotations

from .heldout import heldout_count

ADA_BELOW_IMAGES = 10_000


def choose_augment(images: int, loss: str, signal: str = "rt") -> tuple[str, str]:
    """(mode, reason) for a data set of ``images`` images trained with ``loss``, adapting to
    ``signal`` (r_v reads differences of D's scores, so it serves WGAN-GP too; r_t does not)."""
    if images >= ADA_BELOW_IMAGES:
        return "off", (f"augment auto → off: {images:,} images is enough data for D not to memorise "
                       f"it (adaptive from below {ADA_BELOW_IMAGES:,})")
    if signal == "rv":
        held = heldout_count(images)
        if held == 0:
            return "off", (f"augment auto → off: {images:,} images are too few to hold any out for "
                           "ADA's r_v (use augment fixed, or the r_t signal)")
        return "ada", (f"augment auto → adaptive: {images:,} images is below {ADA_BELOW_IMAGES:,}, few enough "
                       f"for D to memorise them; {held:,} of them are held out of training to tell when it "
                       "does (r_v), and p rises only then")
    if loss == "wgan-gp":
        return "off", (f"augment auto → off: {images:,} images would get adaptive augmentation, but it "
                       "reads the sign of D's scores, which WGAN-GP leaves at an arbitrary offset "
                       "(use the logistic or hinge loss, or augment fixed)")
    return "ada", (f"augment auto → adaptive: {images:,} images is below {ADA_BELOW_IMAGES:,}, few enough "
                   "for D to memorise them; p rises only if it does")
