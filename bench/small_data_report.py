"""Markdown tables from bench/small_data.py's JSON (for docs/small_data.md).

    python -m bench.small_data_report bench/results/small_data_16.json [more.json ...]
"""
from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict


def _at(curve_k, curve_v, fraction):
    if not curve_k:
        return None
    i = min(len(curve_k) - 1, int(round(fraction * (len(curve_k) - 1))))
    return curve_v[i]


def report(path: str) -> str:
    doc = json.loads(open(path).read())
    s = doc["settings"]
    lines = [f"### {path}", "",
             f"{doc['cpu']}, torch {doc['torch']}, {doc['threads']} threads; {s['resolution']}², "
             f"{s['phase_kimg']:g} kimg phases, {s['max_kimg']:g} kimg in all, fmap {s.get('fmap_base', 256)}/"
             f"{s.get('fmap_max', 64)}; MS-SWD ×1000 of n = {s['n']} EMA samples against held-out images "
             "(floor: the training images against the same held-out ones)", "",
             "| set | train images | mode | MS-SWD per seed | mean | spread | floor | p at ¼ / ½ / end | "
             "D(train) − D(held-out), first → last fifth | s per run |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    groups = defaultdict(list)
    for r in doc["runs"]:
        label = r["mode"] + (f" {r['tag'].strip('-')}" if r.get("tag") else "")
        groups[(r["set"], r.get("train_n", 1000), label)].append(r)
    for (name, n, label), runs in sorted(groups.items()):
        runs.sort(key=lambda r: r["seed"])
        scores = [r["swd"] for r in runs]
        ps = []
        for r in runs:
            c = r["curves"]
            ps.append("/".join("–" if v is None else f"{v:.2f}"
                               for v in (_at(c["kimg"], c["p"], f) for f in (0.25, 0.5, 1.0))))
        gaps, early = [], []
        for r in runs:
            c = r["curves"]
            tail = max(1, len(c["kimg"]) // 5)
            gaps.append(statistics.mean(a - b for a, b in zip(c["d_train"][-tail:], c["d_heldout"][-tail:])))
            early.append(statistics.mean(a - b for a, b in zip(c["d_train"][:tail], c["d_heldout"][:tail])))
        lines.append(f"| {name} | {n} | {label} | {', '.join(f'{v:.1f}' for v in scores)} | "
                     f"{statistics.mean(scores):.1f} | {max(scores) - min(scores):.1f} | "
                     f"{statistics.mean(r['floor'] for r in runs):.1f} | {'; '.join(ps)} | "
                     f"{statistics.mean(early):+.3f} → {statistics.mean(gaps):+.3f} | "
                     f"{statistics.mean(r['seconds'] for r in runs):.0f} |")
    lines += _along_the_way(groups)
    return "\n".join(lines)


def _along_the_way(groups) -> list[str]:
    """With --score-every: MS-SWD against the held-out images at each scored kimg (mean of the
    seeds and their spread), and r_v from the tick probes (D's mean score on 256 training, 256
    held-out and 256 generated images, un-augmented) by fifths of the run."""
    scored = {key: runs for key, runs in groups.items() if all(r["curves"].get("score") for r in runs)}
    if not scored:
        return []
    kimgs = sorted({k for runs in scored.values() for r in runs for k in r["curves"]["score_kimg"]})
    lines = ["", "MS-SWD against held-out images along the way (mean of the seeds, spread in brackets):", "",
             "| set | train images | mode | " + " | ".join(f"{k:.0f} kimg" for k in kimgs) + " |",
             "|---|---|---|" + "---|" * len(kimgs)]
    for (name, n, label), runs in sorted(scored.items()):
        cells = []
        for k in kimgs:
            values = [dict(zip(r["curves"]["score_kimg"], r["curves"]["score"])).get(k) for r in runs]
            values = [v for v in values if v is not None]
            cells.append(f"{statistics.mean(values):.1f} ({max(values) - min(values):.1f})" if values else "–")
        lines.append(f"| {name} | {n} | {label} | " + " | ".join(cells) + " |")
    lines += ["", "r_v from the tick probes by fifths of the run (mean of the seeds; "
              "(D(train) − D(held-out)) / (D(train) − D(fake))), and p's largest value per seed:", "",
              "| set | train images | mode | r_v by fifths | p max per seed |", "|---|---|---|---|---|"]
    for (name, n, label), runs in sorted(scored.items()):
        fifths = []
        for i in range(5):
            ratios = []
            for r in runs:
                c = r["curves"]
                m = len(c["kimg"])
                part = slice(i * m // 5, (i + 1) * m // 5)
                gap = statistics.mean(a - b for a, b in zip(c["d_train"][part], c["d_heldout"][part]))
                sep = statistics.mean(a - b for a, b in zip(c["d_train"][part], c["d_fake"][part]))
                ratios.append(gap / sep if sep > 0 else float("nan"))
            fifths.append(f"{statistics.mean(ratios):.2f}")
        pmax = ["–" if not any(v is not None for v in r["curves"]["p"]) else
                f"{max(v for v in r['curves']['p'] if v is not None):.2f}" for r in runs]
        lines.append(f"| {name} | {n} | {label} | {' / '.join(fifths)} | {', '.join(pmax)} |")
    return lines


if __name__ == "__main__":
    print("\n\n".join(report(p) for p in sys.argv[1:]))
