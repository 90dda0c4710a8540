"""`onewindow notifier` as systemd runs it (systemd/onewindow-notifier.service): a process with its
--device-config, on a hall's bus, sending a due call-ahead SMS through the modem simulator on a
pty, and saying what became of it; the number never in its output."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import urllib.parse

import pytest

from busutil import REPO, die_with_parent, open_hall_file, stop_bridge, wait_for
from drivers.modem_sim import ModemSimulator
from drivers.ptysim import PtyDevice
from onewindow.phonevault import available

MOBILE = "13912345678"
UNIT = REPO / "systemd" / "onewindow-notifier.service"


def unit_command(device_config, port) -> list[str]:
    """The unit's ExecStart, run from this checkout with the test's config file and pty."""
    line = next(ln for ln in UNIT.read_text().splitlines() if ln.startswith("ExecStart="))
    argv = shlex.split(line.split("=", 1)[1])
    assert argv[0] == "/opt/onewindow/.venv/bin/onewindow" and argv[1] == "notifier", argv
    options = dict(zip(argv[2::2], argv[3::2], strict=True))  # each option with its value
    assert set(options) == {"--device-config", "--modem-port"}, argv
    options.update({"--device-config": str(device_config), "--modem-port": str(port)})
    return [sys.executable, "-m", "onewindow.cli", "notifier", *sum(options.items(), ())]


@pytest.mark.skipif(not available(), reason="cryptography not installed: no SMS numbers kept")
def test_the_notifier_command_texts_a_due_notice_through_the_modem(start_hall, tmp_path):
    hall = start_hall(
        "embedded",
        ("kiosk-1", "kiosk"),
        ("web-1", "web"),
        ("notifier-1", "notifier"),
        config=open_hall_file(tmp_path),
    )
    sim = ModemSimulator()
    pty = PtyDevice(sim, tmp_path / "ttyMODEM")
    kiosk = hall.client("kiosk-1")
    kiosk.request("ticket.issue", {"service": "A"})
    ticket = kiosk.request("ticket.issue", {"service": "A"})["ticket"]
    key = urllib.parse.urlsplit(ticket["status_url"]).path.rsplit("/", 1)[-1]
    args = {"ticket_id": key, "phone": MOBILE, "consent": True, "lang": "zh"}
    hall.client("web-1").request("notice.subscribe", args)  # one ahead: due at once
    cfg = tmp_path / "notifier.json"
    cfg.write_text(
        json.dumps(
            {
                "mqtt": hall.url,
                "hall": hall.hall_id,
                "device": "notifier-1",
                "secret": hall.secrets["notifier-1"],
            }
        ),
        encoding="utf-8",
    )
    log_path = tmp_path / "notifier.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            unit_command(cfg, pty.path),
            cwd=REPO,
            preexec_fn=die_with_parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            msgs = sim.wait_messages(1, timeout=20)
            assert msgs, log_path.read_text()
            assert msgs[0][0] == "+86" + MOBILE and "前面还有1位" in msgs[0][1]
            assert ticket["number"] in msgs[0][1]
            wait_for(lambda: (hall.ctl.store.notice(ticket["id"]) or {}).get("ahead_state"), 10)
        finally:
            stop_bridge(proc)
            pty.close()
    out = log_path.read_text()
    assert proc.returncode == 0, out
    assert hall.ctl.store.notice(ticket["id"])["ahead_state"] == "sent"
    assert "SMS through the modem on" in out and MOBILE not in out
