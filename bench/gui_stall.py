"""Event-loop stall of the studio window while it trains; prints JSON.

    QT_QPA_PLATFORM=offscreen python bench/gui_stall.py [--seconds 60] [--resolution 32]

Opens the real main window, picks the demo data set, starts training with the laptop preset
and probes the GUI event loop with a 10 ms timer: the lateness of each probe is a stall the
user would feel (a frozen window shows as one long late probe).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PGSTUDIO_SETTINGS", tempfile.mkdtemp())

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--resolution", type=int, default=32)
    args = p.parse_args()
    from pgstudio.gui.app import create_app
    _app = create_app()                      # the QApplication must live while the window does
    from pgstudio.gui.main_window import MainWindow
    w = MainWindow()
    w.show()
    loop = QEventLoop()
    w.dataset_panel.dataset_ready.connect(loop.quit)
    w.dataset_panel.use_demo()
    loop.exec()
    idx = w.dataset_panel.resolution.findData(args.resolution)
    if w.dataset_panel.resolution.currentIndex() != idx:
        w.dataset_panel.resolution.setCurrentIndex(idx)
        loop.exec()
    w.setup_form.out_dir.setText(str(Path(tempfile.mkdtemp()) / "run"))
    w.setup_form.device.setCurrentText("cpu")
    w.setup_form.submit()

    lateness, ticks = [], []
    last = [time.perf_counter()]
    interval = 0.010

    def probe():
        now = time.perf_counter()
        lateness.append(max(0.0, now - last[0] - interval))
        last[0] = now
    timer = QTimer()
    timer.setInterval(int(interval * 1000))
    timer.timeout.connect(probe)
    w.training_page.ticked.connect(lambda r: ticks.append(r))
    timer.start()
    end = QEventLoop()
    QTimer.singleShot(int(args.seconds * 1000), end.quit)
    end.exec()
    timer.stop()
    w.training_page.shutdown()
    w.close()
    lat_ms = np.asarray(lateness[5:]) * 1000
    print(json.dumps({
        "seconds": args.seconds, "probes": int(lat_ms.size), "probe_interval_ms": interval * 1000,
        "stall_p50_ms": round(float(np.percentile(lat_ms, 50)), 2),
        "stall_p99_ms": round(float(np.percentile(lat_ms, 99)), 2),
        "stall_max_ms": round(float(lat_ms.max()), 2),
        "ticks_seen": len(ticks), "grids_seen": len(w.training_page.history.samples),
        "kimg_reached": ticks[-1]["kimg"] if ticks else 0.0,
        "img_per_s_last": ticks[-1]["img_per_s"] if ticks else None,
        "cpu_count": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
