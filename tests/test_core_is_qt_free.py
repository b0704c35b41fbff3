import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "pgstudio" / "core"


def test_core_imports_no_qt():
    modules = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert {"trainer", "generator", "discriminator", "dataset"} <= set(modules)
    code = ("import sys\n" + "".join(f"import pgstudio.core.{m}\n" for m in modules) +
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'pyqtgraph')]\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_core_source_never_mentions_qt():
    for path in CORE.glob("*.py"):
        text = path.read_text()
        assert "PySide6" not in text and "pyqtgraph" not in text, path
