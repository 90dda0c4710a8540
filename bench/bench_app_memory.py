"""Idle memory of each Kivy app: the kiosk, the hall display, a window caller and the manager
console, each as its own process (the command a hall runs) against a real hall, on a virtual
screen (Xvfb) of the app's default size. The kiosk has its ticket printer and ID card reader, as
simulators on ptys. An app is idle once it has run --settle seconds and its resident size has
moved by less than 1 MB over the last 5 s.

Printed per app, from /proc/PID/status: VmRSS (the target), and its parts: RssAnon (what the
process allocated: Python objects, textures, font faces) and RssFile + RssShmem (pages of
shared libraries and the X shared-memory image; under Xvfb these include ~54 MB of libLLVM that
Mesa's software renderer runs). "fonts" counts the font faces the app holds open (~2.5 MB each).
The first line is the floor: an empty Kivy window (one label) of the kiosk's size, set up like
every app (onewindow.uikit.setup_kivy), measured the same way.

Usage: .venv/bin/python bench/bench_app_memory.py [--apps kiosk,display,caller,manager]
       [--settle 20]
Target (issue 13): the kiosk under 150 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from busutil import Hall, unlimited_config  # noqa: E402
from drivers.idcard_sim import IdCardSimulator  # noqa: E402
from drivers.printer_sim import PrinterSimulator  # noqa: E402
from drivers.ptysim import PtyDevice  # noqa: E402
from kivyutil import Screen  # noqa: E402

KIOSK_TARGET_MB = 150
STABLE_S = 5.0  # idle: VmRSS within STABLE_MB over this long
STABLE_MB = 1.0
SAMPLE_S = 0.5
FONT_SUFFIXES = (".ttc", ".otf", ".ttf")

# an empty app: what Kivy, Python and the renderer cost before any screen of ours
FLOOR_APP = """
import sys
from onewindow.uikit import setup_kivy
setup_kivy(int(sys.argv[1]), int(sys.argv[2]))
from kivy.app import App
from kivy.uix.label import Label
App.build = lambda self: Label(text="一窗 OneWindow")
App().run()
"""

# app -> (device id, role, windows, screen size, extra arguments)
APPS = {
    "kiosk": (
        "kiosk-1",
        "kiosk",
        (),
        (1080, 1920),
        ["--printer", "{tmp}/printer", "--idcard", "{tmp}/idcard"],
    ),
    "display": ("display-1", "display", (), (1920, 1080), ["--voice", "none"]),
    "caller": ("caller-3", "caller", (3,), (1024, 600), ["--window", "3"]),
    "manager": ("manager-1", "manager", (), (1280, 800), []),
}


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon, RssFile, RssShmem of one process, in MB (the kernel reports kB)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def fonts_open(pid: int) -> int:
    """Font faces the process holds: SDL_ttf keeps each face's file open."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).endswith(FONT_SUFFIXES)
        except OSError:
            continue  # closed while we looked
    return count


def idle_memory(proc: subprocess.Popen, settle: float, timeout: float) -> tuple[dict, float]:
    """(the /proc figures once the process has settled, peak VmRSS) in MB."""
    started = time.monotonic()
    samples: list[tuple[float, float]] = []
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited ({proc.returncode})")
        now, figures = time.monotonic(), status_mb(proc.pid)
        samples.append((now, figures["VmRSS"]))
        recent = [m for t, m in samples if t >= now - STABLE_S]
        if (
            now - started >= settle
            and samples[0][0] <= now - STABLE_S
            and max(recent) - min(recent) < STABLE_MB
        ):
            return figures, max(m for _, m in samples)
        time.sleep(SAMPLE_S)
    raise RuntimeError(f"VmRSS did not settle in {timeout:.0f} s (last {samples[-1][1]:.0f} MB)")


def app_command(hall: Hall, name: str, tmp: Path) -> list[str]:
    if name == "floor":
        return [sys.executable, "-c", FLOOR_APP, *map(str, APPS["kiosk"][3])]
    device, _role, _windows, _size, extra = APPS[name]
    return [
        sys.executable,
        "-m",
        "onewindow.cli",
        "--log-level",
        "WARNING",
        name,
        "--mqtt",
        hall.url,
        "--device",
        device,
        "--secret",
        hall.secrets[device],
        "--hall",
        hall.hall_id,
        *(a.format(tmp=tmp) for a in extra),
    ]


def measure(hall: Hall, name: str, tmp: Path, settle: float) -> tuple[dict, float, int]:
    width, height = APPS["kiosk" if name == "floor" else name][3]
    screen = Screen(width, height)
    log = open(tmp / f"{name}.log", "wb")
    args = app_command(hall, name, tmp)
    proc = subprocess.Popen(args, cwd=REPO, env=screen.env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        figures, peak = idle_memory(proc, settle, timeout=settle + 60)
        return figures, peak, fonts_open(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        screen.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", default=",".join(APPS), help="which apps, comma separated")
    ap.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="seconds an app runs before it may count as idle (default 20)",
    )
    args = ap.parse_args()
    names = [n.strip() for n in args.apps.split(",") if n.strip()]
    unknown = sorted(set(names) - set(APPS))
    if unknown:
        ap.error(f"unknown app(s) {', '.join(unknown)}: choose from {', '.join(APPS)}")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        hall = Hall(tmp, "embedded", config=unlimited_config(tmp))
        for name in names:
            device, role, windows, _size, _extra = APPS[name]
            hall.add(device, role, windows)
        hall.start()
        devices = [
            PtyDevice(PrinterSimulator(), tmp / "printer"),
            PtyDevice(IdCardSimulator(), tmp / "idcard"),
        ]
        try:
            print(
                f"idle memory, each app its own process under Xvfb, after {args.settle:.0f} s "
                f"and {STABLE_S:.0f} s without change (MB):"
            )
            for name in ["floor", *names]:
                m, peak, fonts = measure(hall, name, tmp, args.settle)
                verdict = ""
                if name == "kiosk":
                    verdict = (
                        "OK"
                        if m["VmRSS"] < KIOSK_TARGET_MB
                        else f"over the {KIOSK_TARGET_MB} MB target"
                    )
                print(
                    f"  {name:8} VmRSS {m['VmRSS']:6.1f}  (anon {m['RssAnon']:5.1f}, "
                    f"files {m['RssFile'] + m['RssShmem']:5.1f})  peak {peak:6.1f}  "
                    f"fonts {fonts:2d}  {verdict}".rstrip()
                )
        finally:
            for dev in devices:
                dev.close()
            hall.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
