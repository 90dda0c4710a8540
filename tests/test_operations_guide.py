"""docs/operations.md, run: every command of its Backup, Restore, Upgrade, Manager PIN, Replacing a
broken kiosk and hall-file sections, in order, on a controller box laid out in a temp dir, with the
hall started as its systemd unit starts it."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from busutil import REPO, unlimited_config, wait_for
from onewindow.bus.client import DeviceClient
from onewindow.bus.devices import DeviceRegistry
from onewindow.bus.tls import make_hall_certs

GUIDE = REPO / "docs" / "operations.md"
HALL_UNIT = REPO / "systemd" / "onewindow-hall.service"
BACKUP_UNIT = REPO / "systemd" / "onewindow-backup.service"
HALL_ID = "demo-county"
# what the test does not run, and why; any other line of the guide is run
NOT_RUN = {
    "install": "the onewindow user does not exist here; backup makes its --out directory itself",
    "chown": "the onewindow user does not exist here: the test runs everything as one user",
    "cp": "no systemd here: test_the_backup_unit_writes_a_weekday_archive runs the unit's command",
    "cd": "git pull / checkout and setup.sh: the code under test is this checkout",
    "apt": "the package is not built here: the code under test is this checkout "
    "(scripts/test-deb-clean-root installs, upgrades and purges the real package)",
}
SYSTEMCTL_NOT_RUN = {"daemon-reload", "enable", "reload"}  # units, the timer, Mosquitto: not here


def sh_blocks(section: str) -> list[list[str]]:
    text = GUIDE.read_text(encoding="utf-8")
    part = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [
        [line.strip() for line in block.splitlines() if line.strip()]
        for block in re.findall(r"```sh\n(.*?)```", part, re.S)
    ]


def unit_line(unit: Path, key: str) -> str:
    return next(
        line.split("=", 1)[1]
        for line in unit.read_text().splitlines()
        if line.startswith(f"{key}=")
    )


class Box:
    """The guide's controller box under a temp dir: its paths, and systemctl / journalctl for
    onewindow-hall (the unit's own command lines, with its private broker)."""

    def __init__(self, tmp: Path, config: Path):
        self.tmp = tmp
        self.data = tmp / "var" / "lib" / "onewindow"
        self.paths = {
            "/opt/onewindow/.venv/bin/onewindow": f"{shlex.quote(sys.executable)} -m onewindow.cli",
            "/var/lib/onewindow": str(self.data),
            "/var/backups/onewindow": str(tmp / "var" / "backups" / "onewindow"),
            "/etc/mosquitto/onewindow": str(tmp / "etc" / "mosquitto" / "onewindow"),
            "/etc/onewindow/hall.toml": str(config),
        }
        self.hall: subprocess.Popen | None = None
        self.journal: list[str] = []
        self.port = None

    def local(self, line: str) -> str:
        for path in sorted(self.paths, key=len, reverse=True):
            line = line.replace(path, self.paths[path])
        return line

    def run(self, line: str) -> str:
        cmd = re.sub(r"(^|\| )sudo (-u onewindow )?", r"\1", line)
        program = cmd.split()[0]
        if program == "systemctl":
            return self.systemctl(*cmd.split()[1:])
        if program == "journalctl":
            pattern = cmd.split("| grep ", 1)[1].strip("'\"")
            assert any(pattern in entry for entry in self.journal), (line, self.journal)
            return pattern
        if program in NOT_RUN:
            return ""
        out = subprocess.run(
            ["bash", "-c", self.local(cmd)], capture_output=True, text=True, timeout=120, cwd=REPO
        )
        assert out.returncode == 0, (line, out.stdout, out.stderr)
        return out.stdout

    def run_block(self, block: list[str]) -> list[str]:
        return [self.run(line) for line in block]

    def systemctl(self, action: str, *units: str) -> str:
        if action in SYSTEMCTL_NOT_RUN:
            return ""
        assert units == ("onewindow-hall",), units
        if action in ("stop", "restart"):
            self.stop_hall()
        if action in ("start", "restart"):
            self.start_hall()
        return ""

    def start_hall(self) -> None:
        pre = subprocess.run(
            ["bash", "-c", self.local(unit_line(HALL_UNIT, "ExecStartPre"))],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
        assert pre.returncode == 0, pre.stderr
        # the unit's own line, its private broker on a free port (1883 is this machine's own)
        start = self.local(unit_line(HALL_UNIT, "ExecStart")).replace(
            "--mqtt embedded://127.0.0.1:1883", "--mqtt embedded://127.0.0.1:0"
        )
        assert "embedded://127.0.0.1:0" in start, start
        self.hall = subprocess.Popen(
            ["bash", "-c", f"exec {start}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        seen = len(self.journal)
        threading.Thread(target=self._read, args=(self.hall,), daemon=True).start()
        up = wait_for(
            lambda: (
                [e for e in self.journal[seen:] if e.startswith("OneWindow hall ") and " on " in e]
                or self.hall.poll() is not None
            ),
            timeout=30,
        )
        assert self.hall.poll() is None, self.journal
        self.port = int(up[-1].rsplit(":", 1)[1])

    def _read(self, proc: subprocess.Popen) -> None:
        for entry in proc.stdout:
            self.journal.append(entry.rstrip("\n"))

    def stop_hall(self) -> None:
        if self.hall is not None:
            self.hall.send_signal(signal.SIGTERM)
            assert self.hall.wait(20) == 0, self.journal
            self.hall.stdout.close()
            self.hall = None

    def kiosk(self, secret: str) -> DeviceClient:
        kiosk = DeviceClient(f"mqtt://127.0.0.1:{self.port}", "kiosk-1", secret, HALL_ID).start(
            wait=5
        )
        wait_for(lambda: kiosk.controller_online, timeout=15)
        return kiosk


@pytest.fixture
def box(tmp_path):
    b = Box(tmp_path, unlimited_config(tmp_path))
    yield b
    b.stop_hall()


def issue(box: Box, secret: str, n: int) -> list[str]:
    kiosk = box.kiosk(secret)
    try:
        return [
            kiosk.request("ticket.issue", {"service": "A"})["ticket"]["number"] for _ in range(n)
        ]
    finally:
        kiosk.stop()


def test_backup_then_restore_as_the_guide_says(box):
    secret = DeviceRegistry(box.data).add("kiosk-1", "kiosk")
    make_hall_certs(Path(box.paths["/etc/mosquitto/onewindow"]) / "tls", ["127.0.0.1"])
    box.systemctl("start", "onewindow-hall")
    assert issue(box, secret, 3) == ["A001", "A002", "A003"]

    manual, with_tls, timer = sh_blocks("Backup")
    listing = box.run_block(manual)[-1]  # while the hall runs
    for name in ("manifest.json", "hall.db", "citizen.key", "controller.secret", "devices.json"):
        assert f" {name}\n" in listing
    box.run_block(with_tls)
    archive = Path(box.paths["/var/backups/onewindow"]) / f"hall-{date.today():%Y-%m-%d}.tar.gz"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    box.run_block(timer)
    assert issue(box, secret, 1) == ["A004"]  # after the backup: not in it

    (restore,) = sh_blocks("Restore")
    restore = [line.replace("hall-2026-11-23.tar.gz", archive.name) for line in restore]
    box.run_block(restore)
    assert (box.data / "mosquitto" / "tls" / "ca.key").exists()
    assert (box.data.parent / "onewindow.broken" / "citizen.key").read_bytes() == (
        box.data / "citizen.key"
    ).read_bytes()
    assert issue(box, secret, 1) == ["A004"]  # the backup's numbering, serving on


def test_upgrade_and_going_back_as_the_guide_says(box):
    box.data.mkdir(parents=True)
    shutil.copyfile(REPO / "tests" / "fixtures" / "release1-hall.db", box.data / "hall.db")
    secret = DeviceRegistry(box.data).add("kiosk-1", "kiosk")

    upgrade, going_back = sh_blocks("Upgrade")
    out = box.run_block(upgrade)
    assert "schema 1" in out[0]  # the backup before the upgrade
    assert ".bak" in out[-1]
    assert issue(box, secret, 1)  # the upgraded hall serves

    out = box.run_block(going_back)
    restored = next(o for o in out if o.startswith("restored"))
    assert "schema 1" in restored  # the database as it was before
    assert (box.data.parent / "onewindow.upgraded" / "hall.db").exists()


def test_the_backup_unit_writes_a_weekday_archive(tmp_path):
    box = Box(tmp_path, unlimited_config(tmp_path))
    DeviceRegistry(box.data).add("kiosk-1", "kiosk")
    box.start_hall()
    try:
        command = unit_line(BACKUP_UNIT, "ExecStart").replace("%%", "%").replace("$$", "$")
        out = subprocess.run(
            shlex.split(box.local(command)), capture_output=True, text=True, timeout=120, cwd=REPO
        )
    finally:
        box.stop_hall()
    assert out.returncode == 0, out.stderr
    weekday = subprocess.run(["date", "+%a"], capture_output=True, text=True).stdout.strip()
    archive = Path(box.paths["/var/backups/onewindow"]) / f"hall-{weekday}.tar.gz"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600


def test_pin_kiosk_replacement_and_live_settings_as_the_guide_says(box):
    import json

    from onewindow.managerpin import check

    old_secret = DeviceRegistry(box.data).add("kiosk-1", "kiosk")
    box.systemctl("start", "onewindow-hall")
    assert issue(box, old_secret, 1) == ["A001"]

    (pin,) = sh_blocks("Manager PIN")
    interactive, scripted = pin  # the first asks on a terminal
    assert scripted.startswith("echo 246810 | ") and "--stdin" in scripted
    box.run(scripted)
    assert check(box.data, "246810") is True

    (replace,) = sh_blocks("Replacing a broken kiosk")
    out = box.run_block(replace)
    new_secret = json.loads(out[-1])["secret"]
    assert issue(box, new_secret, 1) == ["A002"]  # no restart: the new box is let in
    stale = DeviceClient(f"mqtt://127.0.0.1:{box.port}", "kiosk-1", old_secret, HALL_ID).start(
        wait=2
    )
    try:
        assert not stale.connected.is_set() and stale.refused
    finally:
        stale.stop()

    (live,) = sh_blocks("The hall file and the console's changes")
    exported, checked = box.run_block(
        [line.replace("/tmp/live.toml", str(box.tmp / "live.toml")) for line in live]
    )
    assert "OK" in checked and (box.tmp / "live.toml").read_text(encoding="utf-8").startswith(
        "[hall]"
    )
