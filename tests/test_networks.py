import math

import pytest
import torch
import torch.nn.functional as F

from pgstudio.core.networks import layers
from pgstudio.core.config import TrainConfig
from pgstudio.core.presets import preset_config
from pgstudio.core.families.progressive.discriminator import ProgressiveDiscriminator
from pgstudio.core.families.progressive.generator import ProgressiveGenerator
from pgstudio.core.networks.layers import (ConvDownsample2d, EqualConv2d, EqualLinear, MinibatchStddev, PixelNorm,
                                  UpsampleConv2d, downsample2x, feature_maps, leaky_relu, upsample2x)
from pgstudio.core.models import build_discriminator
from pgstudio.core.validation import config_messages


@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_at_every_resolution_up_to_1024(channels):
    G = ProgressiveGenerator(1024, channels, latent_size=8, fmap_base=64, fmap_max=8)
    D = ProgressiveDiscriminator(1024, channels, fmap_base=64, fmap_max=8)
    z = torch.randn(2, 8)
    with torch.no_grad():
        for level in range(2, 11):
            for alpha in (0.0, 0.5, 1.0):
                img = G(z, level, alpha)
                assert img.shape == (2, channels, 2 ** level, 2 ** level)
                assert D(img, level, alpha).shape == (2,)


def test_widths_follow_nf_rule():
    assert [feature_maps(s, 8192, 512) for s in range(1, 10)] == [512, 512, 512, 512, 256, 128, 64, 32, 16]
    G = ProgressiveGenerator(64, 3, 512, 8192, 512)
    assert G.blocks["6"].conv2.weight.shape[0] == 256      # 64x64 is stage 5: 8192/32
    with pytest.raises(ValueError):
        ProgressiveGenerator(48)


def test_fade_continuity_generator():
    """Right after growth, at α=0, the grown G's output is exactly the 2x upsampled old output."""
    torch.manual_seed(0)
    G = ProgressiveGenerator(32, 3, 16, 64, 16)
    z = torch.randn(4, 16)
    with torch.no_grad():
        for level in range(3, 6):
            assert torch.equal(G(z, level, 0.0), upsample2x(G(z, level - 1, 1.0)))
            mid = G(z, level, 0.25)
            expected = 0.75 * upsample2x(G(z, level - 1, 1.0)) + 0.25 * G(z, level, 1.0)
            assert torch.allclose(mid, expected, atol=1e-6)


def test_fade_continuity_discriminator():
    torch.manual_seed(0)
    D = ProgressiveDiscriminator(32, 3, 64, 16)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(D(x, 5, 0.0), D(downsample2x(x), 4, 1.0))
        assert not torch.equal(D(x, 5, 0.5), D(x, 5, 0.0))


def test_equalized_lr_scales_at_run_time():
    torch.manual_seed(0)
    conv = EqualConv2d(64, 32, 3)
    assert abs(conv.weight.std().item() - 1.0) < 0.05           # stored ~N(0,1)
    assert conv.scale == pytest.approx(math.sqrt(2 / (64 * 9)))
    x = torch.randn(16, 64, 16, 16)
    y = conv(x)
    expected = torch.nn.functional.conv2d(x, conv.weight * conv.scale, conv.bias, padding=1)
    assert torch.allclose(y, expected)
    # He init keeps the activation scale: Var(out) ≈ gain (2) for unit-variance input
    assert 1.6 < y[:, :, 1:-1, 1:-1].var().item() < 2.4
    dense = EqualLinear(100, 10, gain=1.0)
    assert dense.scale == pytest.approx(0.1)
    # gradients w.r.t. the stored weight are scaled too (what makes Adam see equal rates)
    dense(torch.ones(1, 100)).sum().backward()
    assert torch.allclose(dense.weight.grad, torch.full_like(dense.weight.grad, 0.1))


def test_pixel_norm_unit_mean_square():
    x = torch.randn(3, 20, 4, 4) * 7
    y = PixelNorm()(x)
    assert torch.allclose(y.pow(2).mean(dim=1), torch.ones(3, 4, 4), atol=1e-4)


def test_minibatch_stddev_computes_group_statistic():
    layer = MinibatchStddev(group_size=2)
    # consecutive samples form a group: {0, 1} and {2, 3}
    a = torch.zeros(4, 2, 2, 2)
    a[0] = 1.0
    a[1] = 3.0          # group {0, 1}: std 1 everywhere
    a[2] = 5.0
    a[3] = 5.0          # group {2, 3}: identical → std ~0
    out = layer(a)
    assert out.shape == (4, 3, 2, 2)
    assert torch.equal(out[:, :2], a)
    assert torch.allclose(out[0, 2], torch.ones(2, 2), atol=1e-3)
    assert torch.allclose(out[1, 2], torch.ones(2, 2), atol=1e-3)
    assert out[2, 2].abs().max() < 1e-3 and out[3, 2].abs().max() < 1e-3


def test_minibatch_stddev_is_in_discriminator_features_not_input():
    D = ProgressiveDiscriminator(8, 3, 64, 16)
    seen = {}
    def hook(module, inputs, output):
        seen["shape"] = inputs[0].shape
    D.final.mbstd.register_forward_hook(hook)
    D(torch.randn(4, 3, 8, 8), 3, 1.0)
    assert seen["shape"] == (4, 16, 4, 4)           # features at 4x4, not the 3-channel image


def _reference_conv(layer, x):
    """The unfused 3x3 conv that UpsampleConv2d / ConvDownsample2d stand for."""
    return F.conv2d(x, layer.weight * layer.scale, layer.bias, padding=1)


def _assert_same_gradients(layer, x, fused, ref):
    """Same gradients for the weights, bias and input, and the same gradient of the input
    gradient's norm (the double backward the gradient penalty and R1 take)."""
    probe = torch.randn_like(ref)
    g_fused = torch.autograd.grad((fused * probe).sum(), (x, layer.weight, layer.bias), create_graph=True)
    g_ref = torch.autograd.grad((ref * probe).sum(), (x, layer.weight, layer.bias), create_graph=True)
    for a, b in zip(g_fused, g_ref):
        assert torch.allclose(a, b, atol=1e-4)
    gg_fused, = torch.autograd.grad(g_fused[0].square().sum(), layer.weight)
    gg_ref, = torch.autograd.grad(g_ref[0].square().sum(), layer.weight)
    assert torch.allclose(gg_fused, gg_ref, rtol=1e-4, atol=1e-3)


@pytest.fixture(params=["fused", "small-call"])
def fused_min_pixels(request, monkeypatch):
    """Both code paths of the fused layers: always fused, and the two-step form for small calls."""
    monkeypatch.setattr(layers, "FUSED_MIN_PIXELS", 0 if request.param == "fused" else 10**9)


@pytest.mark.parametrize("size", [4, 8, 16])
def test_fused_upsample_conv_equals_upsample_then_conv(size, fused_min_pixels):
    """Same output and gradients as nearest-upsample followed by the 3x3 conv."""
    torch.manual_seed(size)
    layer = UpsampleConv2d(6, 5)
    layer.bias.data.normal_()
    x = torch.randn(3, 6, size, size, requires_grad=True)
    fused, ref = layer(x), _reference_conv(layer, upsample2x(x))
    assert fused.shape == (3, 5, 2 * size, 2 * size)
    assert torch.allclose(fused, ref, atol=1e-5)
    _assert_same_gradients(layer, x, fused, ref)


@pytest.mark.parametrize("size", [8, 16, 32])
def test_fused_conv_downsample_equals_conv_then_box_filter(size, fused_min_pixels):
    torch.manual_seed(size)
    layer = ConvDownsample2d(4, 7)
    layer.bias.data.normal_()
    x = torch.randn(3, 4, size, size, requires_grad=True)
    fused, ref = layer(x), downsample2x(_reference_conv(layer, x))
    assert fused.shape == (3, 7, size // 2, size // 2)
    assert torch.allclose(fused, ref, atol=1e-5)
    _assert_same_gradients(layer, x, fused, ref)


def test_grow_block_is_upsample_conv_conv_with_pixel_norm(fused_min_pixels):
    """The generator's function did not change with the fused op: checkpoints render as before."""
    torch.manual_seed(0)
    G = ProgressiveGenerator(16, 3, 16, 64, 16)
    block, x = G.blocks["4"], torch.randn(2, 16, 8, 8)
    norm = PixelNorm()
    expected = norm(leaky_relu(_reference_conv(block.conv2, norm(leaky_relu(_reference_conv(block.conv1, upsample2x(x)))))))
    assert torch.allclose(block(x), expected, atol=1e-5)


def test_discriminator_downsample_forms(fused_min_pixels):
    """New runs box-filter before the activation (fused); a config written before the option
    existed keeps the form its checkpoints were trained with; the parameters are the same."""
    torch.manual_seed(0)
    assert preset_config("laptop").d_downsample == "fused"
    legacy_cfg = TrainConfig.from_dict({k: v for k, v in preset_config("laptop").to_dict().items() if k != "d_downsample"})
    assert legacy_cfg.d_downsample == "after-activation"
    assert TrainConfig.from_json(preset_config("laptop").to_json()).d_downsample == "fused"
    assert config_messages(TrainConfig(d_downsample="sideways"))
    fused, legacy = build_discriminator(preset_config("laptop"), 3), build_discriminator(legacy_cfg, 3)
    legacy.load_state_dict(fused.state_dict())                  # same parameter names and shapes
    block, x = fused.blocks["5"], torch.randn(2, 16, 32, 32)
    h = leaky_relu(_reference_conv(block.conv1, x))
    assert torch.allclose(block(x), leaky_relu(downsample2x(_reference_conv(block.conv2, h))), atol=1e-5)
    assert torch.allclose(legacy.blocks["5"](x), downsample2x(leaky_relu(_reference_conv(block.conv2, h))), atol=1e-5)
    image = torch.randn(4, 3, 32, 32)
    assert not torch.allclose(fused(image, 5, 1.0), legacy(image, 5, 1.0))
