"""`main.py --self-test` (what the installed app runs in CI after the PyInstaller build, see .ci/run), from source.

The frozen bundle itself is built and checked by .ci/run, not here: a PyInstaller build takes half a minute.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from app import selftest
from ui.selftest import qt_steps

ROOT = Path(__file__).resolve().parents[2]


def test_self_test_from_source_passes_every_step(tmp_path):
    env = dict(
        os.environ, QT_QPA_PLATFORM="offscreen", ZHUQI_DATA_DIR=str(tmp_path / "userdata"), PYTHONIOENCODING="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "main.py", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    steps = selftest.core_steps() + qt_steps()
    assert len(steps) >= 8
    for step in steps:
        assert any(line.startswith(f"ok  {step.title} (") and line.endswith(" s)") for line in lines), step.title
    assert "自检通过" in lines[-1]
    assert not (tmp_path / "userdata").exists()  # everything happened in the self-test's own temporary folder


@pytest.mark.parametrize(
    ("step", "label", "name", "error"),
    [
        ("step_pdf", "生成PDF", "PDF printing", RuntimeError("打印机驱动模拟故障")),
        ("step_sync", "同步包导出导入", "sync package export/import", selftest.SelfTestError("汇总端没有收到记录")),
    ],
)
def test_a_failing_step_is_named_and_stops_the_run(monkeypatch, step, label, name, error):
    def broken(ctx):
        raise error

    monkeypatch.setattr(selftest, step, broken)
    before = os.environ.get("ZHUQI_DATA_DIR")
    out, err = io.StringIO(), io.StringIO()
    assert selftest.run(out=out, err=err) == 1
    assert f"FAIL {label} / {name}" in out.getvalue()
    assert f"自检失败：步骤“{label}”出错：{error}" in err.getvalue()
    assert f'Self-test failed at step "{name}": {type(error).__name__}: {error}' in err.getvalue()
    assert "自检通过" not in out.getvalue()
    titles = [s.title for s in selftest.core_steps()]
    for later in titles[titles.index(f"{label} / {name}") + 1 :]:
        assert later not in out.getvalue()  # nothing runs after the failure
    assert ("Traceback" in err.getvalue()) == (not isinstance(error, selftest.SelfTestError))
    assert os.environ.get("ZHUQI_DATA_DIR") == before


def test_main_returns_1_when_a_step_fails(monkeypatch, capsys):
    def broken(ctx):
        raise selftest.SelfTestError("缺少内置资源文件：fonts/wqy-microhei.ttc")

    monkeypatch.setattr(selftest, "step_resources", broken)
    assert main.main(["--self-test"]) == 1
    captured = capsys.readouterr()
    assert "FAIL 内置资源 / bundled resources" in captured.out
    assert "自检失败：步骤“内置资源”出错：缺少内置资源文件" in captured.err
