"""A missing optional extra (Kivy, pyscard) ends a command with one line naming what to install,
never a traceback. The extra is made unimportable in the child process, as on a box without it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from busutil import REPO

# runs `onewindow ARGS` with the named top-level modules unimportable
BLOCKED_RUN = """
import sys
blocked = set(sys.argv[1].split(","))

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from onewindow.cli import main
sys.exit(main(sys.argv[2:]))
"""
DEVICE = ["--device", "x-1", "--secret", "s", "--hall", "demo-county"]


def run_without(modules: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, modules, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_devices_test_sscard_without_pyscard_names_what_to_install():
    out = run_without("smartcard", "devices", "test", "sscard")
    assert out.returncode == 1 and out.stdout == ""
    line = one_line(out.stderr)
    assert "pyscard" in line and "onewindow[pcsc]" in line and "libpcsclite-dev" in line


@pytest.mark.parametrize(
    "app,extra", [("kiosk", []), ("display", []), ("caller", ["--window", "3"]), ("manager", [])]
)
def test_screens_without_kivy_name_what_to_install(app, extra):
    out = run_without("kivy", app, *DEVICE, *extra)
    assert out.returncode == 1
    line = one_line(out.stderr)
    assert "Kivy" in line and "onewindow[ui]" in line


def test_kiosk_with_sscard_without_pyscard_says_so_before_opening_a_screen():
    out = run_without("smartcard,kivy", "kiosk", *DEVICE, "--sscard")
    assert out.returncode == 1
    line = one_line(out.stderr)
    assert "pyscard" in line and "Kivy" not in line
