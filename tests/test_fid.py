"""FID, KID and precision/recall: the maths on synthetic features against closed forms and an
independent implementation (scipy's sqrtm), the Inception pipeline on a stand-in network, and one
test through the real Inception file when the optional extra is installed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pgstudio.core.analysis import fid as maths
from pgstudio.core.analysis import inception
from pgstudio.core.analysis.inception_metrics import inception_record, real_features, split


def _scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID as pytorch-fid and stylegan2-ada write it: scipy.linalg.sqrtm of the product."""
    import scipy.linalg
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(root)))


def test_frechet_distance_matches_the_closed_form_of_gaussians():
    rng = np.random.default_rng(0)
    d = 16
    # co-diagonal covariances: FID = |mu1-mu2|^2 + sum (sqrt(l1) - sqrt(l2))^2 in closed form
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    l1, l2 = rng.uniform(0.1, 3.0, d), rng.uniform(0.1, 3.0, d)
    s1, s2 = (q * l1) @ q.T, (q * l2) @ q.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(l1) - np.sqrt(l2)) ** 2).sum()
    assert maths.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)
    # general (non-commuting) covariances: the 1-d-per-axis closed form no longer holds, scipy does
    a = rng.normal(size=(d, d))
    s3 = a @ a.T + 0.1 * np.eye(d)
    import scipy.linalg
    tr = np.trace(np.real(scipy.linalg.sqrtm(s1 @ s3)))
    assert maths.frechet_distance(mu1, s1, mu2, s3) == pytest.approx(
        ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s3) - 2 * tr, rel=1e-6)
    assert maths.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_features_agrees_with_an_independent_scipy_implementation():
    rng = np.random.default_rng(1)
    d, n = 64, 600                       # full-rank covariances, where scipy's sqrtm is reliable
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    a = rng.normal(size=(n, d)) @ mix
    b = rng.normal(size=(n, d)) @ (mix + 0.3 * rng.normal(size=(d, d)) / np.sqrt(d)) + 0.2
    ours, theirs = maths.fid(a, b), _scipy_fid(a, b)
    assert ours > 1.0
    assert abs(ours - theirs) / theirs < 1e-3


def test_fid_with_fewer_images_than_features_equals_the_feature_space_computation():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(40, 96)), rng.normal(size=(30, 96)) * 1.3 + 0.5    # N < d: rank-deficient
    value = maths.fid(a, b)               # the images' space: a 40x30 SVD
    assert np.isfinite(value) and value > 0
    assert value == pytest.approx(maths.frechet_distance(*maths.statistics(a), *maths.statistics(b)), rel=1e-6)


def _kid_reference(a: np.ndarray, b: np.ndarray, subsets: int, size: int, seed: int) -> float:
    """stylegan2-ada's KID loop, in float64 throughout."""
    rng, d, t = np.random.default_rng(seed), a.shape[1], 0.0
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), size, replace=False)], b[rng.choice(len(b), size, replace=False)]
        k = (x @ x.T / d + 1) ** 3 + (y @ y.T / d + 1) ** 3
        t += (k.sum() - np.diag(k).sum()) / (size - 1) - ((x @ y.T / d + 1) ** 3).sum() * 2 / size
    return t / subsets / size


def test_kid_agrees_with_a_float64_reference_loop():
    rng = np.random.default_rng(5)
    a, b = np.abs(rng.normal(size=(120, 256))), np.abs(rng.normal(size=(150, 256))) * 1.1
    ours = maths.kid(a, b, subsets=10, subset_size=100, seed=3)[0]
    assert ours == pytest.approx(_kid_reference(a, b, 10, 100, 3), rel=1e-4)


def test_kid_is_unbiased_on_two_samples_of_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(3)
    d = 32
    same = [maths.kid(rng.normal(size=(300, d)), rng.normal(size=(300, d)), subsets=20, subset_size=200,
                      seed=s)[0] for s in range(10)]
    mean_same = float(np.mean(same))
    # unbiased: the mean over repeats is zero within its standard error (a biased MMD sits above)
    assert abs(mean_same) < 3 * np.std(same) / np.sqrt(len(same)) + 1e-4
    shifted = [maths.kid(rng.normal(size=(300, d)), rng.normal(size=(300, d)) + shift, subsets=20,
                         subset_size=200)[0] for shift in (0.1, 0.3, 0.6)]
    assert shifted[0] < shifted[1] < shifted[2]
    assert shifted[0] > mean_same + 3 * np.std(same)


def test_precision_and_recall_tell_quality_from_coverage():
    rng = np.random.default_rng(4)
    reals = rng.normal(size=(400, 8))
    assert min(maths.precision_recall(reals, rng.normal(size=(400, 8)))) > 0.8
    # fakes on a corner of the real distribution: precise but with poor coverage
    collapsed = rng.normal(size=(400, 8)) * 0.2 + 0.5
    precision, recall = maths.precision_recall(reals, collapsed)
    assert precision > 0.9 and recall < 0.3
    # fakes off the data: neither
    far = rng.normal(size=(400, 8)) + 6.0
    assert max(maths.precision_recall(reals, far)) < 0.05


def test_tf1_bilinear_resize_samples_input_i_times_in_over_out():
    ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 4, 4).contiguous()
    out = inception.tf1_bilinear_resize(ramp, 8)
    assert out[0, 0, 0].tolist() == pytest.approx([0, 0.5, 1, 1.5, 2, 2.5, 3, 3])      # edge clamped
    x = torch.rand(1, 3, 299, 299)
    assert torch.equal(inception.tf1_bilinear_resize(x), x)
    p = inception.prepare(torch.tensor([[[[0, 255]]]], dtype=torch.uint8))
    assert p.shape == (1, 3, 299, 299) and p.min() == -1.0 and p.max() == pytest.approx(127 / 128)


class _StandIn(torch.nn.Module):
    """A tiny fixed feature network: pooled colour at two scales, colour spread and edge strength."""
    def forward(self, x):
        x = torch.nn.functional.adaptive_avg_pool2d(x, 16)          # undo the resize to 299
        feats = [torch.nn.functional.adaptive_avg_pool2d(x, s).flatten(1) for s in (1, 2)]
        edges = [(x[:, :, 1:] - x[:, :, :-1]).square().mean(dim=(2, 3)),     # blur lowers edge energy
                 (x[..., 1:] - x[..., :-1]).square().mean(dim=(2, 3))]
        return torch.cat(feats + [x.std(dim=(2, 3))] + edges, dim=1)


def _images(n: int, seed: int, blur: int = 0, noise: float = 0.0) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 3, 16, 16)
    for i in range(n):
        s = int(torch.randint(4, 9, (1,), generator=g))
        y0, x0 = (int(v) for v in torch.randint(0, 16 - s, (2,), generator=g))
        x[i, int(torch.randint(0, 3, (1,), generator=g)), y0:y0 + s, x0:x0 + s] = 1.0
    if blur:
        x = torch.nn.functional.avg_pool2d(x, 2 * blur + 1, 1, blur, count_include_pad=False)
    x = x + noise * torch.randn(x.shape, generator=g)
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def test_fid_and_kid_between_disjoint_sets_are_small_and_grow_with_blur_and_noise():
    net = _StandIn()
    reals = inception.features(_images(300, 0), net)
    values = []
    for blur, noise in ((0, 0.0), (1, 0.0), (2, 0.0), (2, 0.3)):
        other = inception.features(_images(300, 1, blur, noise), net)
        values.append((maths.fid(other, reals), maths.kid(other, reals, subsets=20, subset_size=200)[0]))
    fids, kids = zip(*values)
    assert list(fids) == sorted(fids) and fids[0] < fids[2] / 1.5 < fids[3] / 10
    assert list(kids) == sorted(kids) and kids[0] < kids[1] / 1.5 and kids[0] < kids[2] / 4


def test_a_generator_record_has_its_floor_and_takes_the_reals_classes():
    class Painter(torch.nn.Module):          # a "generator" that paints its class's colour
        latent_size, classes, class_names = 4, 3, ("r", "g", "b")

        def __init__(self):
            super().__init__()
            self.anchor = torch.nn.Parameter(torch.zeros(1))

        def forward(self, z, level, alpha, labels=None):
            x = torch.full((z.shape[0], 3, 16, 16), -1.0)
            index = labels.argmax(1) if labels.dim() == 2 else labels
            x[torch.arange(z.shape[0]), index] = 1.0
            return x
    images = np.zeros((60, 3, 16, 16), np.uint8)
    labels = np.arange(60) % 3
    images[np.arange(60), labels] = 255
    seen = []
    record = inception_record(Painter(), 0, 1.0, images, n=100, labels=labels, with_pr=True, network=_StandIn(),
                              progress=lambda done, total: seen.append((done, total)))
    assert record["n"] == record["n_floor"] == 30
    # the fakes hold set A's classes exactly; the floor set B holds them in other proportions
    assert record["fid"] == pytest.approx(0.0, abs=1e-3) and record["floor_fid"] > 0.1
    assert record["precision"] == 1.0 and record["recall"] == 1.0
    assert "note" in record and "KID" in record["note"]
    assert seen[-1] == (90, 90)          # all 60 reals once, then 30 fakes
    a, b = split(60, 100, 0)
    assert not set(a) & set(b)


def test_a_missing_or_altered_network_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PGSTUDIO_INCEPTION", str(tmp_path / "nowhere.pt"))
    with pytest.raises(inception.FeatureNetworkMissing, match="not a file"):
        inception.locate()
    fake = tmp_path / "default_1.pt"
    fake.write_bytes(b"not the network")
    monkeypatch.setenv("PGSTUDIO_INCEPTION", str(fake))
    with pytest.raises(inception.FeatureNetworkMissing, match="SHA-1"):
        inception.verify(inception.locate())
    monkeypatch.delenv("PGSTUDIO_INCEPTION")
    monkeypatch.setattr(inception.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(inception.FeatureNetworkMissing, match=r"pip install -e '\.\[fid\]'"):
        inception.locate()


@pytest.mark.skipif(not inception.available(), reason="the optional [fid] extra is not installed")
def test_the_real_inception_file_is_checked_and_separates_blurred_images(tmp_path):
    net = inception.load("cpu")             # checks the SHA-1, the tensor count and the parameters
    assert len(net.state_dict()) == inception.TENSORS
    reals = _images(16, 0)
    feats = real_features(reals, cache_dir=tmp_path)
    assert feats.shape == (16, inception.FEATURES) and feats.dtype == np.float32
    assert np.isfinite(feats).all() and (feats >= 0).all()          # pool3 follows a ReLU
    assert np.array_equal(real_features(reals, cache_dir=tmp_path), feats)      # from the cache
    other = inception.features(_images(16, 1), net)
    blurred = inception.features(_images(16, 1, blur=2, noise=0.2), net)
    assert maths.kid(other, feats)[0] < maths.kid(blurred, feats)[0]
