"""Start the studio window."""
from __future__ import annotations

import sys


def create_app():
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("pgstudio")
    app.setOrganizationName("pgstudio")
    return app


def main(run: str | None = None) -> int:
    app = create_app()
    from .main_window import MainWindow
    window = MainWindow()
    window.show()
    if run:
        window.open_run(run)
    return app.exec()
