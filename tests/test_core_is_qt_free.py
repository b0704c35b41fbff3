import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pgstudio"
CORE = PACKAGE / "core"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")


def _modules(folder: Path, prefix: str) -> list[str]:
    """Every module below ``folder``, sub-packages included."""
    out = []
    for p in sorted(folder.rglob("*.py")):
        parts = p.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join((prefix, *parts)))
    return out


def _imports_in_a_fresh_process(modules: list[str]) -> list[str]:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules) +
            f"print([m for m in sys.modules if m.split('.')[0] in {QT!r} or m.startswith('pgstudio.gui')])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return eval(proc.stdout.strip().splitlines()[-1])


def test_core_imports_no_qt_and_nothing_of_the_gui():
    modules = _modules(CORE, "pgstudio.core")
    assert {"pgstudio.core.training.trainer", "pgstudio.core.storage.disk", "pgstudio.core.storage.runlock"} <= set(modules)
    assert _imports_in_a_fresh_process(modules) == []


def test_the_window_probe_runs_before_qt_is_loaded():
    """qt_platform decides whether Qt may start at all, so importing and asking it loads no Qt."""
    code = ("import sys\nfrom pgstudio.qt_platform import window_problem\nwindow_problem({'DISPLAY': ':0'}, 'linux')\n"
            f"print([m for m in sys.modules if m.split('.')[0] in {QT!r}])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_core_source_never_mentions_qt():
    for path in CORE.rglob("*.py"):
        text = path.read_text()
        assert not any(name in text for name in ("PySide6", "pyqtgraph", "from ..gui", "pgstudio.gui")), path
