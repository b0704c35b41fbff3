"""The numerics fixtures: run folders the code *before* the structure refactor wrote, and the state
it reached, so that the refactored trainer is held to the same arithmetic.

For each case a tiny run (8×8, widths of 8–32) is trained to M kimg and kept as a run folder under
``tests/fixtures/numerics/<case>/run`` (config, metrics, samples, the checkpoint at M); it is then
resumed to N and the full state there — both networks, the EMA copy, both optimizers, every RNG,
the counters, the path-length mean and the micro-batch split — is hashed into ``expected.json``.
Between M and N each case goes through what is easiest to get subtly wrong in a refactor: the
progressive ones fade in the 8×8 block, every case runs lazy R1 (or WGAN-GP every step) and
StyleGAN2 its lazy path-length term, and a simulated out-of-memory error splits the batch.

Two sets. ``numerics`` was written once, by the code before the refactor: its configs pin the keys
added since to the behaviour that code had (``OLD_BEHAVIOUR``), and its run folders, which lack
those keys, must resume with it. ``numerics-current`` is the same cases with today's defaults
(Adam reset at the lod boundaries, R1 and path length in their own steps, StyleGAN2's official D
block, the progressive family's filtered resampling), written by the code that introduced them.

Run ``python -m tests.numerics_fixture SET`` from the repository root to write a set — only ever
with the code it is meant to pin (``numerics`` never again). The test
(tests/test_numerics_fixtures.py) imports the helpers below.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
from contextlib import contextmanager
from pathlib import Path

import torch

ROOT = Path(__file__).parent / "fixtures"
FIXTURES = ROOT / "numerics"
DATA = FIXTURES / "data"
DATA_IN_CONFIG = "tests/fixtures/numerics/data"      # relative to the repository root

COMMON = dict(data=DATA_IN_CONFIG, resolution=8, latent_size=8, fmap_base=32, fmap_max=8,
              mbstd_group_size=4, stabilize_kimg=0.096, fade_kimg=0.096, batch={4: 8, 8: 8},
              batch_default=8, lr_default=0.002, ema_halflife_kimg=0.05, tick_kimg=0.032,
              sample_kimg=0.064, checkpoint_kimg=0.064, grid_size=4, seed=11, device="cpu",
              precision="fp32", preset="test")
# The old set was written before Adam was reset at the lod boundaries (config key reset_optimizer),
# before R1 and path length had their own optimizer steps (lazy_regularization), before StyleGAN2's
# official D block (d_block) and filtered resampling (resample): its run folders resume so, as
# their config.json (without those keys) says
OLD_BEHAVIOUR = dict(reset_optimizer="never", lazy_regularization="folded-corrected", d_block="fir-then-conv",
                     resample="nearest")
SETS = {"numerics": OLD_BEHAVIOUR, "numerics-current": {}}


def set_folder(fixture_set: str) -> Path:
    return ROOT / fixture_set
# name → (overrides, M kimg, N kimg, the step at which D first runs out of memory)
CASES = {
    # 4² stabilize to 0.096, fade to 0.192 (steps 12..23), 8² after; lazy R1 every 4th D step
    "progressive-logistic": (dict(arch="progressive", loss="logistic", r1_gamma=1.0, r1_interval=4),
                             0.064, 0.256, 16),
    "progressive-wgan-gp": (dict(arch="progressive", loss="wgan-gp"), 0.064, 0.256, 16),
    # one 8² phase; lazy R1 every 4th D step, path length every 2nd G step, style mixing
    "stylegan2": (dict(arch="stylegan2", loss="logistic", r1_gamma=1.0, r1_interval=4, mapping_layers=2,
                       pl_interval=2, pl_batch_shrink=2, style_mixing=0.9), 0.064, 0.192, 12),
}
OOM_ABOVE = 4           # D refuses passes of more images than this once the OOM step is reached


def case_config(name: str, max_kimg: float, fixture_set: str = "numerics"):
    from pgstudio.core.config import TrainConfig
    overrides, _, _, _ = CASES[name]
    return TrainConfig(**{**COMMON, **SETS[fixture_set], **overrides, "max_kimg": max_kimg})


def make_data() -> None:
    from tests.conftest import draw_shapes
    DATA.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(draw_shapes(24, size=8, seed=5)):
        img.save(DATA / f"{i:02d}.png")


def dataset():
    from pgstudio.core.data.dataset import import_folder
    return import_folder(DATA, 8)


@contextmanager
def one_thread():
    """Reductions split across threads can round differently: the fixtures are written and checked
    on one thread, so the hash depends on the CPU's instructions only."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def out_of_memory_from_step(discriminator_class, step_of, from_step: int):
    """D raises a (simulated) CUDA out-of-memory error for passes over OOM_ABOVE images once
    ``step_of()`` reaches ``from_step``; the trainer answers by splitting the batch."""
    real_forward = discriminator_class.forward

    def limited(self, image, level=None, alpha=1.0):
        if image.shape[0] > OOM_ABOVE and step_of() >= from_step:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_forward(self, image, level, alpha)
    discriminator_class.forward = limited
    try:
        yield
    finally:
        discriminator_class.forward = real_forward


# What the hash covers: everything that decides the rest of the run. Read from the checkpoint file,
# whose keys the refactor keeps, so it compares old and new code without touching either's objects.
HASHED_KEYS = ("generator", "discriminator", "generator_ema", "opt_g", "opt_d", "images_seen", "step",
               "d_steps", "level", "phase_index", "rng", "fixed_latents", "accum", "pl_mean")


def _flatten(value, prefix: str, out: list):
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            _flatten(value[key], f"{prefix}.{key}", out)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}.{i}", out)
    else:
        out.append((prefix, value))


def state_leaves(state: dict) -> list:
    out: list = []
    for key in HASHED_KEYS:
        _flatten(state[key], key, out)
    return out


def state_hash(state: dict) -> str:
    h = hashlib.sha256()
    for name, value in state_leaves(state):
        h.update(name.encode())
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update((t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes())
        else:
            h.update(repr(value).encode())
    return h.hexdigest()


def state_summary(state: dict) -> dict:
    """Per floating-point tensor, its sum and its sum of magnitudes (float64): what another CPU,
    whose instructions round differently, is compared against within a tolerance."""
    out = {}
    for name, value in state_leaves(state):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            v = value.detach().double()
            out[name] = [float(v.sum()), float(v.abs().sum())]
    return out


def cpu_identity() -> str:
    """The processor and the instruction-set flags that change how fp32 convolutions round."""
    model, flags = platform.processor(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not flags:
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    relevant = sorted(f for f in flags if f.startswith(("avx", "amx", "fma", "f16c", "sse4")))
    return f"{model} | torch {torch.__version__} | {' '.join(relevant)}"


def write_fixtures(fixture_set: str) -> None:
    from pgstudio.core.storage.checkpoint import load_checkpoint
    from pgstudio.core.storage.runfolder import RunFolder
    from pgstudio.core.training.trainer import Trainer

    root = set_folder(fixture_set)
    if not DATA.is_dir():
        make_data()
    ds = dataset()
    expected = {"cpu": cpu_identity(), "threads": 1, "cases": {}}
    for name, (_, m, n, oom_step) in CASES.items():
        folder = root / name
        shutil.rmtree(folder, ignore_errors=True)
        scratch = root / f".{name}-scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        with one_thread():
            first = Trainer.new(folder / "run", case_config(name, m, fixture_set), dataset=ds)
            first.run()
            run = RunFolder(folder / "run")
            for path in run.checkpoints()[:-1]:
                path.unlink()           # the fixture keeps the checkpoint at M only
            shutil.copytree(folder / "run", scratch)
            resumed = Trainer.resume(scratch, max_kimg=n, dataset=ds)
            with out_of_memory_from_step(type(resumed.D), lambda: resumed.step, oom_step):
                assert resumed.run().reason == "max_kimg"
            assert resumed.accum, "the simulated out-of-memory error split no batch"
            state = load_checkpoint(RunFolder(scratch).checkpoints()[-1])
            # the old code's own guarantee, checked once here: training straight through agrees
            straight = Trainer.new(root / f".{name}-straight", case_config(name, n, fixture_set), dataset=ds)
            with out_of_memory_from_step(type(straight.D), lambda: straight.step, oom_step):
                straight.run()
            again = load_checkpoint(RunFolder(root / f".{name}-straight").checkpoints()[-1])
            assert state_hash(again) == state_hash(state), name
        shutil.rmtree(scratch)
        shutil.rmtree(root / f".{name}-straight")
        for extra in ("running.json", "trainer.lock"):
            (folder / "run" / extra).unlink(missing_ok=True)
        expected["cases"][name] = {"m_kimg": m, "n_kimg": n, "oom_step": oom_step, "accum": state["accum"],
                                   "step": state["step"], "hash": state_hash(state),
                                   "summary": state_summary(state)}
        print(name, state["step"], state["accum"], state_hash(state)[:16])
    (root / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    import sys
    if len(sys.argv) != 2 or sys.argv[1] not in SETS:
        sys.exit(f"usage: python -m tests.numerics_fixture {{{'|'.join(SETS)}}}")
    if sys.argv[1] == "numerics":
        sys.exit("the numerics set pins the code before the refactor: it is never rewritten")
    write_fixtures(sys.argv[1])
