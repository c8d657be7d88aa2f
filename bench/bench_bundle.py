"""Installed-app benchmark: size of the PyInstaller bundle and time to the main window's first paint, against a
bare PySide6 "hello" window frozen with PyInstaller's default one-folder options in the same run.

    .venv/bin/python bench/bench_bundle.py            # builds the hello bundle and ours (python build/build.py)
    .venv/bin/python bench/bench_bundle.py --reuse    # reuse dist/ZhuqiDesk when it is newer than the sources
    .venv/bin/python bench/bench_bundle.py --runs 9

What is measured
  size    bytes of every file in the bundle folder (dist/ZhuqiDesk vs the hello's dist folder);
          goal: ours ≤ 1.5 × hello.
  start   wall time from spawning the frozen program to the line "first-paint …" it prints right after its
          first window has painted once (ZHUQI_EXIT_AFTER_FIRST_PAINT=1; our app then quits, see
          ui/selftest.py; the hello script does the same for its label). Ours opens an initialised
          database with the small demo data (made by the bundle's own `zhuqi-cli init` and `demo`);
          goal: ours ≤ 2.0 × hello.
Starts alternate ours / hello, after one untimed warm-up start of each; figures are medians. Without a display
the programs run with QT_QPA_PLATFORM=offscreen. Needs the build extra: pip install -e ".[build]".
Results go to bench/results/bundle.json (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "bundle.json"
DIST = ROOT / "dist"
EXE = ".exe" if sys.platform == "win32" else ""
SIZE_GOAL = 1.5
START_GOAL = 2.0
FIRST_PAINT_ENV = "ZHUQI_EXIT_AFTER_FIRST_PAINT"
SOURCES = ("main.py", "app", "db", "ui", "resources", "build/zhuqi.spec", "pyproject.toml")

HELLO = """\
import os
import sys
import time

T0 = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel

app = QApplication(sys.argv[:1])
label = QLabel("你好")


class Probe(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            label.removeEventFilter(self)
            QTimer.singleShot(0, report)
        return False


def report():
    print(f"first-paint {time.perf_counter() - T0:.3f}", flush=True)
    app.quit()


probe = Probe()
if os.environ.get("ZHUQI_EXIT_AFTER_FIRST_PAINT") == "1":
    label.installEventFilter(probe)
label.show()
sys.exit(app.exec())
"""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def biggest(path: Path, n: int = 15) -> dict[str, list]:
    """The n largest top-level entries and files of a bundle in MB (where to look when trimming); no symlinks."""
    inner = path / "_internal" if (path / "_internal").is_dir() else path

    def mb(p: Path) -> float:
        return round((folder_size(p) if p.is_dir() else p.stat().st_size) / 1e6, 2)

    def top(paths) -> list:
        return sorted(([str(p.relative_to(path)), mb(p)] for p in paths if not p.is_symlink()), key=lambda x: -x[1])[:n]

    return {"entries": top(inner.iterdir()), "files": top(p for p in path.rglob("*") if p.is_file())}


def newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        p = ROOT / name
        for f in [p] if p.is_file() else p.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


def build_ours(reuse: bool) -> tuple[Path, float | None]:
    sys.path.insert(0, str(ROOT))
    from app import APP_NAME_EN

    folder = DIST / APP_NAME_EN.replace(" ", "")
    exe = folder / (folder.name + EXE)
    if reuse and exe.is_file() and exe.stat().st_mtime > newest_source():
        log(f"reusing {folder} (newer than the sources)")
        return folder, None
    if reuse:
        log(f"{folder} is missing or older than the sources: building it")
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "build" / "build.py")], check=True, cwd=ROOT)
    return folder, time.perf_counter() - started


def build_hello(work: Path) -> tuple[Path, float]:
    script = work / "hello.py"
    script.write_text(HELLO, encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--onedir",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            "--specpath",
            str(work),
            str(script),
        ],
        check=True,
        cwd=work,
    )
    return work / "dist" / "hello", time.perf_counter() - started


def child_env(data: Path) -> dict:
    env = dict(os.environ)
    env[FIRST_PAINT_ENV] = "1"
    env["ZHUQI_DATA_DIR"] = str(data)
    env["ZHUQI_NO_CRASH_DIALOG"] = "1"
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def first_paint(command: list[str], env: dict, timeout: float = 120) -> tuple[float, float]:
    """(seconds from spawn to the "first-paint" line, the seconds the child itself reported)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("first-paint"):
                wall = time.perf_counter() - started
                own = float(line.split()[1])
                proc.wait(timeout=timeout)
                return wall, own
        raise RuntimeError(f"{command[0]} exited with {proc.wait()} without printing first-paint")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def prepare_db(cli: Path, folder: Path, env: dict) -> Path:
    db = folder / "金水区.db"
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run(
        [str(cli), "init", "--db", str(db), "--role", "station", "--unit", "金水区", "--operator", "王磊"], **quiet
    )
    subprocess.run([str(cli), "demo", "--db", str(db)], **quiet)
    return db


def verdict(ratio: float, goal: float) -> str:
    return "goal met" if ratio <= goal else "goal NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="reuse dist/ZhuqiDesk if newer than the sources")
    parser.add_argument("--runs", type=int, default=5, help="timed starts of each program (default 5)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="zhuqi-bench-bundle-") as tmp:
        work = Path(tmp)
        log("building the hello bundle (PyInstaller defaults, one folder)…")
        hello, hello_build_s = build_hello(work)
        log(f"building our bundle{' (or reusing it)' if args.reuse else ''}…")
        ours, ours_build_s = build_ours(args.reuse)

        hello_exe = hello / ("hello" + EXE)
        # The windowed exe has no stdout on Windows: time the console twin there (same bundle, same GUI).
        ours_exe = ours / ((ours.name if sys.platform != "win32" else "zhuqi-cli") + EXE)
        cli = ours / ("zhuqi-cli" + EXE)
        env = child_env(work / "userdata")
        db = prepare_db(cli, work, env)
        commands = {"ours": [str(ours_exe), "--db", str(db)], "hello": [str(hello_exe)]}

        log("warm-up starts…")
        for command in commands.values():
            first_paint(command, env)
        runs: dict[str, list] = {"ours": [], "hello": []}
        for i in range(args.runs):
            for name, command in commands.items():
                runs[name].append(first_paint(command, env))
            log(f"  run {i + 1}/{args.runs}: ours {runs['ours'][-1][0]:.3f} s, hello {runs['hello'][-1][0]:.3f} s")

        size = {"ours": folder_size(ours), "hello": folder_size(hello)}
        start = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
        own = {k: statistics.median(o for _, o in v) for k, v in runs.items()}
        size_ratio = size["ours"] / size["hello"]
        start_ratio = start["ours"] / start["hello"]
        result = {
            "when": datetime.now().isoformat(timespec="seconds"),
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "qpa": env.get("QT_QPA_PLATFORM", ""),
            },
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip(),
            "build_seconds": {
                "ours": None if ours_build_s is None else round(ours_build_s, 1),
                "hello": round(hello_build_s, 1),
            },
            "size": {
                "ours_mb": round(size["ours"] / 1e6, 1),
                "hello_mb": round(size["hello"] / 1e6, 1),
                "ratio": round(size_ratio, 2),
                "goal": SIZE_GOAL,
                "met": size_ratio <= SIZE_GOAL,
            },
            "start": {
                "ours_s": round(start["ours"], 3),
                "hello_s": round(start["hello"], 3),
                "ratio": round(start_ratio, 2),
                "goal": START_GOAL,
                "met": start_ratio <= START_GOAL,
                "runs": args.runs,
                "ours_runs_s": [round(w, 3) for w, _ in runs["ours"]],
                "hello_runs_s": [round(w, 3) for w, _ in runs["hello"]],
                "ours_in_process_s": round(own["ours"], 3),
                "hello_in_process_s": round(own["hello"], 3),
            },
            "largest": {"ours": biggest(ours), "hello": biggest(hello)},
        }
    print(
        f"size   ours {result['size']['ours_mb']:.1f} MB   hello {result['size']['hello_mb']:.1f} MB   "
        f"ratio {size_ratio:.2f}   goal ≤ {SIZE_GOAL}   {verdict(size_ratio, SIZE_GOAL)}"
    )
    print(
        f"start  ours {start['ours']:.3f} s   hello {start['hello']:.3f} s   "
        f"ratio {start_ratio:.2f}   goal ≤ {START_GOAL}   {verdict(start_ratio, START_GOAL)}   "
        f"(medians of {args.runs}, spawn to first paint)"
    )
    if ours_build_s is not None:
        print(f"build  ours {ours_build_s:.0f} s   hello {hello_build_s:.0f} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"results: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
