"""Screenshots of every page at 1280x720 and 1920x1080 for docs/ (offscreen, widget.grab()).

    QT_QPA_PLATFORM=offscreen python resources/make_screenshots.py RUN [RUNS_FOLDER] [--out docs/screens]

RUN is a finished run to open (Training, Checkpoints, Explorer pages); RUNS_FOLDER the folder the
Runs page lists (default: RUN's parent), of which the first three runs are selected.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from offscreen_shots import settle   # first: Qt offscreen, throwaway settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("runs_folder", nargs="?")
    ap.add_argument("--out", default="docs/screens")
    args = ap.parse_args()
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from pgstudio.gui.main_window import MainWindow
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w = MainWindow()
    w.show()
    w.runs_page.set_folder(args.runs_folder or str(Path(args.run).resolve().parent))
    with_data = w.dataset_panel
    with_data.demo_button.click()
    settle(app, 4)
    w.open_run(args.run)
    settle(app, 2)
    w.explorer_page.open_path(args.run)
    settle(app, 4)
    for size in ((1280, 720), (1920, 1080)):
        w.resize(*size)
        settle(app, 1)
        for index in range(w.tabs.count()):
            w.tabs.setCurrentIndex(index)
            settle(app, 1.5)
            page = w.tabs.widget(index)
            if page is w.runs_page:
                model = w.runs_page.table.selectionModel()
                for row in range(min(3, w.runs_page.table.rowCount())):
                    model.select(w.runs_page.table.model().index(row, 0),
                                 QItemSelectionModel.Select | QItemSelectionModel.Rows)
                settle(app, 1.5)
            name = w.tabs.tabText(index).lower()
            w.grab().save(str(out / f"{name}-{size[0]}x{size[1]}.png"))
            print(out / f"{name}-{size[0]}x{size[1]}.png")
    w.close()


if __name__ == "__main__":
    main()
