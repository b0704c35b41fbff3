"""The recipes as the official code has them, checked against references written out here.

- Lazy regularisation (stylegan2-ada's training_loop.py): R1 (Dreg) and path length (Greg) take
  their own optimizer step every k minibatches, k + 1 steps per k minibatches, with Adam's
  lr × k/(k+1) and β^(k/(k+1)); configs from before the key keep the folded form they trained with.
- StyleGAN2's discriminator block (networks.py's DiscriminatorBlock over conv2d_resample): the
  second 3x3 conv is a stride-2 conv of the map blurred at full resolution, the 1x1 skip is
  bias-free and takes the FIR-downsampled map.
"""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from pgstudio.core.config import TrainConfig
from pgstudio.core.data.dataset import import_folder
from pgstudio.core.families.stylegan2.discriminator import ResidualBlock, StyleGAN2Discriminator
from pgstudio.core.training.trainer import Trainer
from pgstudio.core.validation import config_messages

LR, BETA2 = 0.002, 0.99


def official_adam(k: int) -> tuple[float, float]:
    """training_loop.py: mb_ratio = reg_interval / (reg_interval + 1); lr *= mb_ratio; β **= mb_ratio."""
    mb_ratio = k / (k + 1)
    return LR * mb_ratio, BETA2 ** mb_ratio


def official_step_count(minibatches: int, k: int) -> int:
    """Main phase every minibatch, the reg phase at batch_idx % k == 0: N + ceil(N / k) steps."""
    return minibatches + sum(1 for i in range(minibatches) if i % k == 0)


def _trained(tmp_path, tiny_cfg, minibatches: int, **overrides) -> Trainer:
    cfg = tiny_cfg.replace(loss="logistic", r1_gamma=1.0, lr_default=LR, beta2=BETA2,
                           max_kimg=minibatches * 16 / 1000, **overrides)
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 8))
    assert t.run().reason == "max_kimg" and t.step == minibatches
    return t


def _steps(optimizer, param) -> int:
    return int(optimizer.state[param]["step"])


def _adam(optimizer) -> tuple[float, float]:
    group = optimizer.param_groups[0]
    return group["lr"], group["betas"][1]


def test_stylegan2_takes_r1_and_path_length_steps_of_their_own_with_the_official_correction(tmp_path, tiny_cfg):
    t = _trained(tmp_path, tiny_cfg, 8, arch="stylegan2", r1_interval=4, pl_interval=2, mapping_layers=2,
                 pl_batch_shrink=2)
    assert t.cfg.lazy_regularization == "steps"
    # a weight every pass reaches: D's fromRGB (main and R1), G's first mapping layer (main and path length)
    d_weight, g_weight = t.D.from_rgb.weight, next(t.G.mapping.parameters())
    assert _steps(t.opt_d, d_weight) == official_step_count(8, 4) == 10
    assert _steps(t.opt_g, g_weight) == official_step_count(8, 2) == 12
    for opt, k in ((t.opt_d, 4), (t.opt_g, 2)):
        lr, beta2 = _adam(opt)
        want_lr, want_beta2 = official_adam(k)
        assert math.isclose(lr, want_lr, rel_tol=1e-12) and math.isclose(beta2, want_beta2, rel_tol=1e-12)


def test_the_progressive_family_takes_r1_steps_of_its_own(tmp_path, tiny_cfg):
    t = _trained(tmp_path, tiny_cfg, 6, arch="progressive", r1_interval=2)
    weight = next(t.D.parameters())
    assert _steps(t.opt_d, weight) == official_step_count(6, 2) == 9
    assert _adam(t.opt_d)[0] == pytest.approx(official_adam(2)[0], rel=1e-12)
    assert _adam(t.opt_g) == (LR, BETA2)              # nothing lazy on G: no correction


@pytest.mark.parametrize("mode, d_lr", [("folded", LR), ("folded-corrected", official_adam(4)[0])])
def test_folded_forms_take_one_step_per_minibatch(tmp_path, tiny_cfg, mode, d_lr):
    t = _trained(tmp_path, tiny_cfg, 8, arch="stylegan2", r1_interval=4, pl_interval=2, mapping_layers=2,
                 lazy_regularization=mode)
    assert _steps(t.opt_d, t.D.from_rgb.weight) == 8
    assert _steps(t.opt_g, next(t.G.mapping.parameters())) == 8
    assert _adam(t.opt_d)[0] == pytest.approx(d_lr, rel=1e-12)


def test_runs_from_before_the_key_keep_folding_their_regularisers():
    old = json.loads(TrainConfig(arch="stylegan2").to_json())
    for key in ("lazy_regularization", "d_block"):
        del old[key]
    cfg = TrainConfig.from_dict(old)
    assert cfg.lazy_regularization == "folded-corrected" and cfg.d_block == "fir-then-conv"
    assert TrainConfig().lazy_regularization == "steps" and TrainConfig().d_block == "blur-stride"
    assert config_messages(TrainConfig(lazy_regularization="sometimes"))


# --- StyleGAN2's discriminator block -------------------------------------------------------------

TAPS = torch.tensor([1.0, 3.0, 3.0, 1.0]) / 8


def reference_upfirdn_blur(x: torch.Tensor, pad: int, down: int) -> torch.Tensor:
    """upfirdn2d(x, [1,3,3,1]⊗[1,3,3,1]/64, down, padding=pad) written out as sums of shifted maps."""
    x = F.pad(x, (pad, pad, pad, pad))
    h, w = x.shape[2] - 3, x.shape[3] - 3
    out = sum(TAPS[i] * TAPS[j] * x[:, :, i:i + h, j:j + w] for i in range(4) for j in range(4))
    return out[:, :, ::down, ::down]


def reference_conv(x: torch.Tensor, weight: torch.Tensor, bias, stride: int) -> torch.Tensor:
    """A valid (unpadded) correlation with the given stride, as an explicit sum over taps."""
    k = weight.shape[-1]
    h = (x.shape[2] - k) // stride + 1
    w = (x.shape[3] - k) // stride + 1
    out = sum(torch.einsum("oc,nchw->nohw", weight[:, :, i, j],
                           x[:, :, i:i + stride * (h - 1) + 1:stride, j:j + stride * (w - 1) + 1:stride])
              for i in range(k) for j in range(k))
    return out if bias is None else out + bias[None, :, None, None]


def reference_block(block: ResidualBlock, x: torch.Tensor) -> torch.Tensor:
    """networks.py's DiscriminatorBlock (resnet): skip = 1x1 down (no bias, linear); conv0 3x3;
    conv1 = blur(pad 1 + 1 from the filter: (4 - 2 + 1) // 2 and (4 - 2) // 2) then stride-2 3x3;
    (skip + conv) / √2 (our weights carry the √2 of the activation gain)."""
    lrelu = lambda v: F.leaky_relu(v, 0.2)
    c0, c1, s = block.conv0, block.conv1, block.skip
    skip = reference_conv(reference_upfirdn_blur(x, 1, 2), s.weight * s.scale, None, 1)
    y = lrelu(reference_conv(F.pad(x, (1, 1, 1, 1)), c0.weight * c0.scale, c0.bias, 1))
    y = lrelu(reference_conv(reference_upfirdn_blur(y, 2, 1), c1.weight * c1.scale, c1.bias, 2))
    return (skip + y) / math.sqrt(2)


def test_the_d_block_is_a_stride_2_conv_of_the_blurred_map_beside_a_bias_free_skip():
    torch.manual_seed(0)
    block = ResidualBlock(3, 5)
    with torch.no_grad():
        for p in block.parameters():
            p.normal_()
    assert block.skip.bias is None
    x = torch.randn(2, 3, 16, 16)
    got = block(x)
    assert got.shape == (2, 5, 8, 8)
    assert torch.allclose(got, reference_block(block, x), atol=1e-4)

    old = ResidualBlock(3, 5, "fir-then-conv")
    old.load_state_dict({**block.state_dict(), "skip.bias": torch.zeros(5)})
    # the form runs wrote before the key is another operator on the same weights
    assert (old(x) - got).abs().max() > 0.1


@pytest.mark.parametrize("form, rows", [("blur-stride", range(6, 12)), ("fir-then-conv", range(5, 13))])
def test_the_d_block_sees_the_official_receptive_field(form, rows):
    """Output row 4 of a 16-row map, conv0 made the identity: the official conv1 (blur padded by 2,
    then a stride-2 3x3) reaches input rows 6..11; downsampling first and a same-padded 3x3 conv
    reach 5..12."""
    torch.manual_seed(0)
    block = ResidualBlock(1, 1, form)
    with torch.no_grad():
        block.conv0.weight.zero_()
        block.conv0.weight[:, :, 1, 1] = 1.0
        block.skip.weight.zero_()
    x = torch.ones(1, 1, 16, 16, requires_grad=True)
    block(x)[0, 0, 4, :].sum().backward()
    assert (x.grad[0, 0].abs().sum(dim=1) > 0).nonzero().flatten().tolist() == list(rows)


def test_old_stylegan2_checkpoints_keep_their_block(tiny_cfg):
    """A D built for a config without the key has the old skip bias and loads the old weights."""
    old = StyleGAN2Discriminator(8, 3, 64, 16, block="fir-then-conv")
    cfg = TrainConfig.from_dict({k: v for k, v in json.loads(tiny_cfg.replace(arch="stylegan2", loss="logistic")
                                                                  .to_json()).items() if k != "d_block"})
    from pgstudio.core.models import build_discriminator
    rebuilt = build_discriminator(cfg, 3)
    rebuilt.load_state_dict(old.state_dict())          # strict: the skip bias is there
    x = torch.randn(4, 3, 8, 8)
    assert torch.equal(rebuilt(x), old(x))


# --- the progressive family's filtered resampling (config and architecture key "resample") --------

def reference_upsample_fir(x: torch.Tensor) -> torch.Tensor:
    """upfirdn2d(x, f, up=2, padding=(2, 1), gain=4): zeros between the samples, then the filter."""
    n, c, h, w = x.shape
    stuffed = torch.zeros(n, c, 2 * h, 2 * w, dtype=x.dtype)
    stuffed[:, :, ::2, ::2] = x
    padded = F.pad(stuffed, (2, 1, 2, 1))
    return 4 * sum(TAPS[i] * TAPS[j] * padded[:, :, i:i + 2 * h, j:j + 2 * w] for i in range(4) for j in range(4))


def test_a_fir_progressive_generator_doubles_by_zero_stuffing_and_filtering():
    from pgstudio.core.families.progressive.generator import GrowBlock
    from pgstudio.core.networks.layers import PixelNorm
    torch.manual_seed(0)
    block = GrowBlock(3, 5, "fir")
    x = torch.randn(2, 3, 8, 8)
    norm, lrelu = PixelNorm(), (lambda v: F.leaky_relu(v, 0.2))
    c1, c2 = block.conv1, block.conv2
    y = norm(lrelu(reference_conv(F.pad(reference_upsample_fir(x), (1, 1, 1, 1)), c1.weight * c1.scale, c1.bias, 1)))
    want = norm(lrelu(reference_conv(F.pad(y, (1, 1, 1, 1)), c2.weight * c2.scale, c2.bias, 1)))
    assert torch.allclose(block(x), want, atol=1e-4)
    nearest = GrowBlock(3, 5, "nearest")
    nearest.load_state_dict(block.state_dict())       # the same parameters, another operator
    assert (nearest(x) - block(x)).abs().max() > 0.1


def test_a_fir_progressive_discriminator_halves_as_stylegan2_does():
    from pgstudio.core.families.progressive.discriminator import ShrinkBlock
    torch.manual_seed(0)
    block = ShrinkBlock(3, 5, "fir")
    x = torch.randn(2, 3, 16, 16)
    lrelu = lambda v: F.leaky_relu(v, 0.2)
    c1, c2 = block.conv1, block.conv2
    y = lrelu(reference_conv(F.pad(x, (1, 1, 1, 1)), c1.weight * c1.scale, c1.bias, 1))
    want = lrelu(reference_conv(reference_upfirdn_blur(y, 2, 1), c2.weight * c2.scale, c2.bias, 2))
    assert torch.allclose(block(x), want, atol=1e-4)


def test_reals_fade_the_way_a_fir_generator_does(tiny_cfg):
    """D must see the blend G makes: lerp(up(down(x)), x, α) with G's own upsampling."""
    from pgstudio.core.families.progressive.recipe import ProgressiveRecipe
    from pgstudio.core.training.schedule import SchedulePoint
    x = torch.randn(2, 3, 8, 8)
    pt = SchedulePoint(kimg=1.0, level=3, resolution=8, alpha=0.25, phase="fade", phase_index=1, batch=2, lr=0.002,
                       lod=0.75)
    for resample, up in (("fir", reference_upsample_fir), ("nearest", lambda v: v.repeat_interleave(2, 2)
                                                             .repeat_interleave(2, 3))):
        recipe = ProgressiveRecipe.__new__(ProgressiveRecipe)    # prepare_reals reads the config alone
        recipe.cfg = tiny_cfg.replace(resample=resample)
        low = sum(x[:, :, i::2, j::2] for i in range(2) for j in range(2)) / 4
        assert torch.allclose(recipe.prepare_reals(x, pt), 0.75 * up(low) + 0.25 * x, atol=1e-5), resample


def test_the_resampling_travels_with_the_generator_and_old_records_mean_nearest():
    from pgstudio.core.families import family, read_architecture
    fam = family("progressive")
    fir = fam.build_generator(fam.architecture(TrainConfig(resolution=16, resample="fir"), 3))
    record = fir.architecture()
    assert record["resample"] == "fir"
    rebuilt = fam.build_generator(read_architecture(record))
    rebuilt.load_state_dict(fir.state_dict())
    z = torch.randn(3, 64)
    assert torch.equal(rebuilt(z, 4, 0.5), fir(z, 4, 0.5))
    nearest = fam.build_generator(fam.architecture(TrainConfig(resolution=16, resample="nearest"), 3))
    assert "resample" not in nearest.architecture()               # written as before the key
    assert read_architecture(nearest.architecture()).resample == "nearest"
    old = json.loads(TrainConfig().to_json())
    del old["resample"]
    assert TrainConfig.from_dict(old).resample == "nearest"
