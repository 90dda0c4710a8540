"""docs/protocol.md's "Try it with the Mosquitto clients" works as written, for a vendor with a shell."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from busutil import REPO, free_port


def doc_block() -> str:
    text = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("## 7. Try it with the Mosquitto clients", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_mosquitto_client_example_runs_as_written(tmp_path):
    script = doc_block()
    default = re.search(r"^PORT=\$\{PORT:-(\d+)\}$", script, re.M)
    assert default, "the block should name its port once, as PORT=${PORT:-N}"
    assert default.group(1) != "1883", "1883 is Debian's own mosquitto's port"
    literal = re.findall(r"-p \d+|127\.0\.0\.1:\d+", script)
    assert not literal, f"the block should use $PORT throughout, not {literal}"
    # a folder laid out like a checkout: its hall file, and its .venv, whose bin the block
    # puts on PATH itself (no directory holding another onewindow is left on PATH)
    (tmp_path / "config").symlink_to(REPO / "config")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    path = [
        d
        for d in os.environ["PATH"].split(os.pathsep)
        if not os.path.exists(os.path.join(d, "onewindow"))
    ]
    shell = subprocess.Popen(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        # another free port than the block's own: a reader of the doc runs it as written, and a
        # machine running several suites may hold 18830 already
        env={**os.environ, "PATH": os.pathsep.join(path), "PORT": str(free_port())},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the hall it starts in the background goes with it
    )
    try:
        stdout, stderr = shell.communicate(timeout=90)
    finally:
        try:
            os.killpg(shell.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        shell.wait()
    assert shell.returncode == 0, stderr
    lines = stdout.splitlines()
    state = next(ln for ln in lines if ln.startswith("ow/demo-county/state/queues "))
    assert json.loads(state.partition(" ")[2])["A"]["name"] == "户籍业务"
    reply = json.loads(next(ln for ln in lines if ln.startswith('{"v":1')))
    assert reply["id"] == "try-1" and reply["ok"] is True and "A" in reply["result"]["queues"]
