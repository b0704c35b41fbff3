"""Start the studio window."""
from __future__ import annotations

import sys


def create_app():
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("pgstudio")
    app.setOrganizationName("pgstudio")
    return app


def main(path: str | None = None) -> int:
    """The window; ``path`` a run folder (opened on the Training page) or a folder of images
    (chosen on the Dataset page). Without one, the data set chosen last time comes back."""
    app = create_app()
    from .common.errors import install_exception_hooks
    from .main_window import MainWindow
    install_exception_hooks()
    window = MainWindow()
    window.show()
    window.open_start_path(path)
    return app.exec()
