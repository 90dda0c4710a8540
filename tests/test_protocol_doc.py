"""docs/protocol.md's "Try it with the Mosquitto clients" works as written, for a vendor with a shell."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from busutil import REPO, free_port


def doc_block() -> str:
    text = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("## 7. Try it with the Mosquitto clients", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_mosquitto_client_example_runs_as_written(tmp_path):
    port = free_port()
    script = doc_block().replace("1883", str(port))  # 1883 is this machine's own broker
    (tmp_path / "config").symlink_to(REPO / "config")
    env = {
        **os.environ,
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}:/usr/sbin",
    }
    out = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    state = next(ln for ln in lines if ln.startswith("ow/demo-county/state/queues "))
    assert json.loads(state.partition(" ")[2])["A"]["name"] == "户籍业务"
    reply = json.loads(next(ln for ln in lines if ln.startswith('{"v":1')))
    assert reply["id"] == "try-1" and reply["ok"] is True and "A" in reply["result"]["queues"]
