"""A user's first session, driven in a real X window: a folder of images chosen, a run started
with Ctrl+Return from the form, every page grabbed, a StyleGAN2 run trained by `pgstudio train` in
another process followed, and back to the first run (its last-grid strip full again).

    xvfb-run -a -s "-screen 0 1280x720x24" python resources/user_trial.py SHOTS RUNS IMAGES

SHOTS gets the screenshots (ImageMagick's `import`), RUNS the two run folders; IMAGES is a folder of
images (bench/make_crawl_tiles.py makes one of 5,234 RGB tiles). What it saw is printed.
"""
import os, subprocess, sys, time
from pathlib import Path
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from window_events import WindowSession

OUT = Path(sys.argv[1]); RUNS = Path(sys.argv[2]); DATA = sys.argv[3]
session = WindowSession(OUT)
app, settle = session.app, session.settle
from pgstudio.gui.main_window import MainWindow
from pgstudio.gui.common.errors import reported_errors

def shot(name):
    session.shot(name)
    print("shot", name, flush=True)

w = MainWindow(); w.show(); settle(2)
print("window", w.width(), w.height(), w.screen().availableGeometry(), flush=True)
QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: DATA)
QTest.mouseClick(w.dataset_panel.choose_button, Qt.LeftButton)
while w.dataset_panel.importing() or w.dataset_panel.dataset is None:
    settle(0.5)
f = w.setup_form
f.stabilize.setValue(2); f.fade.setValue(2); f.tick.setValue(0.5); f.sample.setValue(1)
f.checkpoint.setValue(2); f.metric_kimg.setValue(2); f.metric_n.setValue(256)
f.max_kimg.setValue(12); f.device.setCurrentText("cpu")
f.out_dir.setText(str(RUNS / "crawl-progressive"))
shot("01-dataset")
w.activateWindow(); settle(0.5)
QTest.keyClick(w, Qt.Key_Return, Qt.ControlModifier)
settle(2)
print("training:", w.training_page.is_training(), w.training_page.run and w.training_page.run.path, flush=True)
t0 = time.time()
while w.training_page.is_training():
    settle(1)
    if time.time() - t0 > 40 and not Path(OUT / "02-training-live.png").exists():
        shot("02-training-live")
print("trained in", round(time.time() - t0), "s", flush=True)
shot("03-training-done")
for i, name in ((2, "04-explorer"), (3, "05-checkpoints"), (4, "06-runs")):
    w.tabs.setCurrentIndex(i); settle(3); shot(name)
page = w.checkpoints_page
rows = [(page.table.item(r, 1).text(), page.table.item(r, 8).text(), page.row_status(r),
         page.table.cellWidget(r, 0).pixmap() is not None and not page.table.cellWidget(r, 0).pixmap().isNull())
        for r in range(page.table.rowCount())]
print("checkpoint rows:", rows, flush=True)
strip = lambda: [(res, g is not None) for res, g, _ in w.training_page.samples.strip_thumbnails()]
print("strip before:", strip(), flush=True)
# a second, StyleGAN2 run in another process; follow it, then come back
env = dict(os.environ)
proc = subprocess.Popen([sys.executable, "-m", "pgstudio", "train", "--data", DATA, "--out", str(RUNS / "crawl-sg2"),
                         "--arch", "stylegan2", "--resolution", "16", "--max-kimg", "3", "--device", "cpu",
                         "--quiet"], env=env)
while not (RUNS / "crawl-sg2" / "running.json").exists():
    settle(0.5)
settle(3)
w.open_run(str(RUNS / "crawl-sg2")); w.tabs.setCurrentIndex(1); settle(20)
shot("07-following")
print("following:", w.training_page.following, "log lines:", w.training_page.log.blockCount(), flush=True)
proc.wait()
settle(3)
print("checkpoints listed of the followed run:", w.checkpoints_page.table.rowCount(),
      "on disk:", len(list((RUNS / "crawl-sg2" / "checkpoints").glob("*.pt"))), flush=True)
w.open_run(str(RUNS / "crawl-progressive")); settle(3)
print("strip after switching back:", strip(), flush=True)
shot("08-back")
print("reported errors:", reported_errors(), flush=True)
w.close()
settle(1)
print("closed", flush=True)
