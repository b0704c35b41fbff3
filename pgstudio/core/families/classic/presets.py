"""The survey's models as presets: each paper's own training settings on the classic family's
networks (architecture, normalisation, loss, optimizer, learning rates, betas, batch, n_critic,
clipping, penalty weights), at the resolution the run chooses. Widths are laptop-sized for every
preset (editable in the run form); what each paper did beyond what is here is said beside it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    title: str            # the model, as the survey names it
    citation: str         # authors and year
    note: str             # what this preset keeps of the paper and what it leaves out
    values: dict


# Nothing here averages G's weights unless its paper did (EMA came with later models).
COMMON = dict(g_spectral=False, attention_res=0, conditioning="projection", n_critic=1, r1_gamma=0.0,
              info_categorical=[], info_continuous=0,
              ema_halflife_kimg=0.0, optimizer="adam", d_lr_mult=1.0, lazy_regularization="steps",
              fmap_base=2048, fmap_max=256, lr={}, batch={}, classes="auto", augment="off")

PAPERS: dict[str, Paper] = {
    "gan": Paper("GAN", "Goodfellow et al. 2014",
                 "fully connected G and D (LeakyReLU in D where the paper used maxout and dropout); SGD "
                 "with momentum 0.5 and lr 0.1 without the paper's decay; G maximises log D(G(z)), the "
                 "non-saturating loss the paper recommends in practice",
                 dict(g_arch="mlp", d_arch="mlp", d_norm="none", loss="logistic", optimizer="sgd",
                      lr_default=0.1, beta1=0.5, beta2=0.99, batch_default=100, latent_size=100, fmap_base=1024)),
    "dcgan": Paper("DCGAN", "Radford et al. 2016",
                   "transposed 4x4 convolutions with batch norm and ReLU in G, stride-2 convolutions with "
                   "LeakyReLU 0.2 and batch norm (not on the first layer) in D, N(0, 0.02) weights; Adam "
                   "lr 2e-4, β1 0.5, batch 128, z of 100",
                   dict(g_arch="dcgan", d_arch="dcgan", d_norm="batch", loss="logistic", lr_default=2e-4,
                        beta1=0.5, beta2=0.999, batch_default=128, latent_size=100)),
    "infogan": Paper("InfoGAN", "Chen et al. 2016",
                     "DCGAN networks with one 10-way categorical code and two continuous codes beside a z of 62, "
                     "Q as a dense layer on D's trunk, λ 1 for the categorical code and 0.1 for the continuous "
                     "ones; Adam with G lr 1e-3 and D lr 2e-4, β1 0.5, batch 128 (the paper's MNIST settings)",
                     dict(g_arch="dcgan", d_arch="dcgan", d_norm="batch", loss="logistic", info_categorical=[10],
                          info_continuous=2, info_lambda=1.0, info_lambda_continuous=0.1, lr_default=1e-3,
                          d_lr_mult=0.2, beta1=0.5, beta2=0.999, batch_default=128, latent_size=62)),
    "wgan": Paper("WGAN", "Arjovsky et al. 2017",
                  "DCGAN networks; the critic's weights clipped to [-0.01, 0.01], 5 critic steps per G step, "
                  "RMSprop lr 5e-5, batch 64 (the paper's 100 critic steps during G's first 25 steps and "
                  "every 500th are left out)",
                  dict(g_arch="dcgan", d_arch="dcgan", d_norm="batch", loss="wgan", optimizer="rmsprop",
                       lr_default=5e-5, wgan_clip=0.01, n_critic=5, batch_default=64, latent_size=100)),
    "wgan-gp": Paper("WGAN-GP", "Gulrajani et al. 2017",
                     "DCGAN networks with layer norm in the critic (the paper's replacement for batch norm, "
                     "which the penalty forbids); gradient penalty λ 10, 5 critic steps, Adam lr 1e-4, "
                     "β (0, 0.9), batch 64",
                     dict(g_arch="dcgan", d_arch="dcgan", d_norm="layer", loss="wgan-gp", gp_lambda=10.0, drift=0.0,
                          n_critic=5, lr_default=1e-4, beta1=0.0, beta2=0.9, batch_default=64, latent_size=128)),
    "lsgan": Paper("LSGAN", "Mao et al. 2017",
                   "DCGAN networks with the least-squares loss (0-1-1 coding); Adam lr 2e-4, β1 0.5, batch 64",
                   dict(g_arch="dcgan", d_arch="dcgan", d_norm="batch", loss="lsgan", lr_default=2e-4, beta1=0.5,
                        beta2=0.999, batch_default=64, latent_size=100)),
    "ebgan": Paper("EBGAN", "Zhao et al. 2017",
                   "DCGAN generator; D an autoencoder with batch norm whose energy is the per-pixel mean squared "
                   "reconstruction error, margin 1 (on images in [-1, 1]) and the pulling-away term with weight "
                   "0.1; Adam lr 1e-3, β1 0.5, batch 64",
                   dict(g_arch="dcgan", d_arch="autoencoder", d_norm="batch", loss="ebgan", ebgan_margin=1.0,
                        ebgan_pt_weight=0.1, conditioning="concat", classes="off", lr_default=1e-3, beta1=0.5,
                        beta2=0.999, batch_default=64, latent_size=100)),
    "began": Paper("BEGAN", "Berthelot et al. 2017",
                   "DCGAN generator (the paper's G is its decoder's shape, ELU and nearest upsampling); D an ELU "
                   "autoencoder without normalisation scoring the mean absolute reconstruction error, k_t from "
                   "0 with λ_k 0.001 and γ 0.5; Adam lr 1e-4, β1 0.5, batch 16, z of 64 (the paper's learning-rate "
                   "decay is left out)",
                   dict(g_arch="dcgan", d_arch="autoencoder", d_norm="none", loss="began", began_gamma=0.5,
                        began_lambda_k=0.001, conditioning="concat", classes="off", lr_default=1e-4, beta1=0.5,
                        beta2=0.999, batch_default=16, latent_size=64)),
    "cgan": Paper("cGAN", "Mirza & Osindero 2014",
                  "fully connected networks with the label's one-hot row concatenated to z and to D's input; "
                  "SGD with momentum 0.5 and lr 0.1 (without the paper's decay and momentum schedule), "
                  "batch 100; needs a folder with one sub-folder per class",
                  dict(g_arch="mlp", d_arch="mlp", d_norm="none", loss="logistic", conditioning="concat",
                       classes="on", optimizer="sgd", lr_default=0.1, beta1=0.5, beta2=0.99, batch_default=100,
                       latent_size=100, fmap_base=1024)),
    "sngan": Paper("SNGAN", "Miyato et al. 2018",
                   "residual G and D, spectral normalisation in D, hinge loss, 5 D steps per G step, Adam "
                   "lr 2e-4, β (0, 0.9), batch 64, z of 128",
                   dict(g_arch="resnet", d_arch="resnet", d_norm="spectral", loss="hinge", n_critic=5,
                        lr_default=2e-4, beta1=0.0, beta2=0.9, batch_default=64, latent_size=128)),
    "sagan": Paper("SAGAN", "Zhang et al. 2019",
                   "residual G and D with self-attention on the 16x16 features (the paper's 32x32 of 128x128 "
                   "images: a quarter of a 64x64 run's side), spectral normalisation in "
                   "both, hinge loss, TTUR: G lr 1e-4, D lr 4e-4, β (0, 0.9), one D step per G step; batch "
                   "64 where the paper used 256",
                   dict(g_arch="resnet", d_arch="resnet", d_norm="spectral", g_spectral=True, attention_res=16,
                        loss="hinge", lr_default=1e-4, d_lr_mult=4.0, beta1=0.0, beta2=0.9, batch_default=64,
                        latent_size=128)),
    "r3gan": Paper("R3GAN", "Huang et al. 2024",
                   "residual G and D without normalisation, the relativistic pairing loss with R1 and R2 "
                   "(γ 0.05, every step), Adam lr 2e-4, β (0, 0.99), EMA of G; the paper's schedules of lr, "
                   "γ and β2 and its grouped-conv blocks are left out",
                   dict(g_arch="resnet", d_arch="resnet", d_norm="none", loss="rpgan", r1_gamma=0.05, r1_interval=1,
                        lazy_regularization="folded", lr_default=2e-4, beta1=0.0, beta2=0.99, batch_default=64,
                        latent_size=128, ema_halflife_kimg=2.0)),
}


def paper_values(name: str) -> dict:
    """A preset's settings (those it does not name from COMMON)."""
    return {**COMMON, **PAPERS[name].values, "preset": name}
