"""What ``augment="auto"`` chooses for a data set: adaptive augmentation for small folders trained
by networks wide enough to suffer from D's memorising them, none otherwise, and the reason in
words for the run form and the log.

Measured (docs/small_data.md): at the laptop preset's widths (D's widest layer 64 feature maps) a
small folder is memorised by D — on 200 images its train-vs-held-out gap grows to over a logit —
but G does not get worse for it (MS-SWD against held-out images levels off instead of rising),
while every augmentation that engaged, fixed or adaptive, made the samples worse at the same
budget. Networks that narrow train without it. Wider ones are ADA's own regime (Karras et al.
2020: D's overfitting ruins G below tens of thousands of images): there a small folder gets it.
"""
from __future__ import annotations

from .heldout import heldout_count

ADA_BELOW_IMAGES = 10_000
# D's widest layer at most this many feature maps: augmentation measured to cost more than D's
# memorisation does (docs/small_data.md §3c); the laptop preset's width
NARROW_D_FMAPS = 64


def choose_augment(images: int, loss: str, signal: str = "rt", fmap_max: int | None = None) -> tuple[str, str]:
    """(mode, reason) for a data set of ``images`` images trained with ``loss`` by networks whose
    widest layer has ``fmap_max`` feature maps (None: not known, taken as wide), adapting to
    ``signal`` (r_v reads differences of D's scores, so it serves WGAN-GP too; r_t does not)."""
    if images >= ADA_BELOW_IMAGES:
        return "off", (f"augment auto → off: {images:,} images is enough data for D not to memorise "
                       f"it (adaptive from below {ADA_BELOW_IMAGES:,})")
    if fmap_max is not None and fmap_max <= NARROW_D_FMAPS:
        return "off", (f"augment auto → off: networks this narrow (at most {NARROW_D_FMAPS} feature maps) "
                       "memorise a small folder without G getting worse for it, while augmenting cost "
                       "quality in every measurement (docs/small_data.md); choose adaptive to use it anyway")
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
