"""Differentiable augmentation of the images D sees, after ADA's "bgc" set (Karras et al. 2020,
stylegan2-ada's ``training/augment.py``), in ordinary PyTorch ops.

Blit: x-flip, 90° rotations, integer translation. Geometric: isotropic scaling, arbitrary
rotation (before and after an anisotropic scaling), anisotropic scaling, fractional translation.
Colour: brightness, contrast, luma flip, hue rotation, saturation. Optionally cutout.

Every transform fires per sample with probability p, independently of the others (ADA's
convention; the two arbitrary rotations at 1 - sqrt(1 - p) each, so that some rotation happens at
p). All blit and geometric transforms make one 3x3 matrix per sample, applied in one resampling
(bilinear, reflection padding): exact pixel moves stay exact, since flips, quarter turns and
whole-pixel shifts land on pixel centres. The colour transforms make one 4x4 matrix on RGB (a
grey image uses its luma row). Both are differentiable with respect to the image, so G's
gradient flows through them.

Every random number is drawn for the global batch from the generator given (``draw``), so data-
parallel ranks slice the same draws, as they slice the reals, and a resumed run draws the same.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

TRANSFORMS = ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac",
              "brightness", "contrast", "lumaflip", "hue", "saturation", "cutout")
BGC = TRANSFORMS[:-1]                    # ADA's default set; cutout is opt-in
GEOMETRIC = set(TRANSFORMS[:7])
COLOUR = set(TRANSFORMS[7:12])
LN2 = math.log(2)
# ADA's strengths
XINT_MAX, SCALE_STD, ROTATE_MAX, ANISO_STD, XFRAC_STD = 0.125, 0.2 * LN2, math.pi, 0.2 * LN2, 0.125
BRIGHTNESS_STD, CONTRAST_STD, HUE_MAX, SATURATION_STD, CUTOUT_SIZE = 0.2, 0.5 * LN2, math.pi, LN2, 0.5
LUMA = torch.tensor([1.0, 1.0, 1.0]) / math.sqrt(3)      # the luma axis of ADA (equal weights)


@dataclass
class AugmentDraws:
    """The random parameters of one batch: a 3x3 geometric matrix (output → input, in pixel-centre
    coordinates normalised to [-1, 1]) and a 4x4 colour matrix per sample, and cutout boxes."""
    geometric: torch.Tensor              # [N, 3, 3]
    color: torch.Tensor                  # [N, 4, 4]
    cutout: torch.Tensor | None          # [N, 3]: centre x, centre y (0..1), on/off
    moves: bool                          # any geometric transform fired
    recolours: bool

    def __getitem__(self, rows) -> "AugmentDraws":
        """This rank's share (a slice of the global batch)."""
        return AugmentDraws(self.geometric[rows], self.color[rows],
                            None if self.cutout is None else self.cutout[rows], self.moves, self.recolours)


def _fires(n: int, p: float, g, device) -> torch.Tensor:
    return torch.rand(n, device=device, generator=g) < p


def _translate(tx, ty):
    m = torch.eye(3, device=tx.device).repeat(tx.shape[0], 1, 1)
    m[:, 0, 2], m[:, 1, 2] = tx, ty
    return m


def _scale(sx, sy):
    m = torch.eye(3, device=sx.device).repeat(sx.shape[0], 1, 1)
    m[:, 0, 0], m[:, 1, 1] = sx, sy
    return m


def _rotate(theta):
    m = torch.eye(3, device=theta.device).repeat(theta.shape[0], 1, 1)
    c, s = torch.cos(theta), torch.sin(theta)
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, -s, s, c
    return m


def draw(n: int, p: float, height: int, width: int, device, generator: torch.Generator | None = None,
         transforms: tuple[str, ...] = BGC) -> AugmentDraws:
    """The parameters of ``n`` samples' augmentations at probability ``p``, in a fixed order."""
    g, dev = generator, device
    zeros, ones = torch.zeros(n, device=dev), torch.ones(n, device=dev)
    # the matrix maps an output pixel to the input pixel it reads (ADA's inverse formulation):
    # transforms compose right to left in the order they are listed
    G = torch.eye(3, device=dev).repeat(n, 1, 1)
    on = set(transforms)
    if "xflip" in on:
        flip = torch.floor(torch.rand(n, device=dev, generator=g) * 2)
        flip = torch.where(_fires(n, p, g, dev), flip, zeros)
        G = G @ _scale(1 - 2 * flip, ones)
    if "rotate90" in on:
        quarter = torch.floor(torch.rand(n, device=dev, generator=g) * 4)
        quarter = torch.where(_fires(n, p, g, dev), quarter, zeros)
        G = G @ _rotate(-math.pi / 2 * quarter)
    if "xint" in on:
        shift = (torch.rand(n, 2, device=dev, generator=g) * 2 - 1) * XINT_MAX
        shift = torch.where(_fires(n, p, g, dev)[:, None], shift, torch.zeros_like(shift))
        # whole pixels: a shift of k pixels is 2k/size in normalised coordinates
        G = G @ _translate(torch.round(shift[:, 0] * width) * 2 / width, torch.round(shift[:, 1] * height) * 2 / height)
    if "scale" in on:
        s = torch.exp2(torch.randn(n, device=dev, generator=g) * SCALE_STD / LN2)
        s = torch.where(_fires(n, p, g, dev), s, ones)
        G = G @ _scale(1 / s, 1 / s)
    p_rot = 1 - math.sqrt(max(0.0, 1 - p))
    if "rotate" in on:
        theta = (torch.rand(n, device=dev, generator=g) * 2 - 1) * ROTATE_MAX
        theta = torch.where(_fires(n, p_rot, g, dev), theta, zeros)
        G = G @ _rotate(-theta)
    if "aniso" in on:
        s = torch.exp2(torch.randn(n, device=dev, generator=g) * ANISO_STD / LN2)
        s = torch.where(_fires(n, p, g, dev), s, ones)
        G = G @ _scale(1 / s, s)
    if "rotate" in on:
        theta = (torch.rand(n, device=dev, generator=g) * 2 - 1) * ROTATE_MAX
        theta = torch.where(_fires(n, p_rot, g, dev), theta, zeros)
        G = G @ _rotate(-theta)
    if "xfrac" in on:
        t = torch.randn(n, 2, device=dev, generator=g) * XFRAC_STD
        t = torch.where(_fires(n, p, g, dev)[:, None], t, torch.zeros_like(t))
        G = G @ _translate(t[:, 0] * 2, t[:, 1] * 2)

    C = torch.eye(4, device=dev).repeat(n, 1, 1)
    v = torch.cat([LUMA, torch.zeros(1)]).to(dev)          # the luma axis, homogeneous
    if "brightness" in on:
        b = torch.randn(n, device=dev, generator=g) * BRIGHTNESS_STD
        b = torch.where(_fires(n, p, g, dev), b, zeros)
        C = _color_translate(b) @ C
    if "contrast" in on:
        c = torch.exp2(torch.randn(n, device=dev, generator=g) * CONTRAST_STD / LN2)
        c = torch.where(_fires(n, p, g, dev), c, ones)
        C = _color_scale(c) @ C
    if "lumaflip" in on:
        i = torch.floor(torch.rand(n, device=dev, generator=g) * 2)
        i = torch.where(_fires(n, p, g, dev), i, zeros)
        C = (torch.eye(4, device=dev) - 2 * torch.outer(v, v) * i[:, None, None]) @ C
    if "hue" in on:
        theta = (torch.rand(n, device=dev, generator=g) * 2 - 1) * HUE_MAX
        theta = torch.where(_fires(n, p, g, dev), theta, zeros)
        C = _rotate_about(v[:3], theta) @ C
    if "saturation" in on:
        s = torch.exp2(torch.randn(n, device=dev, generator=g) * SATURATION_STD / LN2)
        s = torch.where(_fires(n, p, g, dev), s, ones)
        vv = torch.outer(v, v)
        C = (vv + (torch.eye(4, device=dev) - vv) * s[:, None, None]) @ C
    cutout = None
    if "cutout" in on:
        centre = torch.rand(n, 2, device=dev, generator=g)
        cutout = torch.cat([centre, _fires(n, p, g, dev).float()[:, None]], dim=1)
    # whether to resample / recolour at all is known without looking at the draws (no host sync)
    return AugmentDraws(G, C, cutout, p > 0 and bool(on & GEOMETRIC), p > 0 and bool(on & COLOUR))


def _color_translate(b):
    m = torch.eye(4, device=b.device).repeat(b.shape[0], 1, 1)
    m[:, :3, 3] = b[:, None]
    return m


def _color_scale(c):
    m = torch.eye(4, device=c.device).repeat(c.shape[0], 1, 1)
    m[:, 0, 0] = m[:, 1, 1] = m[:, 2, 2] = c
    return m


def _rotate_about(axis: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """4x4 rotations by ``theta`` about a unit 3-vector (Rodrigues)."""
    x, y, z = axis.tolist()
    K = torch.tensor([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]], device=theta.device)
    s, c = torch.sin(theta)[:, None, None], torch.cos(theta)[:, None, None]
    R = torch.eye(3, device=theta.device) + s * K + (1 - c) * (K @ K)
    m = torch.eye(4, device=theta.device).repeat(theta.shape[0], 1, 1)
    m[:, :3, :3] = R
    return m


def apply(images: torch.Tensor, d: AugmentDraws) -> torch.Tensor:
    """The drawn augmentations applied to images in [-1, 1] ([N, C, H, W], C = 1 or 3)."""
    dtype = images.dtype
    x = images.float()
    n, channels, h, w = x.shape
    if d.moves:
        grid = F.affine_grid(d.geometric[:, :2, :].to(x.device), [n, channels, h, w], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if d.recolours:
        C = d.color.to(x.device)
        if channels == 3:
            x = torch.einsum("nij,njhw->nihw", C[:, :3, :3], x) + C[:, :3, 3, None, None]
        elif channels == 1:          # a grey image is its luma: the colour matrix seen along that axis
            # grey y is the RGB image y·√3·L (L the unit luma axis); back on that axis after C:
            # y' = y·LᵀAL + Lᵀt/√3 (brightness adds, contrast scales, luma flip negates; hue and
            # saturation leave grey as it is)
            luma = LUMA.to(x.device)
            gain = (luma @ C[:, :3, :3] @ luma)[:, None, None, None]
            offset = (C[:, :3, 3] @ luma / math.sqrt(3))[:, None, None, None]
            x = x * gain + offset
        else:
            raise ValueError(f"colour augmentation needs 1 or 3 channels (got {channels})")
    if d.cutout is not None:
        cy = (torch.arange(h, device=x.device) + 0.5) / h
        cx = (torch.arange(w, device=x.device) + 0.5) / w
        inside_x = (cx[None, :] - d.cutout[:, 0, None]).abs() < CUTOUT_SIZE / 2
        inside_y = (cy[None, :] - d.cutout[:, 1, None]).abs() < CUTOUT_SIZE / 2
        hole = inside_y[:, :, None] & inside_x[:, None, :] & (d.cutout[:, 2, None, None] > 0)
        x = x * (~hole)[:, None].to(x.dtype)
    return x.to(dtype)


def augment(images: torch.Tensor, p: float, generator: torch.Generator | None = None,
            transforms: tuple[str, ...] = BGC) -> torch.Tensor:
    """Draw and apply in one call (a single process; the trainer draws for the global batch)."""
    if p <= 0:
        return images
    n, _, h, w = images.shape
    return apply(images, draw(n, p, h, w, images.device, generator, transforms))


ADA_INTERVAL = 4        # D steps between adjustments of p (ADA's value)
ADA_P_MAX = 0.8         # ADA's augmentations start to leak into G above roughly this p: p stops here
SIGNALS = ("rt", "rv")
# r_v's totals per adjustment: this step's D scores on reals, fakes and held-out reals (sums, counts)
_RV_SLOTS = 6
# r_v's gap and separation are averaged over this many adjustments before p reads them: one batch's
# means swing by more than the gap they measure (tests/test_ada_rv.py), while the gap itself, taken
# with one D's weights each time, is free of D's drift and changes only as memorisation does
RV_WINDOW = 16


class AugmentStrength:
    """The p of a run: fixed, or adapted to D's overfitting (ADA).

    Two overfitting signals (Karras et al. 2020, section 3), each 0 while D generalises and 1 once
    it has memorised its training images:

    * r_t = E[sign(D(augmented reals))] over the last ADA_INTERVAL D steps: needs nothing besides
      the training images, but reads D's scores against 0, so it only means overfitting when D's
      scores on reals drift positive as it memorises them.
    * r_v = (E[D(train)] − E[D(held-out)]) / (E[D(train)] − E[D(fake)]): how much of D's real-vs-fake
      separation is memorisation of the training images rather than knowledge of the kind of image.
      Measured on the interval's last step with the weights of that step's loss pass: its reals and
      fakes and a batch of held-out reals (heldout.py), augmented alike. A difference over a
      difference, it is blind to the offset and scale of D's scores, so it means the same for the
      logistic, hinge and WGAN-GP losses. An adjustment counts as overfitting when D separates
      reals from fakes at all (the denominator is positive) and the gap exceeds target × separation,
      both averaged over the last RV_WINDOW adjustments (a running mean until there are that many).

    p moves by ±images / (ada_kimg · 1000) per adjustment, so ``ada_kimg`` is the number of
    thousand images in which p can go from 0 to 1; it stops at ADA_P_MAX.
    """

    def __init__(self, mode: str, p: float, target: float, ada_kimg: float, device: torch.device,
                 signal: str = "rt"):
        if signal not in SIGNALS:
            raise ValueError(f"unknown ADA signal {signal!r}; choose one of {', '.join(SIGNALS)}")
        self.mode, self.p, self.target, self.ada_kimg = mode, float(p), float(target), float(ada_kimg)
        self.signal, self.device = signal, device
        self.rt: float | None = None
        self.rv: float | None = None     # r_v as p last read it (the averaged gap over the averaged separation)
        self._signs = torch.zeros((), device=device)
        self._count = 0                  # reals observed since the last adjustment (this rank)
        self._steps = 0                  # D steps since the last adjustment
        self._rv_step = torch.zeros(_RV_SLOTS, device=device)   # this step's sums and counts (r_v)
        self._rv_mean = [0.0, 0.0, 0]    # gap and separation averaged over recent adjustments, and how many

    @property
    def adaptive(self) -> bool:
        return self.mode == "ada"

    @property
    def wants_heldout(self) -> bool:
        """Whether this D step ends an interval of r_v, so D must score a held-out batch now."""
        return self.adaptive and self.signal == "rv" and self._steps + 1 >= ADA_INTERVAL

    def observe(self, scores_real: torch.Tensor, scores_fake: torch.Tensor | None = None) -> None:
        """D's scores on this step's augmented reals and fakes (kept on the device until the adjustment)."""
        if not self.adaptive:
            return
        real = scores_real.detach().float()
        self._signs = self._signs + torch.sign(real).sum()
        self._count += real.shape[0]
        if self.signal == "rv" and scores_fake is not None:
            fake = scores_fake.detach().float()
            self._rv_step[0:4] = torch.stack([real.sum(), real.new_tensor(real.shape[0]),
                                              fake.sum(), fake.new_tensor(fake.shape[0])])

    def observe_heldout(self, scores: torch.Tensor) -> None:
        """D's scores on the held-out batch, with the weights of this step's loss pass."""
        s = scores.detach().float()
        self._rv_step[4:6] = torch.stack([s.sum(), s.new_tensor(s.shape[0])])

    def step_done(self, dist) -> None:
        """After a D step: every ADA_INTERVAL steps the signal is read (one host sync) and p moves."""
        if not self.adaptive:
            return
        self._steps += 1
        if self._steps < ADA_INTERVAL:
            return
        totals = torch.cat([torch.stack([self._signs, torch.full((), float(self._count), device=self.device)]),
                            self._rv_step])
        if dist is not None:
            totals = dist.sum(totals)                        # over every rank
        signs, count, real_sum, real_n, fake_sum, fake_n, held_sum, held_n = (float(v) for v in totals)
        if count > 0:
            self.rt = signs / count
            if self.signal == "rt":
                overfits = self.rt > self.target
            elif real_n > 0 and fake_n > 0 and held_n > 0:
                real = real_sum / real_n
                gap, separation = self._average(real - held_sum / held_n, real - fake_sum / fake_n)
                self.rv = gap / separation if separation > 0 else None
                overfits = separation > 0 and gap > self.target * separation
            else:
                overfits = False
            move = count / (self.ada_kimg * 1000.0)
            self.p = min(ADA_P_MAX, max(0.0, self.p + (move if overfits else -move)))
        self._signs = torch.zeros((), device=self.device)
        self._rv_step = torch.zeros(_RV_SLOTS, device=self.device)
        self._count = self._steps = 0

    def _average(self, gap: float, separation: float) -> tuple[float, float]:
        """This adjustment's gap and separation folded into the recent average (RV_WINDOW)."""
        mean_gap, mean_sep, n = self._rv_mean
        n = min(n + 1, RV_WINDOW)
        mean_gap += (gap - mean_gap) / n
        mean_sep += (separation - mean_sep) / n
        self._rv_mean = [mean_gap, mean_sep, n]
        return mean_gap, mean_sep

    def state_dict(self) -> dict:
        return {"p": self.p, "rt": self.rt if self.rt is not None else float("nan"),
                "signs": self._signs.detach().cpu(), "count": self._count, "steps": self._steps,
                "rv": self.rv if self.rv is not None else float("nan"), "rv_step": self._rv_step.detach().cpu().clone(),
                "rv_mean": list(self._rv_mean)}

    def load_state_dict(self, state: dict) -> None:
        """A checkpoint's state; one from before r_v (no "rv" keys) followed r_t."""
        self.p = float(state["p"])
        self.rt = None if math.isnan(float(state["rt"])) else float(state["rt"])
        self._signs = state["signs"].to(self.device)
        self._count, self._steps = int(state["count"]), int(state["steps"])
        rv = float(state.get("rv", float("nan")))
        self.rv = None if math.isnan(rv) else rv
        self._rv_step = state.get("rv_step", torch.zeros(_RV_SLOTS)).to(self.device).clone()   # written in place
        gap, separation, n = state.get("rv_mean", (0.0, 0.0, 0))
        self._rv_mean = [float(gap), float(separation), int(n)]


def chunk_rows(n: int, parts: int, i: int) -> slice:
    """The rows of micro-batch i when n rows are cut into ``parts`` as torch.chunk cuts them."""
    size = -(-n // parts)
    return slice(i * size, min(n, (i + 1) * size))
