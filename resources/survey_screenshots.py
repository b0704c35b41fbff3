"""Screenshots of the survey family in the studio (docs/survey/), offscreen at 1280x720:
the run form with a paper's preset, the Training page of a run with its model's own plot, the
Explorer on an InfoGAN run drawing one seed in every category of its code, and the Runs page
overlaying a queue's runs.

    QT_QPA_PLATFORM=offscreen python resources/survey_screenshots.py MODEL_RUN INFOGAN_RUN QUEUE_FOLDER
                                                                     [--out docs/survey]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from offscreen_shots import settle   # first: Qt offscreen, throwaway settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model_run", help="a run whose Training page shows its model's plot (e.g. BEGAN, WGAN)")
    ap.add_argument("infogan_run")
    ap.add_argument("queue")
    ap.add_argument("--out", default="docs/survey")
    a = ap.parse_args()
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from pgstudio.gui.main_window import MainWindow
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    w = MainWindow()
    w.resize(1280, 720)
    w.show()
    w.dataset_panel.demo_button.click()
    settle(app, 4)
    f = w.setup_form
    f.arch.setCurrentIndex(f.arch.findData("classic"))
    f.preset.setCurrentIndex(f.preset.findData("wgan-gp"))
    w.tabs.setCurrentIndex(0)
    settle(app, 1)
    w.grab().save(str(out / "form-wgan-gp.png"))
    w.open_run(a.model_run)
    settle(app, 3)
    w.tabs.setCurrentIndex(1)
    settle(app, 1)
    w.grab().save(str(out / "training-model-plot.png"))
    w.open_run(a.infogan_run)
    settle(app, 3)
    w.tabs.setCurrentIndex(2)
    settle(app, 4)
    explorer = w.explorer_page
    explorer.codes_box.set_by_hand.setChecked(True)
    settle(app, 2)
    explorer.codes_box.across_button.click()
    settle(app, 4)
    w.grab().save(str(out / "explorer-infogan-categories.png"))
    w.runs_page.set_folder(a.queue)
    w.tabs.setCurrentIndex(4)
    settle(app, 2)
    w.runs_page.table.selectAll()
    settle(app, 3)
    w.grab().save(str(out / "runs-queue-overlay.png"))
    w.close()


if __name__ == "__main__":
    main()
