"""StyleGAN2 family: FIR resampling, modulation, shapes, mixing, regularisers, training."""
import numpy as np
import pytest
import torch

from pgstudio.core.training import losses
from pgstudio.core.networks.fir import downsample_fir, upsample_fir
from pgstudio.core.families.stylegan2.discriminator import StyleGAN2Discriminator
from pgstudio.core.families.stylegan2.generator import StyleGAN2Generator
from pgstudio.core.families.stylegan2.layers import ModulatedConv2d
from pgstudio.core.validation import config_messages
from tests.conftest import assert_same_training_state

TAPS = np.array([1.0, 3.0, 3.0, 1.0])


def upfirdn_reference(x: np.ndarray, up: int, down: int, pad: tuple[int, int]) -> np.ndarray:
    """upfirdn2d written out by loops, as in the StyleGAN2 paper's code: zero-stuff by ``up``,
    pad, correlate with the flipped separable kernel (gain up²), keep every ``down``-th sample."""
    k = np.outer(TAPS, TAPS)
    k = k / k.sum() * up * up
    h, w = x.shape
    z = np.zeros((h * up, w * up))
    z[::up, ::up] = x
    z = np.pad(z, ((pad[0], pad[1]), (pad[0], pad[1])))
    kf = k[::-1, ::-1]
    out_h = z.shape[0] - k.shape[0] + 1
    out = np.zeros((out_h, out_h))
    for i in range(out_h):
        for j in range(out_h):
            out[i, j] = (z[i:i + 4, j:j + 4] * kf).sum()
    return out[::down, ::down]


@pytest.fixture
def known_image():
    """An 8x8 image with edges, a gradient and a single bright pixel."""
    img = np.zeros((8, 8))
    img[2:6, 1:4] = 1.0
    img += np.linspace(0, 0.5, 8)[None, :]
    img[6, 6] = 3.0
    return img


def test_fir_upsampling_matches_upfirdn_reference(known_image):
    ours = upsample_fir(torch.tensor(known_image, dtype=torch.float64)[None, None]).numpy()[0, 0]
    ref = upfirdn_reference(known_image, up=2, down=1, pad=(2, 1))
    assert ours.shape == (16, 16)
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # a constant image stays constant away from the border
    flat = upsample_fir(torch.ones(1, 1, 8, 8, dtype=torch.float64))[0, 0, 2:-2, 2:-2]
    assert torch.allclose(flat, torch.ones_like(flat))


def test_fir_downsampling_matches_upfirdn_reference(known_image):
    ours = downsample_fir(torch.tensor(known_image, dtype=torch.float64)[None, None]).numpy()[0, 0]
    ref = upfirdn_reference(known_image, up=1, down=2, pad=(1, 1))
    assert ours.shape == (4, 4)
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_demodulated_conv_keeps_unit_variance():
    torch.manual_seed(0)
    conv = ModulatedConv2d(128, 96, 3, w_size=32, demodulate=True)
    x = torch.randn(16, 128, 16, 16)
    w = torch.randn(16, 32) * 3          # strong, varied styles
    with torch.no_grad():
        y = conv(x, w)[:, :, 1:-1, 1:-1]     # away from the zero padding
    per_channel = y.var(dim=(0, 2, 3))
    assert abs(float(y.var()) - 1.0) < 0.1
    assert float(per_channel.min()) > 0.6 and float(per_channel.max()) < 1.5
    # without demodulation the output scale follows the styles instead
    conv.demodulate = False
    with torch.no_grad():
        assert float(conv(x, w).var()) > 2.0


@pytest.mark.parametrize("resolution", [4, 8, 16, 32, 64, 128, 256, 512, 1024])
def test_shapes_at_every_resolution(resolution):
    small = dict(fmap_base=64, fmap_max=8) if resolution >= 256 else dict(fmap_base=128, fmap_max=16)
    G = StyleGAN2Generator(resolution, 3, latent_size=8, mapping_layers=2, **small)
    D = StyleGAN2Discriminator(resolution, 3, mbstd_group_size=2, **small)
    with torch.no_grad():
        images = G(torch.randn(2, 8))
        assert images.shape == (2, 3, resolution, resolution)
        assert D(images).shape == (2,)
    assert G.num_ws == 2 * int(np.log2(resolution)) - 2


def test_gray_images_and_architecture_round_trip():
    from pgstudio.core.models import build_generator
    G = StyleGAN2Generator(16, 1, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=3, demodulate=False)
    G2 = build_generator(G.architecture())
    assert isinstance(G2, StyleGAN2Generator) and G2.mapping_layers == 3 and not G2.demodulate
    G2.load_state_dict(G.state_dict())
    z = torch.randn(3, 8)
    assert torch.equal(G(z), G2(z))
    assert G(z).shape == (3, 1, 16, 16)


def test_style_mixing_takes_the_right_layers_from_the_right_latent():
    torch.manual_seed(1)
    G = StyleGAN2Generator(32, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2)
    a = G.broadcast(torch.randn(3, 8))
    b = G.broadcast(torch.randn(3, 8))
    cutoff = torch.tensor([1, 5, G.num_ws])
    mixed = G.mix(a, b, cutoff)
    assert torch.equal(mixed[0, :1], a[0, :1]) and torch.equal(mixed[0, 1:], b[0, 1:])
    assert torch.equal(mixed[1, :5], a[1, :5]) and torch.equal(mixed[1, 5:], b[1, 5:])
    assert torch.equal(mixed[2], a[2])            # cutoff = num_ws: no mixing
    # the coarse w (index 0, the 4x4 layer) change the image; with every w from b it is b's image
    img_b = G.synthesis(b)
    assert torch.allclose(G.synthesis(G.mix(a, b, torch.zeros(3, dtype=torch.long))), img_b)
    assert not torch.allclose(G.synthesis(G.mix(a, b, torch.ones(3, dtype=torch.long))), img_b)
    assert [G.layer_resolution(i) for i in range(G.num_ws)] == [4, 8, 8, 16, 16, 32, 32, 32]


def test_noise_modes_and_truncation():
    torch.manual_seed(2)
    G = StyleGAN2Generator(16, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2)
    for module in G.modules():
        if hasattr(module, "strength"):
            module.strength.data.fill_(0.5)
    z = torch.randn(2, 8)
    with torch.no_grad():
        const = G(z, noise_mode="const")
        torch.manual_seed(123)                      # const ignores the global generator: its maps are buffers
        assert torch.equal(G(z, noise_mode="const"), const)
        # and they are the maps the layers hold: overwriting them changes the image
        buffers = [b for name, b in G.named_buffers() if name.endswith(".fixed")]
        assert buffers
        for b in buffers:
            b.add_(1.0)
        assert not torch.equal(G(z, noise_mode="const"), const)
        for b in buffers:
            b.sub_(1.0)
        assert not torch.equal(G(z, noise_mode="random"), G(z, noise_mode="random"))
        assert not torch.equal(G(z, noise_mode="none"), G(z, noise_mode="const"))
        G.mapping.w_avg.copy_(torch.randn(8))
        w_trunc = G.mapping(z, psi=0.0)
        assert torch.allclose(w_trunc, G.w_avg.expand(2, -1))
        w_half = G.mapping(z, psi=0.5)
        assert torch.allclose(w_half, 0.5 * (G.mapping(z) + G.w_avg), atol=1e-6)


def test_w_avg_tracks_the_mean_w():
    G = StyleGAN2Generator(8, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2)
    z = torch.randn(256, 8)
    target = G.mapping(z).mean(0).detach()
    for _ in range(2000):
        G.mapping(z, update_w_avg=True)
    assert torch.allclose(G.w_avg, target, atol=1e-3)


def test_r1_and_path_length_are_finite_and_the_mean_moves_to_its_target():
    torch.manual_seed(3)
    G = StyleGAN2Generator(16, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2)
    D = StyleGAN2Discriminator(16, 3, fmap_base=64, fmap_max=16)
    reals = torch.randn(8, 3, 16, 16)
    r1 = losses.r1_penalty(lambda x: D(x), reals)
    assert torch.isfinite(r1) and r1 > 0
    r1.backward()
    assert all(torch.isfinite(p.grad).all() for p in D.parameters() if p.grad is not None)

    z = torch.randn(8, 8)
    images, ws = G(z, return_ws=True)
    pl, mean = losses.path_length_penalty(images, ws, torch.zeros(()), decay=0.01)
    assert torch.isfinite(pl) and 0 < float(mean) < 1
    pl.backward()
    assert torch.isfinite(G.mapping.dense[0].weight.grad).all()
    # with the networks fixed, the running mean converges on the mean path length
    mean = torch.zeros(())
    history = []
    for _ in range(300):
        images, ws = G(z, return_ws=True)
        _, mean = losses.path_length_penalty(images, ws, mean, decay=0.05, generator=torch.Generator().manual_seed(0))
        history.append(float(mean))
    images, ws = G(z, return_ws=True)
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0)) / 16
    g, = torch.autograd.grad((images * noise).sum(), ws)
    target = float(g.square().sum(2).mean(1).sqrt().mean())
    assert abs(history[-1] - target) < 0.01 * target
    assert abs(history[10] - target) > abs(history[100] - target) > abs(history[-1] - target)


def _sg2_cfg(tiny_cfg, **kw):
    return tiny_cfg.replace(arch="stylegan2", loss="logistic", r1_gamma=0.1, r1_interval=4, pl_interval=2,
                            mapping_layers=2, **kw)


def test_stylegan2_resume_equals_uninterrupted(tmp_path, tiny_cfg):
    """Stop at M, resume to N: the same weights, mean w and path-length mean as one run to N."""
    from pgstudio.core.data.dataset import import_folder
    from pgstudio.core.storage.runfolder import RunFolder
    from pgstudio.core.training.trainer import Trainer
    cfg = _sg2_cfg(tiny_cfg, max_kimg=0.32)
    ds = import_folder(cfg.data, 8)
    straight = Trainer.new(tmp_path / "straight", cfg, dataset=ds)
    assert straight.run().reason == "max_kimg"
    first = Trainer.new(tmp_path / "split", cfg.replace(max_kimg=0.144), dataset=ds)
    assert first.run().reason == "max_kimg"
    resumed = Trainer.resume(tmp_path / "split", max_kimg=0.32, dataset=ds)
    assert resumed.run().reason == "max_kimg"
    assert_same_training_state(straight, resumed)
    assert torch.equal(straight.recipe.pl_mean, resumed.recipe.pl_mean) and float(straight.recipe.pl_mean) > 0
    assert torch.count_nonzero(straight.G_ema.w_avg) > 0          # the mean w reached the EMA copy
    ticks = [r for r in RunFolder(tmp_path / "straight").read_metrics()[0] if r["kind"] == "tick"]
    assert {(t["resolution"], t["phase"], t["alpha"]) for t in ticks} == {(8, "stabilize", 1.0)}
    assert all(t["pl_penalty"] is not None and t["pl_mean"] > 0 for t in ticks)


def test_stylegan2_config_rules(tiny_cfg):
    from pgstudio.core.presets import preset_config
    from pgstudio.core.training.schedule import phases, total_kimg
    assert any("WGAN-GP" in p for p in config_messages(tiny_cfg.replace(arch="stylegan2", loss="wgan-gp")))
    assert any("compile" in p for p in config_messages(tiny_cfg.replace(arch="stylegan2", loss="logistic", compile=True)))
    cfg = preset_config("laptop", arch="stylegan2", demo=True)
    assert cfg.loss == "logistic" and config_messages(cfg) == []
    assert [(p.resolution, p.kind) for p in phases(cfg)] == [(32, "stabilize")]
    # the same image budget as the progressive schedule at that resolution
    assert total_kimg(cfg) == total_kimg(preset_config("laptop", demo=True))


def test_bf16_top_blocks_run_forward_backward_and_penalties(monkeypatch):
    """The CUDA mixed-precision path (bf16 in the top blocks), exercised with CPU autocast."""
    from contextlib import nullcontext
    from pgstudio.core.families.stylegan2 import discriminator as stylegan2_discriminator
    from pgstudio.core.families.stylegan2 import generator as stylegan2_generator
    entered = []

    def cpu_bf16_region(x, enabled):
        entered.append(enabled)
        return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else nullcontext()
    monkeypatch.setattr(stylegan2_generator, "bf16_region", cpu_bf16_region)
    monkeypatch.setattr(stylegan2_discriminator, "bf16_region", cpu_bf16_region)
    torch.manual_seed(4)
    G = StyleGAN2Generator(32, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2, bf16_blocks=2)
    D = StyleGAN2Discriminator(32, 3, fmap_base=64, fmap_max=16, bf16_blocks=2)
    z = torch.randn(4, 8)
    images, ws = G(z, z_mix=torch.randn(4, 8), mix_cutoff=torch.tensor([1, 2, 8, 8]), noise_mode="random",
                   return_ws=True)
    assert images.dtype == torch.float32 and torch.isfinite(images).all()
    assert True in entered and False in entered          # some blocks in bf16, the low ones not
    scores = D(images)
    assert scores.dtype == torch.float32
    (losses.generator_loss("logistic", scores)).backward(retain_graph=True)
    pl, _ = losses.path_length_penalty(images, ws, torch.zeros(()), 0.01)
    r1 = losses.r1_penalty(lambda x: D(x), torch.randn(4, 3, 32, 32))
    (pl + r1).backward()
    for net in (G, D):
        assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


def test_sampling_weight_cache_follows_weight_changes():
    """Without autograd the modulated weights are reused; any in-place change (EMA update,
    load_state_dict) must show in the next image."""
    torch.manual_seed(5)
    G = StyleGAN2Generator(8, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2).eval()
    z = torch.randn(2, 8)
    with torch.no_grad():
        a = G(z)
        assert torch.equal(a, G(z))
        G.blocks["3"].conv1.conv.weight.mul_(1.5)              # as the EMA's in-place lerp does
        b = G(z)
        assert not torch.equal(a, b)
        other = StyleGAN2Generator(8, 3, latent_size=8, fmap_base=64, fmap_max=16, mapping_layers=2)
        G.load_state_dict(other.state_dict())
        assert torch.equal(G(z), other.eval()(z))
    # with autograd on, gradients still reach the weights
    G(z).sum().backward()
    assert G.blocks["3"].conv1.conv.weight.grad is not None
    # a network in training is never cached: a fused Adam step does not bump version counters
    G.train()
    opt = torch.optim.Adam(G.parameters(), lr=0.1, fused=True)
    with torch.no_grad():
        before = G(z)
    opt.step()
    with torch.no_grad():
        assert not torch.equal(before, G(z))


def test_fir_filter_is_built_once_per_device_and_dtype(monkeypatch):
    """A fresh filter per call meant a host-to-GPU copy, and so a host sync, ~50 times a step."""
    from pgstudio.core.networks import fir
    built = []
    real = fir.fir_kernel
    monkeypatch.setattr(fir, "fir_kernel", lambda *a, **k: built.append(1) or real(*a, **k))
    monkeypatch.setattr(fir, "_KERNELS", {})
    x = torch.randn(2, 3, 8, 8)
    for _ in range(5):
        fir.downsample_fir(fir.upsample_fir(x))
    fir.upsample_fir(x.double())
    assert len(built) == 3            # up (gain 4) and down (gain 1) in float32, up in float64
