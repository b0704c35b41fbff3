"""The survey tried as a new user would, in a real X window: a folder of a few thousand images
chosen, Classic GANs picked, each of the twelve presets started from the form in turn (short, at
small widths) and its Training page grabbed when it ends, then three presets queued on the folder
and the Runs page overlaying them; the explorer on the InfoGAN run, one seed in every category.

    xvfb-run -a -s "-screen 0 1280x720x24" python resources/survey_trial.py SHOTS RUNS IMAGES [KIMG]

IMAGES needs class sub-folders for cGAN (bench/make_crawl_tiles.py makes four). What it saw is printed:
per preset its last tick's losses, its model's curves and the status line; errors the window reported.
"""
import sys, time
from pathlib import Path
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from window_events import WindowSession

OUT, RUNS, DATA = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
KIMG = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
session = WindowSession(OUT)
app, settle, shot = session.app, session.settle, session.shot
from pgstudio.gui.main_window import MainWindow
from pgstudio.gui.common.errors import reported_errors
from pgstudio.core.families import family


def small(f):
    f.fmap_base.setValue(512); f.fmap_max.setValue(64)
    f.tick.setValue(KIMG / 4); f.sample.setValue(KIMG / 2); f.checkpoint.setValue(KIMG)
    f.max_kimg.setValue(KIMG); f.device.setCurrentText("cpu")


w = MainWindow(); w.show(); settle(2)
QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: DATA)
QTest.mouseClick(w.dataset_panel.choose_button, Qt.LeftButton)
while w.dataset_panel.importing() or w.dataset_panel.dataset is None:
    settle(0.5)
f = w.setup_form
f.arch.setCurrentIndex(f.arch.findData("classic"))
offered = [f.preset.itemText(i) for i in range(f.preset.count())]
print("presets offered:", offered, flush=True)
for i, name in enumerate(family("classic").papers):
    w.tabs.setCurrentIndex(0)
    f.preset.setCurrentIndex(f.preset.findData(name))
    small(f)
    f.use_classes.setChecked(name == "cgan")
    f.out_dir.setText(str(RUNS / name))
    if i == 0:
        shot("00-form")
    if not f.start_button.isEnabled():
        print(name, "REFUSED:", f.problems_text(), flush=True)
        continue
    t0 = time.time()
    QTest.mouseClick(f.start_button, Qt.LeftButton)
    settle(1)
    while w.training_page.is_training():
        settle(0.5)
    page = w.training_page
    data = page.plots.curve_data()
    model = {k: len(data[k][0]) for k in ("d_real", "w_distance", "k_t", "m_global", "mi_bound", "pulling_away")
             if len(data[k][0])}
    print(f"{name}: {time.time() - t0:.0f} s, ticks {len(page.history.kimg)}, row {page.plots.second_row}, "
          f"curves {model}, status '{w.status_labels['phase'].text()}', ending {page.last_result and page.last_result.reason}",
          flush=True)
    shot(f"{i + 1:02d}-{name}")
    box = getattr(w, "error_box", None)
    if box is not None and box.isVisible():          # a blow-up or an error: read, then closed
        print(f"{name}: dialog '{box.objectName()}': {box.text()[:160]}", flush=True)
        box.close(); settle(0.5)
# three presets queued on the same folder
w.tabs.setCurrentIndex(0)
f.preset.setCurrentIndex(f.preset.findData("dcgan")); small(f); f.use_classes.setChecked(False)
f.out_dir.setText(str(RUNS / "queue"))
QTest.mouseClick(f.queue_button, Qt.LeftButton); settle(1)
d = f.queue_dialog
for i in range(d.presets.count()):
    if d.presets.item(i).data(Qt.UserRole) in ("wgan-gp", "sngan"):
        d.presets.item(i).setCheckState(Qt.Checked)
shot("20-queue-dialog")
QTest.mouseClick(d.ok, Qt.LeftButton); settle(2)
while w.training_page.queue is not None or w.training_page.is_training():
    settle(0.5)
w.tabs.setCurrentIndex(4); settle(2)
w.runs_page.table.selectAll(); settle(2)
print("runs page:", w.runs_page.table.rowCount(), "rows; overlaid:", w.runs_page.plotted_names(), flush=True)
shot("21-runs-overlay")
w.open_run(str(RUNS / "infogan")); settle(3)
w.tabs.setCurrentIndex(2); settle(4)
box = w.explorer_page.codes_box
box.set_by_hand.setChecked(True); settle(2)
QTest.mouseClick(box.across_button, Qt.LeftButton); settle(4)
print("explorer:", w.explorer_page.caption.text(), flush=True)
shot("22-explorer-infogan")
print("errors reported:", reported_errors(), flush=True)
w.close()
