"""Build the installed app (安装版) with PyInstaller from build/zhuqi.spec — the same command on Windows and Linux.

    python build/build.py               dist/ZhuqiDesk/: ZhuqiDesk (windowed) + zhuqi-cli (console), one shared bundle
    python build/build.py --onefile     dist/onefile/ZhuqiDesk(.exe): one self-extracting file (slower to start)
    python build/build.py --self-test   ... then run the built program's --self-test

Needs the build extra (`pip install -e ".[build]"`). PyInstaller's work folder is .pyinstaller/ at the repository
root and its output goes to dist/: both stay out of build/ and out of git.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build" / "zhuqi.spec"
DIST = ROOT / "dist"
WORK = ROOT / ".pyinstaller"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


def bundle_names() -> tuple[str, str]:
    """(windowed app, console app) names, as the spec makes them."""
    sys.path.insert(0, str(ROOT))
    from app import APP_NAME_EN

    return APP_NAME_EN.replace(" ", ""), "zhuqi-cli"


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the 助企工作台 installed app with PyInstaller.")
    parser.add_argument("--onefile", action="store_true", help="one self-extracting exe in dist/onefile/")
    parser.add_argument("--clean", action="store_true", help="discard PyInstaller's cache and work folder first")
    parser.add_argument("--self-test", action="store_true", help="run the built program's --self-test afterwards")
    args = parser.parse_args(argv)

    gui, cli = bundle_names()
    distpath = DIST / "onefile" if args.onefile else DIST
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(distpath),
        "--workpath",
        str(WORK / ("onefile" if args.onefile else "onedir")),
    ]
    if args.clean:
        command.append("--clean")
    command += [str(SPEC), "--"] + (["--onefile"] if args.onefile else [])
    print("$ " + " ".join(command), flush=True)
    started = time.perf_counter()
    code = subprocess.call(command, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if code != 0:
        print(f"PyInstaller failed (exit {code}) after {elapsed:.0f} s", file=sys.stderr)
        return code

    if args.onefile:
        target = distpath / (gui + EXE_SUFFIX)
        programs = [target]
    else:
        target = distpath / gui
        programs = [target / (gui + EXE_SUFFIX), target / (cli + EXE_SUFFIX)]
    missing = [str(p) for p in programs if not p.is_file()]
    if missing:
        print(f"build finished but {', '.join(missing)} is missing", file=sys.stderr)
        return 1
    print(f"built {target} in {elapsed:.0f} s: {folder_size(target) / 1e6:.1f} MB")
    for program in programs:
        print(f"  {program.relative_to(ROOT)}")

    if args.self_test:  # without a display it renders offscreen by itself (ui/selftest.py)
        print(f"$ {programs[-1].relative_to(ROOT)} --self-test", flush=True)
        return subprocess.call([str(programs[-1]), "--self-test"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
