"""The layering the code holds to, checked on its source (import-linter's kind of contract, with
the standard library's ast instead of another dependency):

- core imports no Qt and nothing of the GUI (test_core_is_qt_free.py also imports every module
  of core in a fresh process and looks at what got loaded);
- model families do not import each other;
- the studio's pages do not import each other (the window wires them; shared widgets live in
  gui/common);
- only the family packages and their registry compare family names;
- the file holding the training loop names no family and stays short;
- no import cycle inside core: every import counts, at any depth of a file (a deferred import
  is still a dependency), so the families import downward only.
"""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pgstudio"
FAMILIES_DIR = PACKAGE / "core" / "families"
PAGES = ("training", "setup", "dataset", "checkpoints", "explorer")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (relative imports resolved), at any depth of the file."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return out


def sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_the_contract_reader_sees_imports():
    """The checks below are only as good as this reader: it must see what a module imports."""
    found = imported_modules(PACKAGE / "gui" / "main_window.py")
    assert {"pgstudio.gui.training.page", "pgstudio.core.families", "PySide6.QtWidgets"} <= found
    found = imported_modules(FAMILIES_DIR / "stylegan2" / "recipe.py")
    assert "pgstudio.core.training.recipe" in found


def test_core_imports_neither_qt_nor_the_gui():
    for path in sources(PACKAGE / "core"):
        bad = {m for m in imported_modules(path)
               if m.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")
               or m.startswith("pgstudio.gui")}
        assert not bad, f"{path}: {sorted(bad)}"


def test_families_do_not_import_each_other():
    names = [p.name for p in FAMILIES_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert {"progressive", "stylegan2"} <= set(names)
    for name in names:
        others = [f"pgstudio.core.families.{o}" for o in names if o != name]
        for path in sources(FAMILIES_DIR / name):
            bad = {m for m in imported_modules(path) if any(m == o or m.startswith(o + ".") for o in others)}
            assert not bad, f"{path}: {sorted(bad)}"


def test_pages_do_not_import_each_other():
    for page in PAGES:
        assert (PACKAGE / "gui" / page / "__init__.py").exists(), page
        others = [f"pgstudio.gui.{o}" for o in PAGES if o != page] + ["pgstudio.gui.main_window"]
        for path in sources(PACKAGE / "gui" / page):
            bad = {m for m in imported_modules(path) if any(m == o or m.startswith(o + ".") for o in others)}
            assert not bad, f"{path}: {sorted(bad)}"
    for path in sources(PACKAGE / "gui" / "common"):       # shared by the pages, so it uses none
        bad = {m for m in imported_modules(path) if any(m.startswith(f"pgstudio.gui.{p}") for p in PAGES)}
        assert not bad, f"{path}: {sorted(bad)}"


def family_names_in(text: str, names: list[str]) -> list[str]:
    """Family names written as string literals (a comparison, a default, a dict key)."""
    return [m.group(0) for m in re.finditer(r"""(["'])(%s)\1""" % "|".join(map(re.escape, names)), text)]


def test_only_the_families_compare_family_names():
    from pgstudio.core.families import FAMILIES
    names = list(FAMILIES)
    assert family_names_in('if arch == "stylegan2":', names) == ['"stylegan2"']     # the check can fail
    offenders = {}
    for path in sources(PACKAGE):
        if path.is_relative_to(FAMILIES_DIR):
            continue
        text = path.read_text()
        if path == PACKAGE / "core" / "config.py":     # the format's default, which the registry takes
            assert len(re.findall(r'^DEFAULT_ARCH = "progressive"$', text, flags=re.M)) == 1
            text = re.sub(r'^DEFAULT_ARCH = "progressive"$', "", text, flags=re.M)
        found = family_names_in(text, names)
        if found:
            offenders[str(path.relative_to(PACKAGE))] = found
    assert not offenders


def test_the_training_loop_names_no_family_and_reads_like_a_page():
    loop = PACKAGE / "core" / "training" / "trainer.py"
    text = loop.read_text()
    from pgstudio.core.families import FAMILIES
    assert not any(re.search(name, text, re.IGNORECASE) for name in FAMILIES)
    assert not re.search(r"\.arch\s*==|stylegan|pl_mean", text, re.IGNORECASE)
    assert len(text.splitlines()) <= 320


def test_the_studio_state_is_plain_python():
    """The pages observe a Qt-free model; only its adapter (gui/common/studio.py) knows Qt."""
    path = PACKAGE / "gui" / "common" / "studio_state.py"
    assert not {m for m in imported_modules(path) if m.split(".")[0] in ("PySide6", "pyqtgraph")}
    window = (PACKAGE / "gui" / "main_window.py").read_text()
    # the window wires pages; it does not reach into their private parts
    assert not re.search(r"self\.(training_page|setup_form|dataset_panel|checkpoints_page|explorer_page)\._", window)


def core_import_graph() -> dict[str, set[str]]:
    """Each module of core → the modules of core it imports (a name imported from a module
    counts as that module; a package's __init__ is a module of its own)."""
    modules = {module_name(p): p for p in sources(PACKAGE / "core")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for target in imported_modules(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                deps.add(target)
        graph[name] = deps
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_core_has_no_import_cycle():
    # the check can fail: a deferred import back up the layers is a cycle
    assert import_cycles({"config": {"families"}, "families": {"base"}, "base": {"config"}, "x": {"config"}}) \
        == [["base", "config", "families"]]
    graph = core_import_graph()
    assert "pgstudio.core.families" in graph["pgstudio.core.presets"]        # the reader sees the modules
    assert "pgstudio.core.config" in graph["pgstudio.core.families.progressive.discriminator"]
    assert import_cycles(graph) == []
