"""The run form's rows for the survey's settings: the classic family's networks (G and D
architecture, D's normalisation, spectral norm in G, self-attention, how labels enter) and the
training balance its papers set (optimizer and betas, D steps per G step, D's learning-rate
multiplier, penalty weights, WGAN's clip), BigGAN's embedding size and orthogonal β, and StyleGAN2's
D block. Each row, and each widget of a row, is shown for a family that reads it."""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from ...core.config import OPTIMIZERS
from ...core.families.classic.blocks import ARCHS, CONDITIONINGS, D_ARCHS, D_NORMS
from ..common.widgets import named, row_of


def _combo(name: str, items) -> QComboBox:
    box = named(QComboBox(), name)
    for item in items:
        box.addItem(item, item)
    return box


def _double(name: str, lo: float, hi: float, step: float, decimals: int) -> QDoubleSpinBox:
    box = named(QDoubleSpinBox(), name)
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setSingleStep(step)
    return box


class ModelSettingsRows:
    """The widgets, their rows (label, row widget, the settings it edits) and the two-way mapping
    between them and a config's values."""

    def __init__(self):
        self.g_arch = _combo("g_arch", ARCHS)
        self.g_arch.setToolTip("G: mlp (GAN 2014's fully connected net), dcgan (transposed 4x4 convolutions, "
                               "batch norm, ReLU), resnet (SNGAN/SAGAN's residual blocks)")
        self.d_arch = _combo("d_arch", D_ARCHS)
        self.d_arch.setToolTip("D: mlp, dcgan (stride-2 4x4 convolutions, LeakyReLU 0.2), resnet, or the autoencoder "
                               "of EBGAN and BEGAN (its score is the reconstruction error)")
        self.d_norm = _combo("d_norm", D_NORMS)
        self.d_norm.setToolTip("D's normalisation: batch (DCGAN), layer (WGAN-GP's, for a gradient penalty), "
                               "spectral (SNGAN: every layer's largest singular value held at 1) or none")
        self.g_spectral = named(QCheckBox("spectral norm in G"), "g_spectral")
        self.g_spectral.setToolTip("SAGAN: spectral normalisation in G as well")
        self.attention_res = named(QSpinBox(), "attention_res")
        self.attention_res.setRange(0, 256)
        self.attention_res.setSingleStep(8)
        self.attention_res.setSpecialValueText("no self-attention")
        self.attention_res.setToolTip("SAGAN's (and BigGAN's) self-attention on the feature maps of this resolution "
                                      "in G and D")
        self.conditioning = _combo("conditioning", CONDITIONINGS)
        self.conditioning.setToolTip("a class-conditional D: projection (Miyato & Koyama) or cGAN's concatenation "
                                     "of the label to D's input (G always takes z with the label's one-hot row)")
        self.optimizer = _combo("optimizer", OPTIMIZERS)
        self.optimizer.setToolTip("adam; rmsprop (WGAN); sgd with momentum β1 (GAN 2014, cGAN)")
        self.beta1 = _double("beta1", 0.0, 0.999, 0.1, 3)
        self.beta2 = _double("beta2", 0.0, 0.9999, 0.01, 4)
        self.beta1.setToolTip("Adam's β1, or SGD's momentum")
        self.beta2.setToolTip("Adam's β2")
        self.n_critic = named(QSpinBox(), "n_critic")
        self.n_critic.setRange(1, 100)
        self.n_critic.setPrefix("D steps per G: ")
        self.n_critic.setToolTip("n_critic: D's steps per G step (WGAN, WGAN-GP and SNGAN: 5)")
        self.d_lr_mult = _double("d_lr_mult", 0.01, 100.0, 0.5, 2)
        self.d_lr_mult.setPrefix("D lr × ")
        self.d_lr_mult.setToolTip("D's learning rate is G's times this (TTUR: SAGAN's 4)")
        self.r1_gamma = _double("r1_gamma", 0.0, 1000.0, 0.05, 3)
        self.r1_gamma.setPrefix("γ ")
        self.r1_gamma.setToolTip("R1's weight on reals (and R2's on fakes with the rpgan loss); 0: off")
        self.gp_lambda = _double("gp_lambda", 0.0, 1000.0, 1.0, 2)
        self.gp_lambda.setPrefix("λ ")
        self.gp_lambda.setToolTip("WGAN-GP's gradient penalty weight")
        self.wgan_clip = _double("wgan_clip", 0.0001, 10.0, 0.005, 4)
        self.wgan_clip.setPrefix("clip ")
        self.wgan_clip.setToolTip("the wgan loss clips every critic weight to [−c, c] after each step")
        self.info_categorical = named(QLineEdit(), "info_categorical")
        self.info_categorical.setPlaceholderText("none")
        self.info_categorical.setToolTip("InfoGAN: the categorical codes' sizes, e.g. 10 or 10 4 (empty: none)")
        self.info_continuous = named(QSpinBox(), "info_continuous")
        self.info_continuous.setRange(0, 16)
        self.info_continuous.setSuffix(" continuous")
        self.info_continuous.setToolTip("InfoGAN: continuous codes, uniform in [-1, 1]")
        self.info_lambda = _double("info_lambda", 0.0, 100.0, 0.1, 2)
        self.info_lambda.setPrefix("λ ")
        self.info_lambda.setToolTip("InfoGAN: weight of the categorical codes' information term (the paper's 1)")
        self.info_lambda_continuous = _double("info_lambda_continuous", 0.0, 100.0, 0.05, 2)
        self.info_lambda_continuous.setPrefix("λc ")
        self.info_lambda_continuous.setToolTip("InfoGAN: weight of the continuous codes' term (the paper's 0.1)")
        self.ebgan_margin = _double("ebgan_margin", 0.001, 100.0, 0.1, 3)
        self.ebgan_margin.setPrefix("margin ")
        self.ebgan_margin.setToolTip("EBGAN: fakes' energy is pushed up to this margin (per-pixel MSE of images in [-1, 1])")
        self.ebgan_pt_weight = _double("ebgan_pt_weight", 0.0, 10.0, 0.05, 3)
        self.ebgan_pt_weight.setPrefix("PT ")
        self.ebgan_pt_weight.setToolTip("EBGAN: weight of the pulling-away term on G's fakes' encodings")
        self.began_gamma = _double("began_gamma", 0.01, 1.0, 0.05, 2)
        self.began_gamma.setPrefix("γ ")
        self.began_gamma.setToolTip("BEGAN: diversity ratio, the target of E[L(G(z))] / E[L(x)]")
        self.began_lambda_k = _double("began_lambda_k", 0.0, 1.0, 0.001, 4)
        self.began_lambda_k.setPrefix("λk ")
        self.began_lambda_k.setToolTip("BEGAN: k_t's gain")
        self.shared_dim = named(QSpinBox(), "shared_dim")
        self.shared_dim.setRange(1, 1024)
        self.shared_dim.setPrefix("embedding ")
        self.shared_dim.setToolTip("BigGAN: size of the class embedding all of G's conditional batch norms share "
                                   "(the paper's 128)")
        self.ortho_reg = _double("ortho_reg", 0.0, 1.0, 1e-4, 5)
        self.ortho_reg.setPrefix("ortho β ")
        self.ortho_reg.setToolTip("BigGAN: weight of the orthogonal regularisation of G's weights (the paper's 1e-4; 0: off)")
        self.d_block = named(QComboBox(), "d_block")
        self.d_block.addItem("blur, then stride-2 conv (official)", "blur-stride")
        self.d_block.addItem("downsample, then conv (earlier)", "fir-then-conv")
        self.d_block.setToolTip("StyleGAN2: how each D block halves its map. The official block blurs at full "
                                "resolution and convolves with stride 2; pgstudio's earlier block downsampled "
                                "first, and scored better at 16² in short CPU runs, mixed at 32² (docs/faithful.md)")
        # rows shown only where their model trains: (label, row, settings, shown for these values)
        self.conditional_rows = [
            ("InfoGAN codes", row_of(self.info_categorical, self.info_continuous, self.info_lambda,
                                   self.info_lambda_continuous), ("info_categorical",),
             lambda v: bool(v["info_categorical"]) or v["info_continuous"] > 0 or v["preset"] == "infogan"),
            ("EBGAN margin / PT", row_of(self.ebgan_margin, self.ebgan_pt_weight), ("ebgan_margin",),
             lambda v: v["loss"] == "ebgan"),
            ("BEGAN γ / λk", row_of(self.began_gamma, self.began_lambda_k), ("began_gamma",),
             lambda v: v["loss"] == "began")]
        self.rows = [("G / D network", row_of(self.g_arch, self.d_arch), ("g_arch", "d_arch")),
                     ("D norm / G", row_of(self.d_norm, self.g_spectral), ("d_norm", "g_spectral")),
                     ("attention / labels", row_of(self.attention_res, self.conditioning),
                      ("attention_res", "conditioning")),
                     ("optimizer / β1 / β2", row_of(self.optimizer, self.beta1, self.beta2), ("optimizer", "beta1")),
                     ("D steps / D lr", row_of(self.n_critic, self.d_lr_mult), ("n_critic", "d_lr_mult")),
                     ("penalties / clip", row_of(self.r1_gamma, self.gp_lambda, self.wgan_clip),
                      ("r1_gamma", "gp_lambda", "wgan_clip")),
                     ("embedding / ortho", row_of(self.shared_dim, self.ortho_reg), ("shared_dim", "ortho_reg")),
                     ("D block", row_of(self.d_block), ("d_block",))]

    def _editors(self) -> dict:
        """setting → (read, write)."""
        def combo(box):
            return box.currentData, lambda v: box.setCurrentIndex(max(0, box.findData(v)))

        def value(box):
            return box.value, box.setValue
        return {"g_arch": combo(self.g_arch), "d_arch": combo(self.d_arch), "d_norm": combo(self.d_norm),
                "g_spectral": (self.g_spectral.isChecked, self.g_spectral.setChecked),
                "attention_res": value(self.attention_res), "conditioning": combo(self.conditioning),
                "optimizer": combo(self.optimizer), "beta1": value(self.beta1), "beta2": value(self.beta2),
                "n_critic": value(self.n_critic), "d_lr_mult": value(self.d_lr_mult),
                "r1_gamma": value(self.r1_gamma), "gp_lambda": value(self.gp_lambda),
                "wgan_clip": value(self.wgan_clip),
                "info_categorical": (self._categorical, self._set_categorical),
                "info_continuous": value(self.info_continuous), "info_lambda": value(self.info_lambda),
                "info_lambda_continuous": value(self.info_lambda_continuous),
                "ebgan_margin": value(self.ebgan_margin), "ebgan_pt_weight": value(self.ebgan_pt_weight),
                "began_gamma": value(self.began_gamma), "began_lambda_k": value(self.began_lambda_k),
                "shared_dim": value(self.shared_dim), "ortho_reg": value(self.ortho_reg),
                "d_block": combo(self.d_block)}

    def _categorical(self) -> list[int]:
        """The sizes typed; a word that is not a whole number reads as 0 (refused with a message)."""
        return [int(w) if w.strip().isdigit() else 0 for w in self.info_categorical.text().replace(",", " ").split()]

    def _set_categorical(self, sizes) -> None:
        self.info_categorical.setText(" ".join(str(int(k)) for k in sizes))

    def values(self) -> dict:
        return {name: read() for name, (read, _) in self._editors().items()}

    def apply(self, values) -> None:
        """From a dict of settings (a preset's) or a config (an opened run's); missing ones stay."""
        for name, (_, write) in self._editors().items():
            value = values.get(name) if isinstance(values, dict) else getattr(values, name, None)
            if value is not None:
                write(value)

    def widgets(self) -> dict:
        """setting → the widget that edits it (outlines, signal connections)."""
        return {"g_arch": self.g_arch, "d_arch": self.d_arch, "d_norm": self.d_norm, "g_spectral": self.g_spectral,
                "attention_res": self.attention_res, "conditioning": self.conditioning, "optimizer": self.optimizer,
                "beta1": self.beta1, "beta2": self.beta2, "n_critic": self.n_critic, "d_lr_mult": self.d_lr_mult,
                "r1_gamma": self.r1_gamma, "gp_lambda": self.gp_lambda, "wgan_clip": self.wgan_clip,
                "info_categorical": self.info_categorical, "info_continuous": self.info_continuous,
                "info_lambda": self.info_lambda, "info_lambda_continuous": self.info_lambda_continuous,
                "ebgan_margin": self.ebgan_margin, "ebgan_pt_weight": self.ebgan_pt_weight,
                "began_gamma": self.began_gamma, "began_lambda_k": self.began_lambda_k,
                "shared_dim": self.shared_dim, "ortho_reg": self.ortho_reg, "d_block": self.d_block}
