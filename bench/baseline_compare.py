"""pgstudio's training step against a straightforward PGGAN port, same widths/batch/loss; JSON.

    python bench/baseline_compare.py [--resolution 32] [--preset laptop] [--steps 32]

The baseline is written the way the popular public PyTorch ports are (rosinality-style):
equalized LR through forward pre-hooks, a torch Dataset that converts each sample in Python
(PIL image → tensor → normalise) behind a DataLoader, separate D passes for reals and fakes,
plain Adam, and `.item()` on the losses every step for logging. It runs two losses, each
against ours with the same loss: WGAN-GP (penalty every step) and the laptop preset's
logistic loss with the same lazy R1 (every 16 D steps). Both at the same resolution in the
stabilize phase.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.train_speed import synthetic_dataset  # noqa: E402
from pgstudio.core.config import preset_config  # noqa: E402
from pgstudio.core.schedule import phases, schedule_at  # noqa: E402
from pgstudio.core.trainer import Trainer  # noqa: E402


# ----------------------------------------------------------------- the straightforward port
class EqualLR:
    def __init__(self, name):
        self.name = name

    def __call__(self, module, _):
        w = getattr(module, self.name + "_orig")
        fan_in = w.data.size(1) * w.data[0][0].numel()
        setattr(module, self.name, w * math.sqrt(2 / fan_in))

    @staticmethod
    def apply(module, name="weight"):
        w = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_orig", nn.Parameter(w.data))
        module.register_forward_pre_hook(EqualLR(name))
        return module


def eq_conv(i, o, k, p):
    c = nn.Conv2d(i, o, k, padding=p)
    c.weight.data.normal_()
    c.bias.data.zero_()
    return EqualLR.apply(c)


def eq_linear(i, o):
    l = nn.Linear(i, o)
    l.weight.data.normal_()
    l.bias.data.zero_()
    return EqualLR.apply(l)


class PixelNorm(nn.Module):
    def forward(self, x):
        return x / torch.sqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-8)


class ConvBlock(nn.Module):
    def __init__(self, i, o, pixel_norm=True):
        super().__init__()
        layers = [eq_conv(i, o, 3, 1), PixelNorm() if pixel_norm else nn.Identity(), nn.LeakyReLU(0.2),
                  eq_conv(o, o, 3, 1), PixelNorm() if pixel_norm else nn.Identity(), nn.LeakyReLU(0.2)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return self.conv(x)


class Generator(nn.Module):
    def __init__(self, latent, widths, channels):
        super().__init__()
        self.latent = latent
        self.input = eq_linear(latent, widths[0] * 16)
        self.first = nn.Sequential(PixelNorm(), nn.LeakyReLU(0.2), eq_conv(widths[0], widths[0], 3, 1), PixelNorm(),
                                   nn.LeakyReLU(0.2))
        self.progression = nn.ModuleList([ConvBlock(widths[i], widths[i + 1]) for i in range(len(widths) - 1)])
        self.to_rgb = nn.ModuleList([eq_conv(w, channels, 1, 0) for w in widths])
        self.w0 = widths[0]

    def forward(self, z, step):
        out = self.first(self.input(PixelNorm()(z)).view(-1, self.w0, 4, 4))
        for i in range(step):
            out = self.progression[i](F.interpolate(out, scale_factor=2, mode="nearest"))
        return self.to_rgb[step](out)


class Discriminator(nn.Module):
    def __init__(self, widths, channels):
        super().__init__()
        self.widths = widths
        self.from_rgb = nn.ModuleList([eq_conv(channels, w, 1, 0) for w in widths])
        self.progression = nn.ModuleList([ConvBlock(widths[i + 1], widths[i], pixel_norm=False)
                                          for i in range(len(widths) - 1)])
        self.final_conv = eq_conv(widths[0] + 1, widths[0], 3, 1)
        self.final_dense = eq_linear(widths[0] * 16, widths[0])
        self.out = eq_linear(widths[0], 1)

    def forward(self, x, step):
        out = F.leaky_relu(self.from_rgb[step](x), 0.2)
        for i in range(step - 1, -1, -1):
            out = F.avg_pool2d(self.progression[i](out), 2)
        std = out.std(0).mean().expand(out.size(0), 1, 4, 4)          # whole-batch stddev, as ports do
        out = F.leaky_relu(self.final_conv(torch.cat([out, std], 1)), 0.2)
        out = F.leaky_relu(self.final_dense(out.flatten(1)), 0.2)
        return self.out(out).squeeze(1)


class PerSampleDataset(torch.utils.data.Dataset):
    def __init__(self, arr):
        self.images = [Image.fromarray(a.transpose(1, 2, 0)) for a in arr]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = torch.from_numpy(np.asarray(self.images[i], dtype=np.float32) / 255.0).permute(2, 0, 1)
        return (x - 0.5) / 0.5


def baseline_speed(cfg, res, batch, steps, warmup, loss="wgan-gp") -> float:
    """img/s of the straightforward port with WGAN-GP (GP every step), or with the laptop
    preset's logistic loss and the same lazy R1 (every ``cfg.r1_interval`` D steps)."""
    level = int(math.log2(res))
    widths = [max(1, min(cfg.fmap_base // 2 ** (l - 1), cfg.fmap_max)) for l in range(2, level + 1)]
    G, D = Generator(cfg.latent_size, widths, 3), Discriminator(widths, 3)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_default, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_default, betas=(0.0, 0.99))
    loader = torch.utils.data.DataLoader(PerSampleDataset(synthetic_dataset(res).levels[res]), batch_size=batch,
                                         shuffle=True, drop_last=True)
    it = iter(loader)
    step_idx = level - 2
    d_steps = 0

    def step():
        nonlocal it
        try:
            real = next(it)
        except StopIteration:
            it = iter(loader)
            real = next(it)
        if loss == "logistic":
            return logistic_step(real)
        D.zero_grad()
        real_score = D(real, step_idx).mean()
        fake = G(torch.randn(batch, cfg.latent_size), step_idx)
        fake_score = D(fake.detach(), step_idx).mean()
        eps = torch.rand(batch, 1, 1, 1)
        x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
        grad, = torch.autograd.grad(D(x_hat, step_idx).sum(), x_hat, create_graph=True)
        gp = 10 * ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        d_loss = fake_score - real_score + gp + 0.001 * real_score ** 2
        d_loss.backward()
        opt_d.step()
        G.zero_grad()
        for p in D.parameters():
            p.requires_grad_(False)
        g_loss = -D(G(torch.randn(batch, cfg.latent_size), step_idx), step_idx).mean()
        g_loss.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        _ = (d_loss.item(), g_loss.item())                              # per-step logging

    def logistic_step(real):
        nonlocal d_steps
        D.zero_grad()
        fake = G(torch.randn(batch, cfg.latent_size), step_idx)
        d_loss = F.softplus(D(fake.detach(), step_idx)).mean() + F.softplus(-D(real, step_idx)).mean()
        if d_steps % cfg.r1_interval == 0:                               # lazy R1, as ours
            real.requires_grad_(True)
            grad, = torch.autograd.grad(D(real, step_idx).sum(), real, create_graph=True)
            d_loss = d_loss + cfg.r1_gamma / 2 * grad.pow(2).flatten(1).sum(1).mean() * cfg.r1_interval
        d_loss.backward()
        opt_d.step()
        d_steps += 1
        G.zero_grad()
        for p in D.parameters():
            p.requires_grad_(False)
        g_loss = F.softplus(-D(G(torch.randn(batch, cfg.latent_size), step_idx), step_idx)).mean()
        g_loss.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        _ = (d_loss.item(), g_loss.item())
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t0)


def ours_speed(cfg, res, steps, warmup) -> tuple[float, int]:
    trainer = Trainer.new(Path(__import__("tempfile").mkdtemp()) / "run", cfg, dataset=synthetic_dataset(res))
    trainer._reset_accumulators()
    p = next(p for p in phases(cfg) if p.resolution == res and p.kind == "stabilize")
    pt = schedule_at(cfg, int(p.start_kimg * 1000) + 1)
    for _ in range(warmup):
        trainer._train_step(pt)
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer._train_step(pt)
    return pt.batch * steps / (time.perf_counter() - t0), pt.batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--preset", default="laptop")
    ap.add_argument("--loss", default="wgan-gp", help="the baseline implements wgan-gp; ours also runs the preset's loss")
    ap.add_argument("--steps", type=int, default=32, help="a multiple of 16 keeps the lazy-R1 steps equal")
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.manual_seed(0)
    cfg = preset_config(a.preset, demo=True, resolution=a.resolution, device="cpu", loss="wgan-gp")
    ours_gp, batch = ours_speed(cfg, a.resolution, a.steps, a.warmup)
    base = baseline_speed(cfg, a.resolution, batch, a.steps, a.warmup)
    preset_cfg = preset_config(a.preset, demo=True, resolution=a.resolution, device="cpu")
    ours_preset, _ = ours_speed(preset_cfg, a.resolution, a.steps, a.warmup)
    base_preset = baseline_speed(preset_cfg, a.resolution, batch, a.steps, a.warmup, loss=preset_cfg.loss)
    print(json.dumps({"device": "cpu", "threads": torch.get_num_threads(), "resolution": a.resolution,
                      "preset": a.preset, "batch": batch, "fmap_base": cfg.fmap_base, "fmap_max": cfg.fmap_max,
                      "baseline_wgan_gp_img_per_s": round(base, 1), "ours_wgan_gp_img_per_s": round(ours_gp, 1),
                      "ratio_same_loss": round(ours_gp / base, 2),
                      f"ours_preset_{preset_cfg.loss}_img_per_s": round(ours_preset, 1),
                      f"baseline_preset_{preset_cfg.loss}_img_per_s": round(base_preset, 1),
                      "ratio_preset_same_loss": round(ours_preset / base_preset, 2),
                      "ratio_preset_vs_baseline_wgan_gp": round(ours_preset / base, 2)}, indent=2))


if __name__ == "__main__":
    main()
