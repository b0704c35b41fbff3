"""The run form's "Queue…": the family's presets to train one after another on the chosen
data set (the preset on view with the form's edits, the others as their papers set them) and the
seeds to train each with, into a queue folder of their own."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QVBoxLayout)

from ...core.families import family
from ..common.widgets import named


def parse_seeds(text: str) -> list[int]:
    """"0, 1, 2" or "0-4" → seeds; ValueError with what is wrong."""
    seeds = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part[1:]:
            lo, hi = part.split("-", 1)
            seeds += list(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    if not seeds:
        raise ValueError("give at least one seed, e.g. 0 or 0, 1, 2")
    if len(set(seeds)) != len(seeds):
        raise ValueError("a seed is given twice")
    return seeds


class QueueDialog(QDialog):
    def __init__(self, arch: str, current_preset: str, folder: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Queue runs")
        self.setObjectName("queue_dialog")
        fam = family(arch)
        self.presets = named(QListWidget(), "queue_presets")
        for name, text in [("laptop", "laptop CPU"), ("paper", "paper (GPU)")] + \
                [(n, f"{p.title} ({p.citation})") for n, p in fam.papers.items()]:
            item = QListWidgetItem(text + (" — as the form shows it" if name == current_preset else ""))
            item.setData(Qt.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name == current_preset else Qt.Unchecked)
            self.presets.addItem(item)
        self.seeds = named(QLineEdit("0"), "queue_seeds")
        self.seeds.setToolTip("the seeds each preset trains with: 0, 1, 2 or 0-4")
        self.summary = named(QLabel(), "queue_summary")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.Ok)
        self.ok.setObjectName("queue_ok")
        self.folder = folder
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{fam.title}: the presets to train one after another on this data set"))
        layout.addWidget(self.presets)
        layout.addWidget(QLabel("seeds"))
        layout.addWidget(self.seeds)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.presets.itemChanged.connect(self._update)
        self.seeds.textChanged.connect(self._update)
        self._update()

    def chosen_presets(self) -> list[str]:
        return [self.presets.item(i).data(Qt.UserRole) for i in range(self.presets.count())
                if self.presets.item(i).checkState() == Qt.Checked]

    def chosen_seeds(self) -> list[int]:
        return parse_seeds(self.seeds.text())

    def _update(self) -> None:
        try:
            seeds = self.chosen_seeds()
        except ValueError as exc:
            self.summary.setText(f"seeds: {exc}")
            self.ok.setEnabled(False)
            return
        n = len(self.chosen_presets()) * len(seeds)
        self.ok.setEnabled(n > 0)
        self.ok.setText(f"Queue {n} run{'s' if n != 1 else ''}")
        self.summary.setText(f"{n} run{'s' if n != 1 else ''}, one after another, each in a folder of its own "
                             f"inside {self.folder}" if n else "choose at least one preset")
