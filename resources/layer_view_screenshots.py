"""Screenshots of the explorer's layer view (docs/layers/), offscreen at 1280x720: for each run
given, the explorer on its newest checkpoint with the Layers box on, showing the last feature
map before the image (mean over channels, then the strongest channels), and what it printed:
each layer's peak ratio for seed 0, the number a StyleGAN droplet makes large. ``RUN@LAYER``
shows that layer instead, and prints its peak ratio over seeds 0-15 (the droplet comparison).

    QT_QPA_PLATFORM=offscreen python resources/layer_view_screenshots.py RUN[@LAYER]... [--out docs/layers]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from offscreen_shots import settle   # first: Qt offscreen, throwaway settings


class Counter:
    """How often a signal fired: a wait connected after the fact would miss a quick one."""

    def __init__(self, signal):
        self.n = 0
        signal.connect(self.bump)

    def bump(self, *args) -> None:
        self.n += 1

    def wait_past(self, app, n: int, seconds: float = 30.0) -> None:
        end = time.time() + seconds
        while self.n <= n and time.time() < end:
            app.processEvents()
            time.sleep(0.02)
        if self.n <= n:
            raise SystemExit("the explorer did not draw in time")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", default="docs/layers")
    a = ap.parse_args()
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from pgstudio.core.analysis.layers import picture, trace_layers
    from pgstudio.core.analysis.latents import seeded_latents
    from pgstudio.core.families import family_of_generator
    from pgstudio.gui.common.errors import install_exception_hooks, reported_errors
    from pgstudio.gui.main_window import MainWindow
    install_exception_hooks()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    w = MainWindow()
    w.resize(1280, 720)
    w.show()
    ex = w.explorer_page
    w.tabs.setCurrentWidget(ex)
    settle(app, 1)
    drawn = Counter(ex.layers_rendered)
    for spec in a.runs:
        run, _, layer_key = spec.partition("@")
        before = drawn.n
        ex.open_path(run)
        ex.layers_box.setChecked(True)
        drawn.wait_past(app, before)
        name = Path(run).name
        if layer_key:
            box = ex.layers_box
            keys = [box.layer.itemData(i) for i in range(box.layer.count())]
            if layer_key not in keys:
                raise SystemExit(f"{name} has no layer {layer_key}; it has {', '.join(keys)}")
            before = drawn.n
            box.layer.setCurrentIndex(keys.index(layer_key))
            drawn.wait_past(app, before)
            name = f"{name}-{layer_key}"
        ex.layers_box.view_kind.setCurrentIndex(ex.layers_box.view_kind.findData("mean"))
        settle(app, 1.5)
        w.grab().save(str(out / f"{name}-mean.png"))
        ex.layers_box.view_kind.setCurrentIndex(ex.layers_box.view_kind.findData("strongest"))
        settle(app, 1.5)
        w.grab().save(str(out / f"{name}-strongest.png"))
        G = ex.source.generator
        z = seeded_latents([0], G.latent_size, None)
        job = ex.images_job(z)
        layers, _ = trace_layers(G, job)
        print(f"{name} ({family_of_generator(G).title}): peak ratio per layer, seed 0, mean over channels")
        for layer in layers:
            _, act = trace_layers(G, job, layer.key)
            print(f"  {layer.label:42s} {picture(act, 'mean').peak_ratio:6.1f}")
        if layer_key:
            ratios = []
            for seed in range(16):
                _, act = trace_layers(G, ex.images_job(seeded_latents([seed], G.latent_size, None)), layer_key)
                ratios.append(picture(act, "mean").peak_ratio)
            print(f"  {layer_key}: peak ratio over seeds 0-15: median {sorted(ratios)[8]:.1f}, max {max(ratios):.1f}")
    errors = reported_errors()
    print("errors reported:", errors or "none")
    w.close()


if __name__ == "__main__":
    main()
