"""Per-step cost of the trainer where Python overhead weighs most (8x8, batch 8, tiny widths, fp32,
CPU); prints JSON. To compare two commits, run it from a worktree of each, alternating:

    git worktree add /tmp/old <commit>
    for i in 1 2 3; do (cd /tmp/old && python bench/step_overhead.py); python bench/step_overhead.py; done

It uses whichever trainer API the checkout has (train_step after the structure refactor,
_train_step before), so the same file measures both sides.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path.cwd()))

from pgstudio.core.config import TrainConfig  # noqa: E402
from tests.conftest import draw_shapes  # noqa: E402

try:
    from pgstudio.core.data.dataset import import_folder
    from pgstudio.core.training.schedule import schedule_at
    from pgstudio.core.training.trainer import Trainer
except ImportError:                      # a checkout from before the structure refactor
    from pgstudio.core.dataset import import_folder
    from pgstudio.core.schedule import schedule_at
    from pgstudio.core.trainer import Trainer


def main() -> None:
    torch.set_num_threads(2)
    data = Path(tempfile.mkdtemp())
    for i, image in enumerate(draw_shapes(64, size=8)):
        image.save(data / f"{i}.png")
    cfg = TrainConfig(data=str(data), resolution=8, latent_size=16, fmap_base=64, fmap_max=16, loss="logistic",
                      batch={4: 8, 8: 8}, batch_default=8, stabilize_kimg=0.1, fade_kimg=0.1, device="cpu",
                      precision="fp32")
    trainer = Trainer.new(Path(tempfile.mkdtemp()) / "run", cfg, dataset=import_folder(data, 8))
    step = getattr(trainer, "train_step", None) or trainer._train_step
    (getattr(trainer, "begin_tick", None) or trainer._reset_accumulators)()
    pt = schedule_at(cfg, 1000)             # 8x8, stabilize
    for _ in range(30):
        step(pt)
        trainer.step += 1
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(100):
            step(pt)
            trainer.step += 1
        rounds.append((time.perf_counter() - t0) / 100 * 1000)
    trainer.close()
    print(json.dumps({"ms_per_step_min": round(min(rounds), 3), "ms_per_step_median": round(sorted(rounds)[2], 3),
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
