"""FID, KID and precision/recall on feature vectors (the Inception pool features of inception.py).

* FID (Heusel et al. 2017): ‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½. The trace of the square root is
  taken as Σ √λ of A Σ₂ A with A = Σ₁^½ (a symmetric matrix with the same eigenvalues as Σ₁Σ₂), so
  it stays real and defined when the covariances are singular — which they are whenever N ≤ 2,048,
  the feature width: there FID is biased upward and depends on N, and KID is the figure to read.
* KID (Bińkowski et al. 2018): the unbiased MMD² with the cubic polynomial kernel
  k(x, y) = (xᵀy / d + 1)³, averaged over random subsets (stylegan2-ada and clean-fid: 100 subsets of
  up to 1,000), reported with the standard deviation over subsets.
* Precision/recall (Kynkäänniemi et al. 2019): the k-NN (k = 3) balls of one set cover a share of
  the other. The paper uses VGG-16 features; here they are the same Inception features, and labelled so.
"""
from __future__ import annotations

import numpy as np
import torch

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
PR_NEIGHBOURS = 3
GRAM_LIMIT = 4096           # images per set up to which KID's kernel matrices are computed whole


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (float64, N−1 normalised) of [N, d] features."""
    x = np.asarray(features, np.float64)
    if x.shape[0] < 2:
        raise ValueError("FID needs at least two images per set")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """The Fréchet distance between two Gaussians given by their statistics."""
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    root = _sqrt_psd(np.asarray(sigma1, np.float64))
    middle = root @ np.asarray(sigma2, np.float64) @ root
    trace_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum())
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID of two feature sets. With fewer images than features (the usual case on small data) the
    trace term is taken in the images' space instead of the features': with centred X₁, X₂ and
    Σᵢ = XᵢᵀXᵢ/(nᵢ−1), the non-zero eigenvalues of Σ₁Σ₂ are the squared singular values of
    X₁X₂ᵀ/√((n₁−1)(n₂−1)), so tr (Σ₁Σ₂)^½ is that matrix's nuclear norm — exact, and an n×n SVD
    instead of two d×d eigen-decompositions (seconds instead of tens of seconds at n = 1,000)."""
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    if min(a.shape[0], b.shape[0]) >= a.shape[1]:
        return frechet_distance(*statistics(a), *statistics(b))
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("FID needs at least two images per set")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    xa, xb = a - mu_a, b - mu_b
    na, nb = a.shape[0] - 1, b.shape[0] - 1
    trace_sqrt = float(np.linalg.svd(xa @ xb.T, compute_uv=False).sum()) / np.sqrt(na * nb)
    diff = mu_a - mu_b
    value = float(diff @ diff + (xa * xa).sum() / na + (xb * xb).sum() / nb - 2.0 * trace_sqrt)
    return max(value, 0.0)


def kid(features_a: np.ndarray, features_b: np.ndarray, subsets: int = KID_SUBSETS,
        subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """(mean, std over subsets) of the unbiased MMD² with the cubic polynomial kernel.

    Up to GRAM_LIMIT images per set the three kernel matrices are computed once and every subset
    reads its block (three matrix products instead of three per subset); beyond, per subset.
    Kernel products in float32, sums in float64.
    """
    a = torch.from_numpy(np.asarray(features_a, np.float32))
    b = torch.from_numpy(np.asarray(features_b, np.float32))
    m = min(a.shape[0], b.shape[0], subset_size)
    if m < 2:
        raise ValueError("KID needs at least two images per set")
    d = a.shape[1]

    def kernel(x, y):
        return ((x @ y.T) / d + 1).double() ** 3
    whole = max(a.shape[0], b.shape[0]) <= GRAM_LIMIT
    if whole:
        kaa, kbb, kab = kernel(a, a), kernel(b, b), kernel(a, b)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        i = torch.from_numpy(rng.choice(a.shape[0], m, replace=False))
        j = torch.from_numpy(rng.choice(b.shape[0], m, replace=False))
        if whole:
            kxx, kyy, kxy = kaa[i][:, i], kbb[j][:, j], kab[i][:, j]
        else:
            x, y = a[i], b[j]
            kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
        within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
        values.append(float(within - 2.0 * kxy.sum() / (m * m)))
    return float(np.mean(values)), float(np.std(values))


def _kth_radius(x: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    """Each point's distance to its k-th nearest other point of the same set (k+1-th: the point
    itself is at distance 0), in row chunks so that large sets never hold an N x N matrix."""
    return torch.cat([torch.cdist(x[i:i + chunk], x).kthvalue(k + 1, dim=1).values
                      for i in range(0, x.shape[0], chunk)])


def _covered(manifold: torch.Tensor, radius: torch.Tensor, probes: torch.Tensor, chunk: int = 1024) -> float:
    inside = []
    for start in range(0, probes.shape[0], chunk):
        dist = torch.cdist(probes[start:start + chunk], manifold)
        inside.append((dist <= radius[None, :]).any(dim=1))
    return float(torch.cat(inside).float().mean())


def precision_recall(reals: np.ndarray, fakes: np.ndarray, k: int = PR_NEIGHBOURS) -> tuple[float, float]:
    """(precision, recall): the share of fakes inside the reals' k-NN manifold, and of reals inside
    the fakes'."""
    r = torch.from_numpy(np.asarray(reals, np.float32))
    f = torch.from_numpy(np.asarray(fakes, np.float32))
    if min(r.shape[0], f.shape[0]) <= k:
        raise ValueError(f"precision/recall needs more than k={k} images per set")
    precision = _covered(r, _kth_radius(r, k), f)
    recall = _covered(f, _kth_radius(f, k), r)
    return precision, recall
