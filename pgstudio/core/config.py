"""Every setting of a run, with presets; serialised as the run folder's config.json."""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from .networks.layers import resolution_problem

# the model family a config or record without "arch" means (the run-folder format: every run from
# before the families existed trained it); the families and their names live in families/
DEFAULT_ARCH = "progressive"
# training/losses.py; "logistic" is the non-saturating loss, "minimax" Goodfellow's game as written
LOSSES = ("wgan-gp", "logistic", "hinge", "minimax", "lsgan", "wgan", "rpgan", "ebgan", "began")
OPTIMIZERS = ("adam", "rmsprop", "sgd")         # rmsprop: WGAN; sgd (momentum beta1): GAN 2014, cGAN
MODES = ("crop", "pad", "stretch")
CHANNELS = ("auto", "gray", "rgb")
DEVICES = ("auto", "cpu", "cuda")
D_DOWNSAMPLE = ("fused", "after-activation", "fir")    # see discriminator.ShrinkBlock
PRECISIONS = ("auto", "fp32", "bf16")            # see precision.py
AUGMENTS = ("off", "fixed", "ada")
# ADA's overfitting signals (training/augment.py): "rt" E[sign D(augmented reals)], "rv" the
# train-vs-held-out gap of D's scores over its real-vs-fake gap (needs a held-out split)
ADA_SIGNALS = ("rt", "rv")
# each signal's target (docs/small_data.md): r_t's is ADA's published 0.6; r_v's is measured here
ADA_TARGETS = {"rt": 0.6, "rv": 0.3}
AUGMENT_CHOICES = ("auto",) + AUGMENTS           # auto: chosen by the folder's size when the run starts
CLASS_CHOICES = ("auto", "on", "off")           # class-conditional training (training/class_choice.py)
# the metric computed every metric_kimg during training: MS-SWD (no extra download) or FID and KID
# on Inception features (the optional [fid] extra; analysis/inception.py)
METRIC_KINDS = ("swd", "fid")
ADVISED_LR_SCALE = 0.5       # the advice after a blow-up or a stall: resume with the rates times this
# a tick in which fewer than this share of the weights that received gradients moved is a stall
# (Adam's step vanished, e.g. under an overflowing exp_avg_sq): the one seen froze 99.5 % of D.
# "Moved" means by more than MOVE_EPS: both families store weights at unit scale (equalised
# learning rate), where any real step is ~lr ≥ 1e-6, while a vanished one leaves zero-initialised
# biases creeping by rounding-sized amounts (1e-30 with lr 1e-30)
STALL_FRACTION = 0.01
MOVE_EPS = 1e-10


METRIC_SPLITS = ("fixed", "per-point")
RESET_OPTIMIZER = ("lod", "growth", "never")
LAZY_REGULARIZATION = ("steps", "folded", "folded-corrected")


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config: the setting it concerns and what to do about it."""
    field: str
    message: str


@dataclass
class TrainConfig:
    # data
    data: str | None = None           # image folder; None with demo=True uses the built-in set
    demo: bool = False
    mode: str = "crop"                # non-square images: crop, pad or stretch
    channels: str = "auto"            # auto, gray or rgb
    mirror_augment: bool = False
    # augmentation of every image D sees (training/augment.py): "off", "fixed" (p = augment_p
    # throughout) or "ada" (p adapts so that E[sign D(augmented reals)] stays at ada_target,
    # starting at augment_p); a run from before these keys trained without it
    augment: str = "off"
    augment_p: float = 0.0
    ada_target: float = 0.6
    ada_kimg: float = 100.0           # thousand images in which p can move from 0 to 1
    # the overfitting signal p follows (ADA_SIGNALS): a run from before this key followed r_t;
    # "rv" keeps ada_heldout images of the folder out of training (settled when the run starts,
    # training/heldout.py) and scores D on them
    ada_signal: str = "rt"
    ada_heldout: int = 0
    ada_heldout_of: int = 0           # the folder's image count when the split was made (0: not recorded)
    # how "auto" chose the mode for this run (training/augment_choice.py): written when it did
    augment_reason: str | None = None
    # class-conditional training (training/class_choice.py): "auto" (on for a folder with two or
    # more first-level sub-folders and no image beside them), "on" or "off"; settled when the run
    # starts into class_names (the classes in label order, None: unconditional, as every run from
    # before these keys) with their image counts and the reason; balance_classes draws the reals
    # (and the fakes' labels) uniformly over the classes instead of by image count
    classes: str = "off"
    balance_classes: bool = False
    class_names: list[str] | None = None
    class_counts: list[int] | None = None
    classes_reason: str | None = None
    # transfer learning (training/transfer.py): the trained model this run started from (None: from
    # scratch), where in the schedule it began, and D's highest-resolution blocks kept frozen
    start_from: dict | None = None
    schedule_offset_kimg: float = 0.0
    freeze_d: int = 0
    # network
    arch: str = DEFAULT_ARCH          # the model family (families/__init__.py: progressive, stylegan, stylegan2, classic, biggan)
    resolution: int = 32
    latent_size: int = 64
    fmap_base: int = 256
    fmap_max: int = 64
    mbstd_group_size: int = 4
    # progressive D: box-filter before the bias and activation, fused with the conv ("fused"), or
    # after them ("after-activation": runs from before this option, whose config has no such key),
    # or StyleGAN2's blur and stride-2 conv ("fir")
    d_downsample: str = "fused"
    # progressive G's 2x upsampling: "fir", zeros between samples and StyleGAN2's [1, 3, 3, 1] filter
    # (new runs: nearest's 2-pixel lattice became axis-aligned lines, docs/faithful.md), or
    # "nearest", the paper's pixel repetition (configs before the key)
    resample: str = "fir"
    # StyleGAN2 only
    mapping_layers: int = 8
    demodulate: bool = True
    style_mixing: float = 0.9         # probability that a training sample mixes two latents
    pl_weight: float = 2.0            # path-length regularisation; 0 switches it off
    pl_interval: int = 4              # lazy: every N generator steps
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    # D's halving: "blur-stride" blurs at full resolution, then a stride-2 3x3 conv, skip without
    # bias (the official conv2d_resample); "fir-then-conv" downsamples first (configs before the key)
    d_block: str = "blur-stride"
    # the classic family (families/classic/): the survey's networks at a fixed resolution
    g_arch: str = "dcgan"             # mlp (GAN 2014), dcgan, resnet (SNGAN/SAGAN)
    d_arch: str = "dcgan"
    d_norm: str = "batch"             # none, batch, layer or spectral
    g_spectral: bool = False          # spectral normalisation in G too (SAGAN)
    attention_res: int = 0            # self-attention at this resolution in G and D (0: none)
    conditioning: str = "projection"  # a conditional D: projection, or cGAN's concatenation
    # InfoGAN: latent codes beside z — categorical ones (their sizes) and continuous ones (uniform
    # in [-1, 1]) — a Q head on D's trunk, and the mutual-information bound's weights
    info_categorical: list[int] = field(default_factory=list)
    info_continuous: int = 0
    info_lambda: float = 1.0
    info_lambda_continuous: float = 0.1
    # EBGAN's margin m and pulling-away weight; BEGAN's diversity ratio γ and k's gain λ_k
    ebgan_margin: float = 1.0
    ebgan_pt_weight: float = 0.1
    began_gamma: float = 0.5
    began_lambda_k: float = 0.001
    # BigGAN only: the shared class embedding's size and orthogonal regularisation's β on G
    shared_dim: int = 128
    ortho_reg: float = 1e-4
    # loss
    loss: str = "logistic"
    gp_lambda: float = 10.0
    drift: float = 0.001
    r1_gamma: float = 1.0             # logistic and hinge; 0 switches R1 off
    r1_interval: int = 16             # lazy regularisation: R1 every N discriminator steps
    # how a lazy regulariser (R1, path length) enters training (training/recipe.py): "steps" its own
    # optimizer step every N minibatches with Adam's k/(k+1) correction (the official loop);
    # "folded" into that minibatch's step, uncorrected; "folded-corrected" (configs before the key)
    lazy_regularization: str = "steps"
    # schedule (kimg = thousands of real images shown to D)
    stabilize_kimg: float = 30.0
    fade_kimg: float = 20.0
    max_kimg: float | None = None     # None: stop at the end of the last stabilize phase
    batch: dict[int, int] = field(default_factory=lambda: {4: 64, 8: 64, 16: 64, 32: 64})
    batch_default: int = 32
    lr: dict[int, float] = field(default_factory=dict)
    lr_default: float = 0.002
    # every learning rate is multiplied by this; `pgstudio resume --lr-scale S` multiplies it by S
    # (1 in runs from before it existed, whose rates were used as given)
    lr_scale: float = 1.0
    # optimiser and averaging
    optimizer: str = "adam"           # OPTIMIZERS (runs before the key: Adam)
    beta1: float = 0.0
    beta2: float = 0.99
    d_lr_mult: float = 1.0            # D's learning rate is G's times this (TTUR: SAGAN's 4)
    n_critic: int = 1                 # D steps per G step (WGAN: 5)
    wgan_clip: float = 0.01           # the "wgan" loss clips every critic weight to [-c, c] after its step
    reset_optimizer_at_growth: bool = False   # read only from configs written before reset_optimizer
    # when Adam's state starts afresh in a growing family: "lod" at every change of floor(lod) or
    # ceil(lod) — the start and the end of each fade, as the official code's reset_opt_for_new_lod;
    # "growth" at the start of a fade only (reset_optimizer_at_growth: true before this key); "never"
    # (configs written before this key without that flag)
    reset_optimizer: str = "lod"
    ema_halflife_kimg: float = 2.0
    # reporting
    tick_kimg: float = 1.0
    sample_kimg: float = 5.0
    checkpoint_kimg: float = 20.0
    metric_kimg: float = 0.0          # 0: no metric during training
    metric_n: int = 2048
    metric_kind: str = "swd"          # METRIC_KINDS; runs from before it computed MS-SWD
    # MS-SWD during training: "fixed" scores every point and its floor on one set of n reals (n at
    # most half the folder, the same images each time, the floor kept per resolution and the same
    # after a resume); "per-point" is how runs from before this key scored: the first point at a
    # resolution on n ≤ N/2 reals beside the floor, later ones on n ≤ N — a step in the curve
    # where nothing changed
    metric_split: str = "fixed"
    # a StyleGAN2 generator scored during training: "random" noise per sample, seeded (the official
    # metrics' way), or "const": the one fixed noise map every sample shared in runs from before it
    metric_noise: str = "random"
    grid_size: int = 36               # fixed latents shown in every sample grid (a square)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"           # auto: bf16 autocast on CUDA and on CPUs with native bf16, else fp32
    compile: bool = False             # torch.compile G and D (recompiled at each growth step)
    preset: str = "laptop"

    def common_problems(self) -> list["ConfigProblem"]:
        """The problems with the settings every family reads, each tied to the setting it concerns.
        Not the whole check: validation.config_problems adds the family's (its name, its own
        settings), which this module cannot ask without importing the families."""
        out: list[ConfigProblem] = []

        def add(field_name: str, message: str) -> None:
            out.append(ConfigProblem(field_name, message))
        # NaN compares False with everything, so the range checks below would let it through
        odd = self.non_finite_fields()
        if odd:
            add(odd[0].split("[")[0], f"{', '.join(odd)} must be finite numbers (not NaN or infinity)")
        if resolution_problem(self.resolution):
            add("resolution", resolution_problem(self.resolution))
        if self.resample not in ("nearest", "fir"):
            add("resample", f"resample must be nearest or fir (got {self.resample!r})")
        if self.d_downsample not in D_DOWNSAMPLE:
            add("d_downsample", f"discriminator downsampling must be one of {', '.join(D_DOWNSAMPLE)} "
                                f"(got {self.d_downsample!r})")
        if self.loss not in LOSSES:
            add("loss", f"loss must be one of {', '.join(LOSSES)} (got {self.loss!r})")
        if self.optimizer not in OPTIMIZERS:
            add("optimizer", f"optimizer must be one of {', '.join(OPTIMIZERS)} (got {self.optimizer!r})")
        if self.n_critic < 1:
            add("n_critic", "D steps per G step (n_critic) must be at least 1")
        if not self.d_lr_mult > 0:
            add("d_lr_mult", "D's learning-rate multiplier must be positive")
        if self.loss == "wgan" and not self.wgan_clip > 0:
            add("wgan_clip", "WGAN's weight clipping needs a positive bound c")
        if self.mode not in MODES:
            add("mode", f"mode must be one of {', '.join(MODES)} (got {self.mode!r})")
        if self.channels not in CHANNELS:
            add("channels", f"channels must be one of {', '.join(CHANNELS)}")
        if self.device not in DEVICES:
            add("device", f"device must be one of {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            add("precision", f"precision must be one of {', '.join(PRECISIONS)} (got {self.precision!r})")
        if self.stabilize_kimg <= 0 or self.fade_kimg <= 0:
            add("stabilize_kimg" if self.stabilize_kimg <= 0 else "fade_kimg", "phase lengths (kimg) must be positive")
        if self.max_kimg is not None and self.max_kimg <= 0:
            add("max_kimg", "max kimg must be positive")
        if self.latent_size < 1 or self.fmap_base < 4 or self.fmap_max < 1:
            add("latent_size" if self.latent_size < 1 else "fmap_base" if self.fmap_base < 4 else "fmap_max",
                "latent size and widths must be positive")
        if any(b < 1 for b in self.batch.values()) or self.batch_default < 1:
            add("batch" if any(b < 1 for b in self.batch.values()) else "batch_default",
                "batch sizes must be at least 1")
        if any(v <= 0 or not math.isfinite(v) for v in list(self.lr.values()) + [self.lr_default]):
            add("lr" if any(v <= 0 or not math.isfinite(v) for v in self.lr.values()) else "lr_default",
                "learning rates must be positive")
        if not self.lr_scale > 0:
            add("lr_scale", "the learning-rate scale must be positive")
        if not 0 <= self.beta1 < 1 or not 0 <= self.beta2 < 1:
            add("beta1" if not 0 <= self.beta1 < 1 else "beta2", "Adam betas must lie in [0, 1)")
        if self.ema_halflife_kimg < 0:
            add("ema_halflife_kimg", "EMA half-life must not be negative")
        if self.tick_kimg <= 0 or self.sample_kimg <= 0 or self.checkpoint_kimg <= 0:
            add(next(n for n in ("tick_kimg", "sample_kimg", "checkpoint_kimg") if getattr(self, n) <= 0),
                "tick, sample and checkpoint intervals must be positive")
        if self.metric_kimg < 0 or self.metric_n < 16:
            add("metric_kimg" if self.metric_kimg < 0 else "metric_n", "metric interval must be ≥ 0 and metric n ≥ 16")
        if self.metric_kind not in METRIC_KINDS:
            add("metric_kind", f"the training metric must be one of {', '.join(METRIC_KINDS)} (got {self.metric_kind!r})")
        elif self.metric_kind == "fid" and self.metric_kimg > 0:
            from .analysis import inception
            if not inception.available():
                add("metric_kind", inception.INSTALL_HINT)
        if self.grid_size < 1 or self.grid_size > 256:
            add("grid_size", "grid size must be 1..256")
        if self.r1_gamma < 0 or self.gp_lambda < 0:
            add("r1_gamma" if self.r1_gamma < 0 else "gp_lambda", "penalty weights (R1 γ, GP λ) must not be negative")
        if self.r1_interval < 1:
            add("r1_interval", "R1 interval must be at least 1")
        if self.augment not in AUGMENT_CHOICES:
            add("augment", f"augment must be one of {', '.join(AUGMENT_CHOICES)} (got {self.augment!r})")
        if not 0 <= self.augment_p <= 1:
            add("augment_p", "the augmentation probability must lie in [0, 1]")
        if not 0 < self.ada_target < 1 or self.ada_kimg <= 0:
            add("ada_target" if not 0 < self.ada_target < 1 else "ada_kimg",
                "the ADA target must lie in (0, 1) and its speed (kimg) be positive")
        if self.reset_optimizer not in RESET_OPTIMIZER:
            add("reset_optimizer", f"reset_optimizer must be one of {', '.join(RESET_OPTIMIZER)} "
                                   f"(got {self.reset_optimizer!r})")
        if self.lazy_regularization not in LAZY_REGULARIZATION:
            add("lazy_regularization", f"lazy_regularization must be one of {', '.join(LAZY_REGULARIZATION)} "
                                       f"(got {self.lazy_regularization!r})")
        if self.metric_noise not in ("random", "const"):
            add("metric_noise", f"metric_noise must be random or const (got {self.metric_noise!r})")
        if self.metric_split not in METRIC_SPLITS:
            add("metric_split", f"metric_split must be one of {', '.join(METRIC_SPLITS)} (got {self.metric_split!r})")
        if self.ada_signal not in ADA_SIGNALS:
            add("ada_signal", f"the ADA signal must be one of {', '.join(ADA_SIGNALS)} (got {self.ada_signal!r})")
        elif self.augment == "ada" and self.loss == "wgan-gp" and self.ada_signal == "rt":
            add("augment", "adaptive augmentation by r_t reads the sign of D's scores on reals, which WGAN-GP "
                           "leaves at an arbitrary offset: use the r_v signal (--ada-signal rv), the logistic "
                           "or hinge loss, or a fixed p")
        if self.ada_heldout < 0:
            add("ada_heldout", "the held-out image count must not be negative")
        if self.classes not in CLASS_CHOICES:
            add("classes", f"classes must be one of {', '.join(CLASS_CHOICES)} (got {self.classes!r})")
        if self.class_names is not None and len(self.class_names) < 2:
            add("classes", "a class-conditional run needs at least two classes")
        if self.schedule_offset_kimg < 0:
            add("schedule_offset_kimg", "the schedule offset must not be negative")
        blocks = max(0, int(math.log2(self.resolution)) - 2) if not resolution_problem(self.resolution) else 0
        if self.freeze_d < 0 or self.freeze_d > blocks:
            add("freeze_d", f"--freeze-d must lie in 0..{blocks}: D has {blocks} blocks above 4x4 at "
                            f"{self.resolution}x{self.resolution}")
        elif self.freeze_d and (self.start_from or {}).get("kind") != "checkpoint":
            add("freeze_d", "freezing D's blocks keeps a trained discriminator's weights: start from a "
                            "checkpoint or run folder (an export holds no discriminator)" if self.start_from
                            else "freezing D's blocks needs a trained model to start from (--init)")
        if not self.demo and not self.data:
            add("data", "choose an image folder or the demo data set")
        return out

    def non_finite_fields(self) -> list[str]:
        return sorted(name for name, value in self._numbers() if not math.isfinite(value))

    def _numbers(self):
        """(name, value) of every number the config holds, the per-resolution tables included."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
                yield f.name, value
            elif isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        yield f"{f.name}[{k}]", v

    def batch_at(self, resolution: int) -> int:
        return int(self.batch.get(resolution, self.batch_default))

    def lr_at(self, resolution: int) -> float:
        return float(self.lr.get(resolution, self.lr_default)) * self.lr_scale

    # --- JSON (dict keys become strings in JSON; convert back on load) ---
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["batch"] = {str(k): v for k, v in self.batch.items()}
        d["lr"] = {str(k): v for k, v in self.lr.items()}
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d.setdefault("resample", "nearest")                 # written before filtered resampling
        d.setdefault("d_downsample", "after-activation")    # written before the fused form existed
        d.setdefault("lazy_regularization", "folded-corrected")   # written before R1's own steps
        d.setdefault("d_block", "fir-then-conv")            # StyleGAN2 D written before the official block
        d.setdefault("metric_split", "per-point")           # written before one split for every point
        d.setdefault("metric_noise", "const")               # written before per-sample noise in scores
        if "reset_optimizer" not in d:                      # written before the lod-boundary resets
            d["reset_optimizer"] = "growth" if d.get("reset_optimizer_at_growth") else "never"
        if "batch" in d:
            d["batch"] = {int(k): int(v) for k, v in d["batch"].items()}
        if "lr" in d:
            d["lr"] = {int(k): float(v) for k, v in d["lr"].items()}
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        return cls.from_dict(json.loads(text))

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)
