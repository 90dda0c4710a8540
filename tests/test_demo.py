"""`onewindow demo --headless`: the CI smoke test of a whole simulated hall."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

from busutil import REPO, session_processes


def test_headless_demo_issues_calls_and_stops_cleanly(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "onewindow.cli",
            "--log-level",
            "WARNING",
            "demo",
            "--headless",
            "--duration",
            "6",
            "--speed",
            "600",
            "--per-day",
            "400",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "OneWindow demo: 示范县政务服务中心" in text
    # the simulated day from the hall's opening (08:30 on weekdays, 09:00 on Saturdays), its
    # time on every citizen's line
    opening = re.search(r"^\[(08:30|09:00)\] 开门营业", text, re.M)
    assert opening, text[:2000]
    assert re.search(r"^\[(08|09|10):\d\d\] \[kiosk\]  取号 [A-Z]\d{3} ", text, re.M)
    assert re.search(r"\[display\] 请 [A-Z]\d{3} 号到 \S+窗口 办理", text)
    done = re.search(r"OneWindow demo stopped: (\d+) tickets issued, (\d+) served", text)
    assert done and int(done.group(1)) >= 10 and int(done.group(2)) >= 5
    # no full ID number or full name ever printed: names appear masked (王*)
    assert not re.search(r"\d{17}[\dX]", text)
    assert "Traceback" not in out.stderr


def test_ctrl_c_stops_the_demo_in_order_and_leaves_no_folder_behind(tmp_path):
    """Ctrl-C (SIGINT to the whole process group) on `./run-hall`: the broker is stopped by the
    hall, not restarted; nothing runs on; the demo's own data folder (its keys) is gone."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "onewindow.cli", "demo", "--headless", "--speed", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        start_new_session=True,
    )
    try:
        lines = []
        while not any("devices:" in ln for ln in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()[-2000:]
            lines.append(line)
        made = list(tmp_path.glob("onewindow-demo-*"))
        assert len(made) == 1 and (made[0] / "hall.db").exists()
        assert "mosquitto" in session_processes(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert "OneWindow demo stopped" in out
    assert "starting it again" not in err and "ERROR" not in err, err[-2000:]
    assert session_processes(proc.pid) == []
    assert list(tmp_path.glob("onewindow-demo-*")) == []
