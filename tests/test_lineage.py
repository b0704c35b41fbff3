"""The lineage's two families: StyleGAN (2019) and BigGAN — each building block against its formula
written out here, training (growth and fades, classes, resume to the bit), and what every family
shares (architecture records that read back, the layer view)."""
import pytest
import torch
import torch.nn.functional as F

from pgstudio.core.families import FAMILIES, family, read_architecture
from pgstudio.core.families.biggan.generator import BigGANGenerator, ConditionalBatchNorm, latent_chunks
from pgstudio.core.families.biggan.discriminator import BigGANDiscriminator
from pgstudio.core.families.biggan.recipe import orthogonal_penalty
from pgstudio.core.families.stylegan.discriminator import BlurShrinkBlock, StyleGANDiscriminator
from pgstudio.core.families.stylegan.generator import StyleGANGenerator
from pgstudio.core.families.stylegan.layers import AdaIN, blur, instance_norm
from pgstudio.core.networks.layers import leaky_relu
from pgstudio.core.validation import config_messages
from tests.conftest import assert_same_training_state, tiny_config


# --- StyleGAN's blocks
def test_adain_gives_each_channel_the_styles_mean_and_std():
    torch.manual_seed(0)
    adain = AdaIN(6, 8)
    with torch.no_grad():
        adain.style.bias.normal_()              # styles far from the identity
    x = torch.randn(3, 6, 5, 5) * 4 + 2
    w = torch.randn(3, 8)
    out = adain(x, w)
    y = adain.style(w)
    scale, bias = y[:, :6] + 1, y[:, 6:]     # the official style_mod: x · (y_s + 1) + y_b
    torch.testing.assert_close(out.mean(dim=(2, 3)), bias, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.std(dim=(2, 3), unbiased=False), scale.abs(), atol=1e-4, rtol=1e-4)
    # the input's own statistics are gone: shifting and scaling a channel changes nothing
    torch.testing.assert_close(adain(x * 3 - 7, w), out, atol=1e-4, rtol=1e-4)


def test_instance_norm_is_per_sample_and_channel():
    x = torch.randn(2, 3, 4, 4) * torch.tensor([1.0, 5.0, 0.1])[None, :, None, None]
    n = instance_norm(x)
    ref = (x - x.mean(dim=(2, 3), keepdim=True)) / (x.var(dim=(2, 3), unbiased=False, keepdim=True) + 1e-8).sqrt()
    torch.testing.assert_close(n, ref)


def test_blur_is_the_121_filter_and_after_nearest_upsampling_bilinear_interpolation():
    x = torch.randn(1, 2, 6, 6)
    k = [1, 2, 1]
    padded = F.pad(x, (1, 1, 1, 1))
    ref = sum(k[i] * k[j] * padded[:, :, i:i + 6, j:j + 6] for i in range(3) for j in range(3)) / 16
    torch.testing.assert_close(blur(x), ref)
    # the paper replaced nearest upsampling by bilinear: repetition, then [1, 2, 1], is exactly that
    up = blur(F.interpolate(x, scale_factor=2, mode="nearest"))
    bilinear = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    torch.testing.assert_close(up[..., 1:-1, 1:-1], bilinear[..., 1:-1, 1:-1])


def test_stylegan_d_block_blurs_between_its_convs_then_halves():
    torch.manual_seed(1)
    block = BlurShrinkBlock(4, 6)
    x = torch.randn(2, 4, 16, 16)
    c0, c1 = block.conv0, block.conv1_down
    h = leaky_relu(F.conv2d(x, c0.weight * c0.scale, c0.bias, padding=1))
    h = blur(h)
    h = F.avg_pool2d(F.conv2d(h, c1.weight * c1.scale, c1.bias, padding=1), 2)
    torch.testing.assert_close(block(x), leaky_relu(h), atol=1e-5, rtol=1e-5)


def test_stylegan_d_fades_the_new_block_in_over_the_halved_image():
    torch.manual_seed(2)
    D = StyleGANDiscriminator(16, 3, 64, 16, mbstd_group_size=2)
    x = torch.randn(4, 3, 16, 16)
    new = D.blocks["4"](D.from_rgb["4"](x))
    old = D.from_rgb["3"](F.avg_pool2d(x, 2))
    torch.testing.assert_close(D(x, 4, 0.25), D.final(D.blocks["3"](old + 0.25 * (new - old))), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(D(x, 4, 1.0), D.final(D.blocks["3"](new)), atol=1e-5, rtol=1e-5)


def _stylegan(resolution=16, **kw):
    torch.manual_seed(0)
    G = StyleGANGenerator(resolution, 3, 16, 64, 16, mapping_layers=2, **kw).eval()
    with torch.no_grad():                         # noise strengths start at 0: give them a value
        for name, p in G.named_parameters():
            if name.endswith("noise.strength"):
                p.fill_(0.5)
    return G


def test_each_w_styles_its_own_layers_and_a_level_reads_only_its_own():
    G = _stylegan(16)
    assert G.num_ws == 6 and [G.layer_resolution(i) for i in range(6)] == [4, 4, 8, 8, 16, 16]
    ws = G.broadcast(torch.randn(2, 16))
    base = G.synthesis(ws, level=3, alpha=1.0)
    for i in range(6):
        moved = ws.clone()
        moved[:, i] += 3.0
        changed = not torch.allclose(G.synthesis(moved, level=3, alpha=1.0), base)
        assert changed == (i < 4), i              # 8x8 reads the w of 4x4 and 8x8, not 16x16's


def test_per_pixel_noise_has_a_strength_per_channel_and_modes():
    G = _stylegan(8)
    layer = G.blocks["3"].epilogue0.noise
    assert layer.strength.shape == (16,)
    ws = G.broadcast(torch.randn(2, 16))
    const = G.synthesis(ws, "const")
    assert torch.equal(const, G.synthesis(ws, "const"))
    assert not torch.allclose(const, G.synthesis(ws, "none"))
    a = G.synthesis(ws, "random", torch.Generator().manual_seed(1))
    assert not torch.allclose(a, G.synthesis(ws, "random", torch.Generator().manual_seed(2)))


def test_the_fade_blends_the_repeated_lower_rgb_and_the_new_one():
    G = _stylegan(8)
    ws = G.broadcast(torch.randn(2, 16))
    x4 = G.first(ws, "const", None)
    old = F.interpolate(G.to_rgb["2"](x4), scale_factor=2, mode="nearest")
    new = G.to_rgb["3"](G.blocks["3"](x4, ws[:, 2:4], "const", None))
    torch.testing.assert_close(G.synthesis(ws, level=3, alpha=0.3), old + 0.3 * (new - old), atol=1e-5, rtol=1e-5)


def test_truncation_pulls_only_the_first_eight_layers_toward_the_mean():
    G = _stylegan(64)
    assert G.num_ws == 10 and G.truncation_cutoff == 8
    G.mapping.w_avg.normal_()
    z = torch.randn(3, 16)
    ws = G.broadcast(G.mapping(z))
    from pgstudio.core.analysis.style_space import map_to_w
    truncated = map_to_w(G, z, 0.0)                  # ψ 0: the mean, in the first 8 layers only
    assert truncated.shape == (3, 10, 16)
    torch.testing.assert_close(truncated[:, :8], G.mapping.w_avg.expand(3, 8, -1))
    torch.testing.assert_close(truncated[:, 8:], ws[:, 8:])
    psi = 0.6
    half = map_to_w(G, z, psi)
    torch.testing.assert_close(half[:, :8], G.mapping.w_avg + psi * (ws[:, :8] - G.mapping.w_avg), atol=1e-5, rtol=1e-5)
    # the forward pass truncates the same way
    torch.testing.assert_close(G(z, psi=0.0), G.synthesis(truncated), atol=1e-5, rtol=1e-5)
    # at 32² and below every layer is before the cutoff: one w per latent, as for StyleGAN2
    assert map_to_w(_stylegan(32), z, 0.5).shape == (3, 16)


# --- BigGAN's blocks
def test_orthogonal_penalty_is_zero_for_orthogonal_weights_and_has_the_codes_gradient():
    q = torch.linalg.qr(torch.randn(8, 8))[0]
    assert float(orthogonal_penalty([q])) < 1e-9
    assert float(orthogonal_penalty([q[:5] * 3.0])) < 1e-8          # orthogonal rows of any length
    conv = torch.linalg.qr(torch.randn(36, 4))[0].T.reshape(4, 4, 3, 3)   # 4 orthonormal rows of 36
    assert float(orthogonal_penalty([conv])) < 1e-9
    w = torch.randn(6, 10, requires_grad=True)
    orthogonal_penalty([w]).backward()
    wd = w.detach()
    official = 2 * ((wd @ wd.T) * (1 - torch.eye(6))) @ wd      # BigGAN-PyTorch utils.ortho's gradient
    torch.testing.assert_close(w.grad, official, atol=1e-4, rtol=1e-5)
    assert float(orthogonal_penalty([wd])) > 0


def test_conditional_batch_norm_takes_each_samples_gain_and_bias_from_its_vector():
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm(4, 5)
    x, y = torch.randn(6, 4, 3, 3), torch.randn(6, 5)
    normed = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / torch.sqrt(x.var(dim=(0, 2, 3), unbiased=False, keepdim=True) + 1e-5)
    ref = normed * (1 + y @ cbn.gain.weight.T)[:, :, None, None] + (y @ cbn.bias.weight.T)[:, :, None, None]
    torch.testing.assert_close(cbn(x, y), ref, atol=1e-5, rtol=1e-5)


def _biggan(classes=("a", "b", "c"), resolution=32, **kw):
    torch.manual_seed(0)
    return BigGANGenerator(resolution, 3, 20, 256, 32, shared_dim=8, class_names=classes, **kw).eval()


def test_the_shared_embedding_selects_each_samples_class_in_every_block():
    G = _biggan()
    labels = torch.tensor([2, 0, 1])
    torch.testing.assert_close(G.class_embedding(labels, 3, "cpu"), G.shared.weight[[2, 0, 1]])
    # one embedding feeds every block's batch norms: its row for the class, with the block's z chunk
    seen = []
    for block in G.blocks:
        block.bn1.gain.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
    z = torch.randn(3, 20)
    with torch.no_grad():
        images = G(z, labels=labels)
    chunks = torch.split(z, G.chunks, dim=1)
    for k, y in enumerate(seen):
        torch.testing.assert_close(y, torch.cat([G.shared.weight[[2, 0, 1]], chunks[k + 1]], dim=1))
    # a class as a one-hot weight row is the class; another class, another image
    with torch.no_grad():
        torch.testing.assert_close(G(z, labels=F.one_hot(labels, 3).float()), images)
        assert not torch.allclose(G(z, labels=torch.tensor([0, 0, 0])), images)


def test_the_hierarchical_latent_gives_each_block_its_own_chunk():
    assert latent_chunks(120, 5) == [20] * 6              # BigGAN at 128²: six chunks of 20
    assert latent_chunks(130, 5) == [25, 21, 21, 21, 21, 21]     # the remainder to the first
    G = _biggan()
    assert G.chunks == [5, 5, 5, 5] and G.linear.in_features == 5
    z = torch.randn(2, 20)
    with torch.no_grad():
        base = G(z)
        for k in range(4):
            moved = z.clone()
            moved[:, sum(G.chunks[:k]):sum(G.chunks[:k + 1])] += 2
            assert not torch.allclose(G(moved), base), k


def test_biggan_has_spectral_norm_everywhere_and_attention_at_one_resolution():
    G = _biggan(attention_res=16)
    D = BigGANDiscriminator(32, 3, 256, 32, attention_res=16, classes=3)
    for net in (G, D):
        layers = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        assert layers and all(hasattr(m, "parametrizations") for m in layers)
    assert hasattr(D.embed, "parametrizations") and not hasattr(G.shared, "parametrizations")
    assert list(G.attention) == ["16"]
    captured = []
    G.attention["16"].register_forward_hook(lambda m, i, o: captured.append(o.shape))
    with torch.no_grad():
        G(torch.randn(2, 20))
    assert captured == [torch.Size([2, 16, 16, 16])]
    assert D(torch.randn(4, 3, 32, 32), labels=torch.tensor([0, 1, 2, 0])).shape == (4,)


def test_truncation_by_resampling_keeps_every_z_below_the_threshold():
    from pgstudio.core.analysis.latents import sample_latents, seeded_latents
    z = sample_latents(4000, 20, 0.5, torch.Generator().manual_seed(0))
    assert float(z.abs().max()) < 0.5
    # redrawn, not clipped: no mass piles up at the threshold
    assert float((z.abs() > 0.499).float().mean()) < 0.01
    assert float(seeded_latents([1, 2, 3], 20, 0.3).abs().max()) < 0.3
    assert family("biggan").latent_space == "z"          # the explorer and CLI draw z this way for it


def test_biggan_presets_carry_the_papers_settings():
    from pgstudio.core.presets import preset_config
    paper = preset_config("paper", arch="biggan")
    assert (paper.loss, paper.lr_default, paper.lr_default * paper.d_lr_mult, paper.n_critic) == ("hinge", 5e-5, 2e-4, 2)
    assert (paper.beta1, paper.beta2, paper.ortho_reg, paper.shared_dim, paper.latent_size) == (0.0, 0.999, 1e-4, 128, 120)
    assert (paper.resolution, paper.attention_res, paper.fmap_max) == (128, 64, 1536)
    laptop = preset_config("laptop", arch="biggan", resolution=16)
    assert laptop.attention_res == 8 and not config_messages(laptop.replace(data="x"))   # moved inside 16²
    assert config_messages(laptop.replace(data="x", attention_res=16))
    paper_sg = preset_config("paper", arch="stylegan")
    assert (paper_sg.loss, paper_sg.r1_gamma, paper_sg.r1_interval, paper_sg.style_mixing) == ("logistic", 10.0, 1, 0.9)


# --- training
LINEAGE = {
    "stylegan": dict(arch="stylegan", loss="logistic", r1_gamma=1.0, r1_interval=4, mapping_layers=2),
    "biggan": dict(arch="biggan", loss="hinge", r1_gamma=0.0, n_critic=2, shared_dim=8, attention_res=0,
                   fmap_base=128, batch={}, resolution=16, stabilize_kimg=0.128, fade_kimg=0.128),
}


@pytest.mark.parametrize("arch", sorted(LINEAGE))
def test_a_conditional_run_resumes_to_the_bit(tmp_path, shapes_folder, arch):
    from pgstudio.core.data.dataset import import_folder
    from pgstudio.core.training.trainer import Trainer
    cfg = tiny_config(shapes_folder, classes="on", max_kimg=0.4, **LINEAGE[arch])   # its two class folders
    assert not config_messages(cfg)
    ds = import_folder(cfg.data, cfg.resolution)
    straight = Trainer.new(tmp_path / "straight", cfg, dataset=ds)
    assert straight.run().reason == "max_kimg"
    assert Trainer.new(tmp_path / "split", cfg.replace(max_kimg=0.16), dataset=ds).run().reason == "max_kimg"
    resumed = Trainer.resume(tmp_path / "split", max_kimg=0.4, dataset=ds)
    assert resumed.run().reason == "max_kimg"
    assert_same_training_state(straight, resumed)
    from pgstudio.core.storage.runfolder import RunFolder
    ticks = [r for r in RunFolder(tmp_path / "straight").read_metrics()[0] if r["kind"] == "tick"]
    if arch == "stylegan":       # grows from 4x4, fading 8x8 in; G_ema draws where G last trained
        assert {t["resolution"] for t in ticks} == {4, 8}
        assert any(t["phase"] == "fade" and 0 < t["alpha"] < 1 for t in ticks)
        assert int(straight.G_ema.trained_level) == 3 and 0 < float(straight.G_ema.trained_alpha) < 1   # mid-fade
        assert float(straight.G_ema.trained_alpha) == float(straight.G.trained_alpha)
        assert torch.count_nonzero(straight.G_ema.w_avg) > 0
        assert straight.G_ema.mapping.w_avg_class.abs().sum(1).gt(0).all()     # each class's mean w
    else:
        penalties = [t["ortho_penalty"] for t in ticks if t["ortho_penalty"] is not None]   # (None: D steps only)
        assert len(penalties) >= len(ticks) // 2 and all(p > 0 for p in penalties)
        # the averaged G samples with G's batch statistics (copied at each EMA update; G's own moved
        # since by the D-only steps after its last step), not the untouched zeros and ones
        for (name, mine), theirs in zip(straight.G_ema.named_buffers(), straight.G.buffers()):
            if name.endswith("running_mean"):
                assert mine.abs().sum() > 0 and torch.allclose(mine, theirs, atol=0.05), name


def test_stylegan_mixes_styles_only_over_the_layers_grown_so_far(tiny_cfg):
    from pgstudio.core.families.stylegan.recipe import StyleGANRecipe
    from pgstudio.core.training.schedule_point import SchedulePoint
    G = _stylegan(16)

    class OneRank:
        world, rank, active = 1, 0, False

        def local_slice(self, n):
            return slice(0, n)
    recipe = StyleGANRecipe(tiny_cfg.replace(arch="stylegan", style_mixing=1.0), G=G, D=None, G_fast=G, D_fast=None,
                            device=torch.device("cpu"), dist=OneRank(), rng=torch.Generator().manual_seed(0),
                            precision="fp32", stats=None)
    for level, top in ((2, 1), (3, 3), (4, 5)):
        pt = SchedulePoint(0.0, level, 2 ** level, 1.0, "stabilize", 0, 512, 0.002, 0.0)
        _, cutoff = recipe.draw_extra(pt, slice(0, 512), 0)["mix_d"]
        assert int(cutoff.min()) >= 1 and int(cutoff.max()) == top, level     # all of 1..2·level−3 drawn


# --- every family
@pytest.mark.parametrize("arch", sorted(FAMILIES))
def test_every_familys_generator_record_reads_back_into_the_same_generator(arch, tiny_cfg):
    """What an export writes (G.architecture()) builds, read back, a generator that takes the
    weights and draws the same images — conditional, so a key passed by position into another
    (a StyleGAN2's classes once written as "resample") fails here."""
    fam = family(arch)
    cfg = tiny_cfg.replace(arch=arch, class_names=["a", "b"], resolution=16, **({"attention_res": 8} if arch == "biggan" else {}))
    G = fam.build_generator(fam.architecture(cfg, 3)).eval()
    record = G.architecture()
    assert record["arch"] == arch and record["class_names"] == ["a", "b"]
    again = family(record["arch"]).build_generator(read_architecture(record)).eval()
    again.load_state_dict(G.state_dict())
    z = torch.randn(2, cfg.latent_size)
    with torch.no_grad():
        torch.testing.assert_close(again(z, labels=torch.tensor([1, 0])), G(z, labels=torch.tensor([1, 0])))


@pytest.mark.parametrize("arch", ["stylegan", "biggan"])
def test_the_layer_view_lists_the_new_families_layers(arch):
    from pgstudio.core.analysis.layers import default_layer, trace_layers
    G = _stylegan(16) if arch == "stylegan" else _biggan(attention_res=16)
    z = torch.randn(1, G.latent_size)
    layers, _ = trace_layers(G, lambda: G(z))
    keys = [l.key for l in layers]
    assert not any("parametrizations" in k for k in keys)        # spectral norm's weights are not maps
    if arch == "stylegan":
        # AdaIN's output is its epilogue's (and the second one's, its block's): named by the enclosing module
        assert "blocks.4.epilogue0" in keys and "blocks.4.epilogue0.noise" in keys and "blocks.4" in keys
        wanted = "blocks.4"
    else:
        assert any(k.startswith("attention.16") for k in keys) and any(k.startswith("blocks.2") for k in keys)
        wanted = next(k for k in keys if k.startswith("attention.16"))
    _, activation = trace_layers(G, lambda: G(z), wanted)
    assert activation is not None and activation.shape[1:] == (16, 16)
    assert default_layer(layers).height == G.resolution        # the last map before the image
