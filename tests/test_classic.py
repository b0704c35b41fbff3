"""The classic family (the survey's GANs): each building block against its paper's formula,
each preset's settings, and every preset training finitely and resuming bit-exactly on CPU."""
import math

import pytest
import torch
import torch.nn.functional as F

from pgstudio.core.data.dataset import import_folder
from pgstudio.core.families import family, family_with_paper
from pgstudio.core.networks.residual import SelfAttention, width
from pgstudio.core.families.classic.discriminator import ClassicDiscriminator
from pgstudio.core.families.classic.generator import ClassicGenerator
from pgstudio.core.presets import preset_config, preset_names
from pgstudio.core.training import losses
from pgstudio.core.training.schedule import schedule_at
from pgstudio.core.training.trainer import Trainer
from pgstudio.core.storage.runfolder import RunFolder
from pgstudio.core.validation import config_messages

CLASSIC = family("classic")
PAPERS = list(CLASSIC.papers)


def classic_cfg(data, name="dcgan", **kw):
    """A paper's preset, shrunk to the test data (16x16, narrow, short)."""
    values = dict(arch="classic", data=str(data), resolution=16, max_kimg=0.192, tick_kimg=0.064, sample_kimg=0.128,
                  checkpoint_kimg=0.128, device="cpu", precision="fp32", grid_size=4, fmap_base=128, fmap_max=16,
                  batch_default=16, seed=5, classes="off")
    if name == "sagan":
        values["attention_res"] = 8
    if name == "cgan":
        values["classes"] = "on"
    values.update(kw)
    return preset_config(name, **values)


# --- the building blocks, each against its formula
def test_spectral_normalisation_leaves_a_largest_singular_value_of_one():
    D = ClassicDiscriminator(resolution=16, image_channels=3, fmap_base=128, fmap_max=32, d_arch="dcgan", norm="spectral")
    D.train()
    x = torch.randn(8, 3, 16, 16)
    for _ in range(30):             # one power iteration per forward in training
        D(x)
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 3            # 16 → 8, 8 → 4, the 4x4 score
    for conv in convs:
        W = conv.weight.detach().reshape(conv.weight.shape[0], -1)         # the normalised weight
        assert torch.linalg.matrix_norm(W, ord=2).item() == pytest.approx(1.0, abs=0.02)
        raw = conv.parametrizations.weight.original.detach().reshape(W.shape[0], -1)
        assert abs(torch.linalg.matrix_norm(raw, ord=2).item() - 1) > 0.5     # it did rescale something


def test_weight_clipping_bounds_every_critic_weight(tmp_path, shapes_folder):
    cfg = classic_cfg(shapes_folder, "wgan", max_kimg=0.064)
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 16))
    with torch.no_grad():          # every parameter far outside the bound, biases and BN scales too
        for p in t.nets.D.parameters():
            p.fill_(3.0)
    t.recipe.after_d_step(t.nets.D)
    assert all(p.max().item() == pytest.approx(cfg.wgan_clip) for p in t.nets.D.parameters())
    assert t.run().reason == "max_kimg"
    params = list(t.nets.D.parameters())
    assert all(p.abs().max().item() <= torch.tensor(cfg.wgan_clip).item() for p in params)
    assert any(p.abs().max().item() == pytest.approx(cfg.wgan_clip) for p in params)   # the bound is reached
    assert isinstance(t.nets.opt_d, torch.optim.RMSprop) and t.nets.opt_d.param_groups[0]["lr"] == 5e-5


def test_self_attention_follows_sagans_formula_and_starts_as_the_identity():
    torch.manual_seed(0)
    block = SelfAttention(16)
    x = torch.randn(2, 16, 4, 4)
    assert torch.equal(block(x), x)                     # γ = 0 at the start
    with torch.no_grad():
        block.gamma.fill_(0.7)
    f, g, h = (conv.weight[:, :, 0, 0] for conv in (block.query, block.key, block.value))
    flat = x.flatten(2)                                 # [N, C, HW]
    expected = torch.empty_like(flat)
    for n in range(2):
        for j in range(16):                             # o_j = Σ_i β_ji h(x_i), β_j = softmax_i(f(x_j)·g(x_i))
            logits = torch.stack([(f @ flat[n, :, j]) @ (g @ flat[n, :, i]) for i in range(16)])
            beta = torch.softmax(logits, dim=0)
            expected[n, :, j] = sum(beta[i] * (h @ flat[n, :, i]) for i in range(16))
    out = block(x)
    assert torch.allclose(out, x + 0.7 * expected.reshape(2, 16, 4, 4), atol=1e-5)
    assert torch.allclose(block.attention(x).sum(-1), torch.ones(2, 16))


def test_the_losses_are_their_papers_formulas():
    real, fake = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([-0.5, 0.8, 1.5])
    sig = torch.sigmoid
    # GAN: D maximises log D(x) + log(1 − D(G(z))); minimax G minimises log(1 − D(G(z))); NS G maximises log D(G(z))
    assert losses.discriminator_loss("minimax", real, fake) == pytest.approx(
        (-(sig(real).log()).mean() - (1 - sig(fake)).log().mean()).item(), rel=1e-5)
    assert losses.generator_loss("minimax", fake) == pytest.approx((1 - sig(fake)).log().mean().item(), rel=1e-5)
    assert losses.generator_loss("logistic", fake) == pytest.approx(-(sig(fake).log()).mean().item(), rel=1e-5)
    # LSGAN, a = 0, b = c = 1: ½E(D(x) − 1)² + ½E D(G(z))², and ½E(D(G(z)) − 1)²
    assert losses.discriminator_loss("lsgan", real, fake) == pytest.approx(
        0.5 * ((real - 1) ** 2).mean().item() + 0.5 * (fake ** 2).mean().item())
    assert losses.generator_loss("lsgan", fake) == pytest.approx(0.5 * ((fake - 1) ** 2).mean().item())
    # WGAN: the critic maximises E f(x) − E f(G(z))
    assert losses.discriminator_loss("wgan", real, fake) == pytest.approx((fake.mean() - real.mean()).item())
    # RpGAN: D minimises E log(1 + e^{D(fake) − D(real)}) over pairs; G the reverse
    assert losses.discriminator_loss("rpgan", real, fake) == pytest.approx(
        torch.log1p(torch.exp(fake - real)).mean().item(), rel=1e-5)
    assert losses.generator_loss("rpgan", fake, real=real) == pytest.approx(
        torch.log1p(torch.exp(real - fake)).mean().item(), rel=1e-5)
    with pytest.raises(ValueError, match="scores on reals"):
        losses.generator_loss("rpgan", fake)


def test_r3gans_penalty_is_r1_on_reals_plus_r2_on_fakes(tmp_path, shapes_folder):
    """d_main's penalty against γ/2 (E‖∇D(x)‖² + E‖∇D(G(z))‖²), computed here from D and G."""
    cfg = classic_cfg(shapes_folder, "r3gan", r1_gamma=0.3)
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 16))
    pt = schedule_at(t.cfg, 0)
    draws = t.recipe.draw(pt, t.stepper.reals(pt), 0, 0)
    assert draws.with_r1 and t.recipe.uses_r2()
    _, penalty = t.recipe.d_main(draws, pt, 1)

    def grad_sq(x):
        x = x.detach().requires_grad_(True)
        g, = torch.autograd.grad(t.nets.D(x, 4, 1.0).sum(), x)
        return g.flatten(1).pow(2).sum(1).mean()
    with torch.no_grad():
        fakes = t.nets.G(draws.z_d, 4, 1.0)
    expected = 0.3 / 2 * (grad_sq(draws.reals) + grad_sq(fakes))
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-4)
    r1_only = 0.3 / 2 * grad_sq(draws.reals)
    assert abs(penalty.item() - r1_only.item()) > 1e-3 * expected.item()      # R2 is in it


def test_n_critic_d_steps_per_g_step(tmp_path, shapes_folder):
    cfg = classic_cfg(shapes_folder, "sngan", max_kimg=0.16)          # 10 steps of 16
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 16))
    assert t.run().reason == "max_kimg" and t.step == 10
    d_steps = {int(s["step"]) for s in t.nets.opt_d.state.values()}
    g_steps = {int(s["step"]) for s in t.nets.opt_g.state.values()}
    assert d_steps == {10} and g_steps == {10 // 5}          # G after every 5th D step


def test_dcgan_is_built_as_the_paper_says():
    torch.manual_seed(0)
    G = ClassicGenerator(resolution=64, image_channels=3, latent_size=100, fmap_base=4096, fmap_max=1024)
    D = ClassicDiscriminator(resolution=64, image_channels=3, fmap_base=4096, fmap_max=1024)
    deconvs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [m.out_channels for m in deconvs] == [1024, 512, 256, 128, 3]          # the paper's Figure 1
    assert all(m.kernel_size == (4, 4) for m in deconvs) and [m.stride for m in deconvs][1:] == [(2, 2)] * 4
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128, 256, 512, 1]
    layers = list(D.body)
    assert isinstance(layers[1], torch.nn.LeakyReLU) and layers[1].negative_slope == 0.2
    assert not isinstance(layers[1], torch.nn.BatchNorm2d) and isinstance(layers[3], torch.nn.BatchNorm2d)
    weights = torch.cat([m.weight.flatten() for m in deconvs + convs])
    assert weights.mean().abs() < 1e-3 and weights.std().item() == pytest.approx(0.02, rel=0.02)
    assert G(torch.randn(2, 100)).shape == (2, 3, 64, 64) and G(torch.randn(2, 100)).abs().max() <= 1
    assert width(4, 4096, 1024) == 1024 and width(32, 4096, 1024) == 128


def test_cgan_concatenates_the_label_in_g_and_d():
    torch.manual_seed(0)
    G = ClassicGenerator(resolution=16, image_channels=1, latent_size=8, fmap_base=128, fmap_max=16, g_arch="mlp",
                         class_names=("a", "b", "c"))
    D = ClassicDiscriminator(resolution=16, image_channels=1, fmap_base=128, fmap_max=16, d_arch="mlp", norm="none",
                             classes=3, conditioning="concat")
    assert G.body[0].in_features == 8 + 3 and D.body[1].in_features == (1 + 3) * 16 * 16
    z = torch.randn(1, 8).repeat(3, 1)
    images = G(z, labels=torch.tensor([0, 1, 2]))
    assert not torch.allclose(images[0], images[1]) and not torch.allclose(images[1], images[2])
    blend = G(z[:1], labels=torch.tensor([[0.0, 1.0, 0.0]]))           # a one-hot row is its index
    assert torch.allclose(blend, images[1:2], atol=1e-6)
    scores = D(images, labels=torch.tensor([0, 1, 2]))
    assert scores.shape == (3,) and not torch.allclose(scores, D(images, labels=torch.tensor([2, 0, 1])))


def test_the_averaged_generator_follows_gs_buffers(tmp_path, shapes_folder):
    cfg = classic_cfg(shapes_folder, "dcgan", ema_halflife_kimg=1.0, max_kimg=0.064)
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 16))
    assert t.run().reason == "max_kimg"
    ema, live = dict(t.nets.G_ema.named_buffers()), dict(t.nets.G.named_buffers())
    assert any("running_mean" in k for k in ema)
    for k in live:
        assert torch.equal(ema[k], live[k]), k
    assert float(live["body.1.running_var"].sub(1).abs().max()) > 0      # statistics were gathered


# --- the presets
def test_each_preset_carries_its_papers_settings(shapes_folder):
    assert preset_names("classic")[-len(PAPERS):] == PAPERS and "dcgan" not in preset_names("progressive")
    assert set(PAPERS) == {"gan", "dcgan", "infogan", "wgan", "wgan-gp", "lsgan", "ebgan", "began", "cgan", "sngan",
                           "sagan", "r3gan"}
    dcgan = classic_cfg(shapes_folder, "dcgan")
    assert (dcgan.lr_default, dcgan.beta1, dcgan.beta2, dcgan.loss) == (2e-4, 0.5, 0.999, "logistic")
    wgan = classic_cfg(shapes_folder, "wgan")
    assert (wgan.optimizer, wgan.lr_default, wgan.wgan_clip, wgan.n_critic) == ("rmsprop", 5e-5, 0.01, 5)
    gp = classic_cfg(shapes_folder, "wgan-gp")
    assert (gp.loss, gp.gp_lambda, gp.n_critic, gp.beta1, gp.beta2, gp.d_norm) == ("wgan-gp", 10.0, 5, 0.0, 0.9, "layer")
    sagan = preset_config("sagan", arch="classic", demo=True)
    assert (sagan.lr_default, sagan.d_lr_mult, sagan.beta1, sagan.beta2, sagan.loss) == (1e-4, 4.0, 0.0, 0.9, "hinge")
    assert sagan.g_spectral and sagan.d_norm == "spectral" and sagan.attention_res == 16 and sagan.n_critic == 1
    sngan = classic_cfg(shapes_folder, "sngan")
    assert (sngan.d_norm, sngan.loss, sngan.n_critic, sngan.g_spectral) == ("spectral", "hinge", 5, False)
    r3 = classic_cfg(shapes_folder, "r3gan")
    assert (r3.loss, r3.r1_gamma, r3.r1_interval, r3.beta2) == ("rpgan", 0.05, 1, 0.99)
    assert classic_cfg(shapes_folder, "gan").optimizer == "sgd" and classic_cfg(shapes_folder, "cgan").conditioning == "concat"
    for name in PAPERS:
        paper = CLASSIC.papers[name]
        assert paper.title and paper.citation[-4:].isdigit() and paper.note
        assert family_with_paper(name) is CLASSIC


def test_sagans_ttur_reaches_the_optimizers(tmp_path, shapes_folder):
    cfg = classic_cfg(shapes_folder, "sagan")
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 16))
    t.train_step(schedule_at(t.cfg, 0))
    assert t.nets.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert t.nets.opt_d.param_groups[0]["lr"] == pytest.approx(4e-4)
    assert t.nets.opt_d.param_groups[0]["betas"] == (0.0, 0.9)


def test_bad_combinations_get_a_clear_message(shapes_folder):
    assert any("batch norm" in m for m in config_messages(classic_cfg(shapes_folder, "dcgan", loss="wgan-gp")))
    assert any("half the resolution" in m for m in config_messages(classic_cfg(shapes_folder, "sagan", attention_res=16)))
    assert any("feature maps" in m for m in config_messages(classic_cfg(shapes_folder, "gan", attention_res=8)))
    assert any("wgan" in m for m in config_messages(classic_cfg(shapes_folder, "dcgan").replace(arch="progressive", loss="wgan")))
    assert any("n_critic" in m for m in config_messages(classic_cfg(shapes_folder, "dcgan", n_critic=0)))
    assert any("g_arch" in m for m in config_messages(classic_cfg(shapes_folder, "dcgan", g_arch="vit")))
    for name in PAPERS:
        assert config_messages(classic_cfg(shapes_folder, name)) == [], name


@pytest.mark.parametrize("name", PAPERS)
def test_each_preset_trains_finitely_and_resumes_bit_exactly(tmp_path, shapes_folder, name):
    cfg = classic_cfg(shapes_folder, name, max_kimg=0.224)
    ds = import_folder(cfg.data, 16)
    straight = Trainer.new(tmp_path / "straight", cfg, dataset=ds)
    assert straight.run().reason == "max_kimg"
    first = Trainer.new(tmp_path / "split", cfg.replace(max_kimg=0.112), dataset=ds)     # 7 steps: mid-n_critic
    assert first.run().reason == "max_kimg"
    resumed = Trainer.resume(tmp_path / "split", max_kimg=0.224, dataset=ds)
    assert resumed.run().reason == "max_kimg"
    for net in ("G", "D", "G_ema"):
        a, b = getattr(straight.nets, net).state_dict(), getattr(resumed.nets, net).state_dict()
        assert a.keys() == b.keys()
        for k in a:
            assert torch.isfinite(a[k].float()).all(), f"{name} {net}.{k}"
            assert torch.equal(a[k], b[k]), f"{name} {net}.{k}"
    assert math.isfinite(straight.last_stats["loss_d"]) and math.isfinite(straight.last_stats["loss_g"])


# --- InfoGAN, EBGAN, BEGAN
def test_the_information_term_alone_teaches_q_to_read_both_kinds_of_code():
    torch.manual_seed(0)
    G = ClassicGenerator(8, 3, 16, 128, 16, g_arch="mlp", info_categorical=(4,), info_continuous=1)
    D = ClassicDiscriminator(8, 3, 128, 16, d_arch="mlp", norm="none", info_outputs=5)
    opt = torch.optim.Adam(list(G.parameters()) + list(D.parameters()), lr=2e-3, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(1)
    for _ in range(300):
        cats, cont = G.codes.draw(32, "cpu", g)
        D(G(torch.randn(32, 16), codes=G.codes.rows(cats, cont)))
        loss, _ = G.codes.information_loss(D.q(), cats, cont, 1.0, 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    cats, cont = G.codes.draw(512, "cpu", g)
    with torch.no_grad():
        D(G(torch.randn(512, 16), codes=G.codes.rows(cats, cont)))
        logits, means = G.codes.split(D.q())
        _, bound = G.codes.information_loss(D.q(), cats, cont, 1.0, 1.0)
    assert (logits[0].argmax(1) == cats[:, 0]).float().mean() > 0.95
    assert torch.corrcoef(torch.stack([means[:, 0], cont[:, 0]]))[0, 1] > 0.5
    assert 0.9 * math.log(4) < bound <= math.log(4)           # the bound approaches H(c) = log 4


def test_infogans_q_recovers_a_categorical_code_in_training(tmp_path, shapes_folder):
    """A toy InfoGAN (fully connected, 8x8 shapes, two categories): after 200 steps Q names the
    category G drew from far above chance (a recipe that trained Q on other codes than G's, or a
    G deaf to its codes, stays near 0.5)."""
    cfg = classic_cfg(shapes_folder, "infogan", resolution=8, g_arch="mlp", d_arch="mlp", d_norm="none",
                      info_categorical=[2], info_continuous=0, info_lambda=2.0, lr_default=2e-3, d_lr_mult=1.0,
                      latent_size=16, batch_default=16, max_kimg=3.2, tick_kimg=1.6, sample_kimg=3.2, checkpoint_kimg=3.2)
    # measured over seeds 1-5: at the paper's λ 1 one seed in five (this one) still had G half-ignoring
    # its code after 200 steps (0.69), at λ 2 none (≥ 0.996); at batch 32 D won outright
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 8))
    assert t.run().reason == "max_kimg" and t.step == 200
    G, D = t.nets.G, t.nets.D
    g = torch.Generator().manual_seed(1)
    cats, cont = G.codes.draw(512, "cpu", g)
    with torch.no_grad():
        D(G(torch.randn(512, 16, generator=g), codes=G.codes.rows(cats, cont)))
        logits, _ = G.codes.split(D.q())
    assert (logits[0].argmax(1) == cats[:, 0]).float().mean() > 0.85
    ticks = [r for r in RunFolder(tmp_path / "run").read_metrics()[0] if r["kind"] == "tick"]
    assert all(r["mi_bound"] <= math.log(2) + 1e-6 for r in ticks) and ticks[-1]["mi_bound"] > 0.3


def test_a_latent_alone_stands_for_codes_spread_as_training_draws_them():
    codes = ClassicGenerator(16, 3, 32, 128, 16, info_categorical=(10,), info_continuous=2).codes
    z = torch.randn(20000, 32, generator=torch.Generator().manual_seed(3))
    cats, cont = codes.of_latents(z)
    share = torch.bincount(cats[:, 0], minlength=10).float() / len(z)
    assert share.min() > 0.08 and share.max() < 0.12                     # each of 10 categories ≈ 0.1
    assert cont.min() >= -1 and cont.max() <= 1
    quantiles = torch.quantile(cont[:, 0], torch.tensor([0.1, 0.5, 0.9]))
    assert torch.allclose(quantiles, torch.tensor([-0.8, 0.0, 0.8]), atol=0.03)      # uniform in [-1, 1]
    again, _ = codes.of_latents(z[:5])
    assert torch.equal(again, cats[:5])                                  # one latent, one set of codes


def test_the_pulling_away_term_is_zero_for_an_orthogonal_batch():
    assert losses.pulling_away(torch.eye(5) * 3.0).item() == pytest.approx(0.0, abs=1e-7)
    assert losses.pulling_away(torch.ones(4, 6)).item() == pytest.approx(1.0)     # all alike: cos² = 1
    s = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    pairs = [(0, 1), (0, 2), (1, 2)]
    expected = sum((torch.nn.functional.cosine_similarity(s[i], s[j], dim=0) ** 2).item() for i, j in pairs) * 2 / 6
    assert losses.pulling_away(s).item() == pytest.approx(expected)


def test_ebgan_and_began_losses_are_their_papers_formulas():
    real, fake = torch.tensor([0.2, 0.4]), torch.tensor([0.5, 1.5])
    assert losses.ebgan_discriminator_loss(real, fake, 1.0).item() == pytest.approx(0.3 + (0.5 + 0.0) / 2)
    assert losses.began_discriminator_loss(real, fake, 0.25).item() == pytest.approx(0.3 - 0.25 * 1.0)
    # k_{t+1} = clip(k_t + λ_k (γ L(x) − L(G(z))), 0, 1)
    assert losses.began_k_update(0.5, 0.4, 0.1, 0.5, 0.001) == pytest.approx(0.5 + 0.001 * (0.2 - 0.1))
    assert losses.began_k_update(0.0, 0.1, 0.9, 0.5, 0.1) == 0.0 and losses.began_k_update(1.0, 9, 0, 0.5, 1) == 1.0
    assert losses.began_convergence(0.4, 0.1, 0.5) == pytest.approx(0.4 + 0.1)


def test_the_autoencoder_scores_by_its_reconstruction_error():
    torch.manual_seed(0)
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    for energy in ("mse", "l1"):
        D = ClassicDiscriminator(16, 3, 128, 16, d_arch="autoencoder", norm="none", energy=energy)
        h = D.body(x)
        code = D.encode(h.flatten(1))
        decoded = D.decoder(F.elu(D.decode(code)).view(3, -1, 4, 4))
        error = (decoded - x).pow(2) if energy == "mse" else (decoded - x).abs()
        assert torch.allclose(D(x), error.mean(dim=(1, 2, 3)), atol=1e-6)
        assert torch.equal(D.last_features, D.encode(D.body(x).flatten(1)))


def test_began_moves_k_by_its_rule_and_resumes_with_it(tmp_path, shapes_folder):
    cfg = classic_cfg(shapes_folder, "began", began_lambda_k=0.05, max_kimg=0.064)
    t = Trainer.new(tmp_path / "run", cfg, dataset=import_folder(cfg.data, 16))
    pt = schedule_at(t.cfg, 0)
    t.train_step(pt)
    real, fake = t.recipe.stats.means()["d_real"], t.recipe.stats.means()["d_fake"]
    assert float(t.recipe.k) == pytest.approx(min(1, max(0, 0.05 * (0.5 * real - fake))), abs=1e-6)
    assert t.run().reason == "max_kimg" and 0 < float(t.recipe.k) <= 1
    resumed = Trainer.resume(tmp_path / "run", max_kimg=0.128)
    assert float(resumed.recipe.k) == float(t.recipe.k)
    ticks = [r for r in RunFolder(tmp_path / "run").read_metrics()[0] if r["kind"] == "tick"]
    assert all(0 <= r["k_t"] <= 1 and r["m_global"] > 0 for r in ticks)


# --- the commands work for the survey's generators as for the other families
def test_generate_swd_export_interpolate_and_project_an_infogan_run(tmp_path, shapes_folder):
    import json

    import numpy as np
    from PIL import Image
    from pgstudio.cli import main
    from pgstudio.core.models import load_generator
    run = tmp_path / "run"
    cfg = classic_cfg(shapes_folder, "infogan", resolution=8, info_categorical=[3], info_continuous=1, max_kimg=0.064,
                      checkpoint_kimg=0.064, batch_default=16, latent_size=16)
    assert Trainer.new(run, cfg).run().reason == "max_kimg"
    assert main(["generate", str(run), "--n", "4", "--grid", "--out", str(tmp_path / "g.png")]) == 0
    assert np.asarray(Image.open(tmp_path / "g.png")).shape[2] == 3
    assert main(["swd", str(run), "--data", str(shapes_folder), "--n", "32", "--json"]) == 0
    assert main(["export", str(run), "--out", str(tmp_path / "exp")]) == 0
    meta = json.loads((tmp_path / "exp" / "generator.json").read_text())
    assert meta["arch"] == "classic" and meta["architecture"]["info_categorical"] == [3]
    a, b = load_generator(run).generator, load_generator(tmp_path / "exp").generator
    z = torch.randn(5, 16)
    assert torch.equal(a(z), b(z))                    # the fixed map from z travels with the weights
    assert main(["interpolate", str(run), "--seeds", "1,2", "--frames", "3", "--out", str(tmp_path / "i.gif")]) == 0
    image = next(shapes_folder.rglob("*.png"))
    assert main(["project", str(run), str(image), "--out", str(tmp_path / "p"), "--steps", "5", "--quiet"]) == 0
    projected = json.loads((tmp_path / "p" / "latent.json").read_text())
    assert projected["space"] == "z" and "D features" in projected["loss_kind"]


# --- bad input: the survey's optimizers keep other state than Adam's, and are watched as closely
@pytest.mark.parametrize("name, moment", [("wgan", "square_avg"), ("gan", "momentum_buffer")])
def test_a_non_finite_rmsprop_or_sgd_state_stops_the_run_and_saves_nothing_poisoned(tmp_path, shapes_folder, name,
                                                                                    moment):
    """WGAN's RMSprop (square_avg) and GAN 2014's SGD (momentum_buffer) are checked every step like
    Adam's second moment: the run stops, naming the step it happened at, and neither the
    checkpoints written before nor a poisoned one written by hand is used."""
    from pgstudio.core.storage.checkpoint import CheckpointError, load_checkpoint, non_finite_tensors
    t = Trainer.new(tmp_path / "run", classic_cfg(shapes_folder, name, checkpoint_kimg=0.064, max_kimg=0.64))
    opt = t.opt_d
    real_step = opt.step
    calls = {"n": 0}

    def step_then_poison(*args, **kwargs):
        out = real_step(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 6:
            tensor = next(s for s in opt.state.values() if moment in s)[moment]
            tensor[(0,) * tensor.dim()] = float("inf")       # (channels-last state is not viewable flat)
        return out
    opt.step = step_then_poison
    result = t.run()
    assert result.reason == "error"
    # caught at the step it happened (SGD's momentum was once caught two steps later, in the weights
    # it had spread to); the names listed are those non-finite when the run stopped
    assert "non-finite discriminator weights or optimizer state at step 5" in result.error
    written = RunFolder(tmp_path / "run").checkpoints()
    assert written, "the run wrote no checkpoint before the poison"
    for path in written:
        assert not non_finite_tensors(load_checkpoint(path))
    state = torch.load(written[-1], weights_only=True)
    tensor = next(s for s in state["opt_d"]["state"].values() if moment in s)[moment]
    tensor[(0,) * tensor.dim()] = float("inf")
    torch.save(state, written[-1])
    with pytest.raises(CheckpointError, match=rf"poisoned checkpoint: non-finite values in opt_d\.state\.\d+\.{moment}"):
        load_checkpoint(written[-1])
