"""GAN losses and their regularisers, chosen by name in the config.

- ``wgan-gp``: Wasserstein loss, gradient penalty (λ) on real/fake interpolates and the
  paper's ε-drift term that keeps D's output near zero.
- ``logistic``: non-saturating logistic loss with R1 on reals (γ), lazily every N steps.
- ``hinge``: hinge loss, with the same lazy R1 when γ > 0.
- ``minimax``: Goodfellow et al.'s game as written: D's logistic loss, G minimising
  log(1 − D(G(z))), which saturates when D wins (the paper's own reason for the alternative,
  the non-saturating G loss of ``logistic``).
- ``lsgan``: least squares (Mao et al. 2017, the 0-1-1 coding): D pulls reals to 1 and fakes to
  0, G pulls fakes to 1.
- ``wgan``: the Wasserstein critic loss with the critic's weights clipped to [−c, c] after
  every step (Arjovsky et al. 2017; the clipping is the recipe's).
- ``rpgan``: the relativistic pairing loss, f(D(fake) − D(real)) with f = softplus, for D and
  the reverse for G, with zero-centred penalties on reals (R1) and fakes (R2) of weight γ each
  (Huang et al. 2024, "R3GAN").
- ``ebgan`` and ``began``: D is an autoencoder and its "score" an energy, the reconstruction
  error; their losses (below) need the recipe's state (BEGAN's k_t) and are applied there.
- StyleGAN2 adds the path-length regulariser on G (lazy too).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

Scores = torch.Tensor


def discriminator_loss(kind: str, real: Scores, fake: Scores, drift: float = 0.0) -> torch.Tensor:
    real, fake = real.float(), fake.float()
    if kind == "wgan-gp":
        return fake.mean() - real.mean() + drift * real.pow(2).mean()
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    if kind in ("logistic", "minimax"):      # −log σ(real) − log(1 − σ(fake))
        return F.softplus(fake).mean() + F.softplus(-real).mean()
    if kind == "lsgan":
        return 0.5 * (real - 1.0).pow(2).mean() + 0.5 * fake.pow(2).mean()
    if kind == "wgan":
        return fake.mean() - real.mean()
    if kind == "rpgan":
        return F.softplus(fake - real).mean()
    raise ValueError(f"unknown loss {kind!r}")


def ebgan_discriminator_loss(real_energy: Scores, fake_energy: Scores, margin: float) -> torch.Tensor:
    """Zhao et al. 2017: D(x) + [m − D(G(z))]⁺ — low energy on reals, fakes pushed up to the margin."""
    return real_energy.float().mean() + F.relu(margin - fake_energy.float()).mean()


def pulling_away(embeddings: torch.Tensor) -> torch.Tensor:
    """EBGAN's pulling-away term: the mean squared cosine similarity of every pair of different
    samples' encodings, 1/(N(N−1)) Σ_{i≠j} (S_iᵀS_j / ‖S_i‖‖S_j‖)²; 0 for an orthogonal batch."""
    s = F.normalize(embeddings.float().flatten(1), dim=1)
    n = s.shape[0]
    if n < 2:
        return s.new_zeros(())
    cos2 = (s @ s.T).pow(2)
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


def began_discriminator_loss(real_energy: Scores, fake_energy: Scores, k: float) -> torch.Tensor:
    """Berthelot et al. 2017: L(x) − k_t · L(G(z))."""
    return real_energy.float().mean() - k * fake_energy.float().mean()


def began_k_update(k: float, real_energy: float, fake_energy: float, gamma: float, lambda_k: float) -> float:
    """k_{t+1} = clip(k_t + λ_k (γ L(x) − L(G(z))), 0, 1): the proportional control that keeps
    E[L(G(z))] = γ E[L(x)]."""
    return min(1.0, max(0.0, k + lambda_k * (gamma * real_energy - fake_energy)))


def began_convergence(real_energy: float, fake_energy: float, gamma: float) -> float:
    """BEGAN's convergence measure M_global = L(x) + |γ L(x) − L(G(z))|."""
    return real_energy + abs(gamma * real_energy - fake_energy)


# losses whose scores only mean something paired: G's loss reads D's scores on reals too
RELATIVISTIC = ("rpgan",)


def generator_loss(kind: str, fake: Scores, real: Scores | None = None) -> torch.Tensor:
    fake = fake.float()
    if kind == "logistic":
        return F.softplus(-fake).mean()
    if kind == "minimax":                    # log(1 − σ(fake)) = −softplus(fake)
        return -F.softplus(fake).mean()
    if kind in ("wgan-gp", "hinge", "wgan"):
        return -fake.mean()
    if kind == "lsgan":
        return 0.5 * (fake - 1.0).pow(2).mean()
    if kind == "rpgan":
        if real is None:
            raise ValueError("the relativistic loss needs D's scores on reals for G's step")
        return F.softplus(real.float() - fake).mean()
    raise ValueError(f"unknown loss {kind!r}")


def gradient_penalty(critic: Callable[[torch.Tensor], Scores], real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None, eps: torch.Tensor | None = None) -> torch.Tensor:
    """E[(‖∇D(x̂)‖ − 1)²] with x̂ a random interpolate per sample (Gulrajani et al. 2017)."""
    if eps is None:
        eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, generator=generator)
    mixed = (real.detach().float() + eps * (fake.detach().float() - real.detach().float())).requires_grad_(True)
    scores = critic(mixed)
    grad, = torch.autograd.grad(scores.float().sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1.0).pow(2).mean()


def r1_penalty(critic: Callable[[torch.Tensor], Scores], real: torch.Tensor) -> torch.Tensor:
    """E[‖∇D(x)‖²] on reals (Mescheder et al. 2018); the caller scales it by γ/2."""
    x = real.detach().float().requires_grad_(True)
    scores = critic(x)
    grad, = torch.autograd.grad(scores.float().sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(dim=1).mean()


def path_length_penalty(images: torch.Tensor, ws: torch.Tensor, pl_mean: torch.Tensor, decay: float,
                        generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """StyleGAN2's path-length regulariser: E[(‖J_wᵀ y‖ − a)²] with y random image-space noise
    scaled by 1/√pixels and a the running mean of the lengths. Returns (penalty, new mean)."""
    h, w = images.shape[2], images.shape[3]
    noise = torch.randn(images.shape, device=images.device, generator=generator) / math.sqrt(h * w)
    grad, = torch.autograd.grad((images.float() * noise).sum(), ws, create_graph=True)
    lengths = grad.float().square().sum(dim=2).mean(dim=1).sqrt()
    new_mean = pl_mean.lerp(lengths.mean().detach(), decay)
    return (lengths - new_mean).square().mean(), new_mean


def lazy_adam_hyperparameters(lr: float, betas: tuple[float, float], ratio: float) -> tuple[float, tuple[float, float]]:
    """StyleGAN2's correction for an optimizer that takes k + 1 steps per k minibatches (k main
    steps and one step of a lazy regulariser): lr × ratio and β^ratio, with ratio = k / (k + 1)."""
    if ratio == 1.0:
        return lr, betas
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)
