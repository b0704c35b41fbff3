"""Can the studio window start here? Asked before Qt is loaded, because Qt cannot be asked.

Qt ≥ 6.5's X11 platform plugin (xcb) needs system libraries a stock Linux desktop may lack
(libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, …). Without them QApplication's constructor
prints "could not load the Qt platform plugin" and aborts the process with a core dump, so there
is nothing to catch. This module never imports PySide6: it works out which platform Qt will
pick, and for xcb checks the display and the plugin's libraries, so that `pgstudio` can say in
one line what is missing and how to install it.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# sonames the xcb plugin (libqxcb.so and libQt6XcbQpa) links against → Debian/Ubuntu packages
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


def chosen_platform(env: dict | None = None, system: str | None = None) -> str:
    """The platform plugin Qt will try first: QT_QPA_PLATFORM's first entry if set; otherwise
    wayland in a Wayland session and xcb elsewhere on Linux (Qt 6's own rule)."""
    env = os.environ if env is None else env
    system = sys.platform if system is None else system
    wanted = env.get("QT_QPA_PLATFORM", "").strip()
    if wanted:
        return wanted.split(";")[0].split(":")[0].strip()
    if not system.startswith("linux"):
        return "native"
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def _plugin_files() -> list[Path]:
    spec = importlib.util.find_spec("PySide6")     # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(list(spec.submodule_search_locations)[0]) / "Qt"
    return [p for p in (root / "plugins" / "platforms" / "libqxcb.so", *sorted((root / "lib").glob("libQt6XcbQpa.so*")))
            if p.exists()][:2]


def missing_xcb_libraries() -> list[str]:
    """Sonames the xcb plugin needs that the dynamic loader cannot find (empty: all there).

    ldd names exactly what the plugin links against; where ldd is absent, each known soname is
    opened with the loader itself.
    """
    files = _plugin_files()
    ldd = shutil.which("ldd")
    if files and ldd:
        missing = []
        for f in files:
            try:
                out = subprocess.run([ldd, str(f)], capture_output=True, text=True, timeout=20).stdout
            except (OSError, subprocess.SubprocessError):
                break
            for name in re.findall(r"^\s*(\S+) => not found", out, re.MULTILINE):
                if name not in missing:
                    missing.append(name)
        else:
            return missing
    missing = []
    for soname in XCB_PACKAGES:
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(soname)
    return missing


def package_for(soname: str) -> str:
    """The Debian/Ubuntu package of a soname (a known one, else the naming rule libfoo.so.N → libfooN)."""
    if soname in XCB_PACKAGES:
        return XCB_PACKAGES[soname]
    m = re.match(r"(lib[\w+.-]+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    base, version = m.group(1).lower(), m.group(2)
    return f"{base}-{version}" if base[-1].isdigit() else f"{base}{version}"


def window_problem(env: dict | None = None, system: str | None = None, missing=None) -> str | None:
    """Why the studio window cannot start here, in one line; None when nothing stands in the way.

    ``missing`` lists the xcb plugin's absent libraries (default: :func:`missing_xcb_libraries`).
    """
    env = os.environ if env is None else env
    missing = missing or missing_xcb_libraries
    platform = chosen_platform(env, system)
    if platform != "xcb":
        return None
    if not env.get("DISPLAY"):
        return ("the studio window needs a display and none is set (DISPLAY is empty): start it from a "
                "desktop session, over ssh -X, or under xvfb-run; the command-line tools need none "
                "(pgstudio train --help)")
    libraries = missing()
    if not libraries:
        return None
    packages = list(dict.fromkeys(package_for(s) for s in libraries))
    return ("the studio window cannot start: Qt's X11 platform plugin (xcb) needs system libraries this "
            f"machine lacks ({', '.join(libraries)}); install them with: sudo apt-get install "
            f"{' '.join(packages)} (Debian/Ubuntu names); the command-line tools work without them "
            "(pgstudio --help)")
