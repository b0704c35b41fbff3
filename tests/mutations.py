"""The plausible bugs the rewritten tests of issue #27 guard against, each a one-line change to the
product, and the test that must go red on it: run from the repository root,

    python -m tests.mutations [NAME-SUBSTRING]

It copies the tracked tree to a temporary folder, applies one change at a time there (the checkout is
never touched), runs the named test against the copy and prints RED (the test caught the bug) or
MISSED. Exit status 1 if any was missed. The bf16 probe's mutation depends on the CPU: "always
True" is a bug only where the CPU lacks bf16 and "always False" only where it has it, so each runs
on the machines where it is one (the other is skipped, and says so).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# name, file, the line's text, what the bug makes of it, the tests that must fail
MUTATIONS = [
    ("pyramid keeps the odd pixels", "pgstudio/core/analysis/metrics.py",
     "return _blur(x)[:, :, ::2, ::2]", "return _blur(x)[:, :, 1::2, 1::2]",
     ["tests/test_metrics.py::test_pyramid_levels_and_reconstruction"]),
    ("projection returns the first start's latent, not the best start's", "pgstudio/core/analysis/projection.py",
     "latent=best_latent[k].detach()", "latent=best_latent[0].detach()",
     ["tests/test_projection.py::test_an_image_the_generator_can_draw_is_found_again"]),
    ("projection keeps the updated latent, not the one it scored", "pgstudio/core/analysis/projection.py",
     "best_latent[better.to(best_latent.device)] = x.detach()[better.to(x.device)]",
     "best_latent[better.to(best_latent.device)] = latent.detach()[better.to(latent.device)]",
     ["tests/test_projection.py::test_stopping_keeps_the_best_so_far_and_reports_progress"]),
    ("lod whole during fades", "pgstudio/core/training/schedule.py",
     "lod=top - phase.level + (1.0 - alpha))", "lod=top - phase.level)",
     ["tests/test_schedule.py::test_lod_falls_through_the_fades_and_holds_in_between"]),
    ("const noise drawn afresh from a fixed seed instead of the layers' maps", "pgstudio/core/networks/style.py",
     "noise = self.fixed", "noise = torch.randn(self.fixed.shape, generator=torch.Generator().manual_seed(0))",
     ["tests/test_stylegan2.py::test_noise_modes_and_truncation"]),
    ("bf16 probe always True (a bug on a CPU without bf16)", "pgstudio/core/training/precision.py",
     "return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)", "return True",
     ["tests/test_precision.py::test_native_bf16_probe_agrees_with_the_cpus_own_flags"]),
    ("bf16 probe always False (a bug on a CPU with bf16)", "pgstudio/core/training/precision.py",
     "return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)", "return False",
     ["tests/test_precision.py::test_native_bf16_probe_agrees_with_the_cpus_own_flags"]),
    ("FID scores the floor set in place of the fakes", "pgstudio/core/analysis/inception_metrics.py",
     'for prefix, other in (("", fakes), ("floor_", floor)):',
     'for prefix, other in (("", floor if floor is not None else fakes), ("floor_", floor)):',
     ["tests/test_fid_studio.py::test_fid_as_the_training_metric_writes_records_with_floors_and_checkpoint_stats"]),
    ("a follower skips past an unfinished line", "pgstudio/core/storage/jsonl.py",
     "return JsonLines(records, offset + end, skipped)", "return JsonLines(records, offset + len(data), skipped)",
     ["tests/test_hardening.py::test_torn_and_foreign_lines"]),
    ("xcb probe reports every linked library", "pgstudio/qt_platform.py",
     'r"^\\s*(\\S+) => not found"', 'r"^\\s*(\\S+) => "',
     ["tests/test_hardening.py::test_window_problem_tells_missing_libraries_from_no_display"]),
    ("the cache key ignores the folder's files", "pgstudio/core/data/dataset.py",
     "    for f in files:\n        try:\n            st = f.stat()", "    for f in []:\n        try:\n            st = f.stat()",
     ["tests/test_dataset.py::test_cache_hit_and_changed_folder"]),
    ("rotations drawn at p each instead of 1 - sqrt(1 - p)", "pgstudio/core/training/augment.py",
     "p_rot = 1 - math.sqrt(max(0.0, 1 - p))", "p_rot = p",
     ["tests/test_augment.py::test_each_transform_fires_at_about_p"]),
    ("D's fakes not augmented", "pgstudio/core/training/recipe.py",
     'self.D_fast(self.augmented(fakes, draws, "fake_d", i, parts), level, alpha_in, **labels)',
     "self.D_fast(fakes, level, alpha_in, **labels)",
     ["tests/test_augment.py::test_augmentation_reaches_every_image_d_sees"]),
    ("the first dialog opens where the process started", "pgstudio/gui/common/file_dialogs.py",
     '    return os.path.expanduser("~")', "    return os.getcwd()",
     ["tests/test_studio_as_a_user_sees_it.py::test_the_data_folder_and_each_dialogs_folder_are_remembered"]),
    # the five recipes, each put back as it was before the fix
    ("R1 and path length folded into the main step", "pgstudio/core/training/recipe.py",
     'return self.cfg.lazy_regularization == "steps"', "return False",
     ["tests/test_faithful_recipes.py::test_stylegan2_takes_r1_and_path_length_steps_of_their_own_with_the_official_correction",
      "tests/test_faithful_recipes.py::test_the_progressive_family_takes_r1_steps_of_its_own"]),
    ("Adam reset only at a fade's start", "pgstudio/core/training/schedule.py",
     'return (grows and cfg.reset_optimizer in ("lod", "growth")) or (ends_fade and cfg.reset_optimizer == "lod")',
     'return grows and cfg.reset_optimizer in ("lod", "growth")',
     ["tests/test_trainer.py::test_adam_starts_afresh_at_both_lod_boundaries_and_resumes_exactly"]),
    ("StyleGAN2's D block downsamples before its conv", "pgstudio/core/families/stylegan2/discriminator.py",
     "x = self.conv1.halve_blurred(x)", "x = self.conv1(downsample_fir(x))",
     ["tests/test_faithful_recipes.py::test_the_d_block_is_a_stride_2_conv_of_the_blurred_map_beside_a_bias_free_skip"]),
    ("MS-SWD points scored on their own split", "pgstudio/core/training/ticks.py",
     'if t.cfg.metric_split == "fixed":', "if False:",
     ["tests/test_metric_split.py::test_every_point_and_its_floor_use_one_split_kept_across_resume"]),
    ("StyleGAN2 scored with the const maps", "pgstudio/core/analysis/metrics.py",
     'noise_seed=(seed * 1000 + k) if noise == "random" else None))', "noise_seed=None))",
     ["tests/test_metric_split.py::test_stylegan2_is_scored_with_fresh_seeded_noise_per_sample"]),
]


def cpu_flags() -> set[str]:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return set()
    return {flag for line in lines if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


def is_a_bug_here(name: str) -> bool:
    """The bf16 probe's two mutations: each is a bug only on one kind of CPU."""
    native = bool(cpu_flags() & {"avx512_bf16", "amx_bf16", "amx_tile"})
    if "without bf16" in name:
        return not native
    if "with bf16" in name:
        return native
    return True


def tracked_copy(root: Path, into: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        src, dst = root / name.decode(), into / name.decode()
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    wanted = [m for m in MUTATIONS if not argv or any(a.lower() in m[0].lower() for a in argv)]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""}
    missed = 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        tracked_copy(root, copy)
        for name, path, line, bug, tests in wanted:
            if not is_a_bug_here(name):
                print(f"SKIP   {name}: not a bug on this CPU", flush=True)
                continue
            target = copy / path
            text = target.read_text()
            if text.count(line) != 1:
                print(f"STALE  {name}: the line is no longer in {path} exactly once", flush=True)
                missed += 1
                continue
            target.write_text(text.replace(line, bug))
            try:
                for test in tests:
                    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", test],
                                         cwd=copy, capture_output=True, text=True, env=env)
                    caught = run.returncode != 0
                    missed += not caught
                    print(f"{'RED   ' if caught else 'MISSED'} {name} → {test.split('::')[-1]}", flush=True)
            finally:
                target.write_text(text)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
