"""pgstudio's training step against a straightforward PGGAN port, same widths/batch/loss; JSON.

    python bench/baseline_compare.py [--resolution 32] [--preset laptop] [--steps 16] [--rounds 4]
                                     [--precision auto|fp32|bf16]

The baseline is written the way the popular public PyTorch ports are (rosinality-style):
equalized LR through forward pre-hooks, a torch Dataset that converts each sample in Python
(PIL image → tensor → normalise) behind a DataLoader, separate D passes for reals and fakes,
plain Adam, and `.item()` on the losses every step for logging. It runs two losses, each
against ours with the same loss: WGAN-GP (penalty every step) and the laptop preset's
logistic loss with the same lazy R1 (every 16 D steps). Both at the same resolution in the
stabilize phase, timed in alternating rounds so that the machine's drifting speed hits both alike.
Ours runs in the precision the trainer would pick (bf16 autocast on a CPU with native bf16, fp32
elsewhere); the port is the plain fp32 code those ports are.
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
from pgstudio.core.config import PRECISIONS  # noqa: E402
from pgstudio.core.presets import preset_config  # noqa: E402
from pgstudio.core.families import family  # noqa: E402
from pgstudio.core.training.precision import cpu_has_native_bf16  # noqa: E402
from pgstudio.core.training.schedule import phases, schedule_at  # noqa: E402
from pgstudio.core.training.trainer import Trainer  # noqa: E402


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
        # conv, conv, then the box filter before the last bias and activation: the same function as
        # ours (discriminator.ShrinkBlock, downsample="fused"), written the straightforward way
        self.progression = nn.ModuleList([nn.Sequential(eq_conv(widths[i + 1], widths[i + 1], 3, 1), nn.LeakyReLU(0.2),
                                                        eq_conv(widths[i + 1], widths[i], 3, 1))
                                          for i in range(len(widths) - 1)])
        self.final_conv = eq_conv(widths[0] + 1, widths[0], 3, 1)
        self.final_dense = eq_linear(widths[0] * 16, widths[0])
        self.out = eq_linear(widths[0], 1)

    def forward(self, x, step):
        out = F.leaky_relu(self.from_rgb[step](x), 0.2)
        for i in range(step - 1, -1, -1):
            out = F.leaky_relu(F.avg_pool2d(self.progression[i](out), 2), 0.2)
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


def baseline_stepper(cfg, res, batch, loss="wgan-gp"):
    """One training step of the straightforward port with WGAN-GP (GP every step), or with the
    laptop preset's logistic loss and the same lazy R1 (every ``cfg.r1_interval`` D steps)."""
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
    return step


def ours_stepper(cfg, res):
    """Our Trainer's step (the code `pgstudio train` runs) and its batch."""
    trainer = Trainer.new(Path(__import__("tempfile").mkdtemp()) / "run", cfg, dataset=synthetic_dataset(res))
    trainer.begin_tick()
    p = next(p for p in phases(cfg) if p.resolution == res and p.kind == "stabilize")
    pt = schedule_at(cfg, int(p.start_kimg * 1000) + 1)
    return (lambda: trainer.train_step(pt)), pt.batch


def interleaved(ours, base, batch, rounds, steps, warmup) -> dict:
    """img/s of both, timed in alternating rounds: this VM's speed drifts by ±25 % over tens of
    seconds, which back-to-back runs would read as a difference between the two codes."""
    for _ in range(warmup):
        ours(), base()
    seconds = {"ours": [], "base": []}
    for _ in range(rounds):
        for name, fn in (("ours", ours), ("base", base)):
            t0 = time.perf_counter()
            for _ in range(steps):
                fn()
            seconds[name].append(time.perf_counter() - t0)
    ratios = sorted(b / o for o, b in zip(seconds["ours"], seconds["base"]))
    return {"ours": batch * steps * rounds / sum(seconds["ours"]), "base": batch * steps * rounds / sum(seconds["base"]),
            "ratio_median": ratios[len(ratios) // 2], "ratio_range": [ratios[0], ratios[-1]]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--preset", default="laptop")
    ap.add_argument("--steps", type=int, default=16, help="steps per round; a multiple of 16 keeps the lazy-R1 steps equal")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--precision", default="auto", choices=PRECISIONS,
                    help="ours only (the port is plain fp32): auto takes bf16 on CPUs with native bf16")
    a = ap.parse_args()
    torch.manual_seed(0)
    out = {"device": "cpu", "threads": torch.get_num_threads(), "resolution": a.resolution, "preset": a.preset,
           "steps_per_round": a.steps, "rounds": a.rounds}
    preset_cfg = preset_config(a.preset, demo=True, resolution=a.resolution, device="cpu", precision=a.precision,
                               augment="off")          # the networks alone (auto would add ADA)
    out["ours_precision"] = family(None).resolve_precision(a.precision, torch.device("cpu"))
    out["cpu_native_bf16"] = cpu_has_native_bf16()
    for loss in dict.fromkeys(["wgan-gp", preset_cfg.loss]):
        cfg = preset_cfg.replace(loss=loss)
        ours, batch = ours_stepper(cfg, a.resolution)
        r = interleaved(ours, baseline_stepper(cfg, a.resolution, batch, loss), batch, a.rounds, a.steps, a.warmup)
        out.update({"batch": batch, "fmap_base": cfg.fmap_base, "fmap_max": cfg.fmap_max,
                    f"ours_{loss}_img_per_s": round(r["ours"], 1), f"baseline_{loss}_img_per_s": round(r["base"], 1),
                    f"ratio_{loss}": round(r["ours"] / r["base"], 2),
                    f"ratio_{loss}_per_round_median": round(r["ratio_median"], 2),
                    f"ratio_{loss}_per_round_range": [round(x, 2) for x in r["ratio_range"]]})
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
