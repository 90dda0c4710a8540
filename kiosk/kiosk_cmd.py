"""`onewindow kiosk`: options and start-up. Kivy is imported only when the kiosk runs."""

from __future__ import annotations

import argparse
import logging

from onewindow.apps import device_settings, size_arg
from onewindow.i18n import LANGS

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--size",
        type=size_arg,
        default=(1080, 1920),
        help="window WIDTHxHEIGHT: 1080x1920 portrait (default) or 1920x1080 landscape",
    )
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (production)")
    p.add_argument("--printer", help="ticket printer: serial port (/dev/ttyUSB0) or /dev/usb/lp0")
    p.add_argument(
        "--printer-baud", type=int, default=9600, help="printer baud rate (default 9600)"
    )
    p.add_argument("--idcard", help="ID card reader serial port (SAM module)")
    p.add_argument("--sscard", action="store_true", help="read social security cards over PC/SC")
    p.add_argument(
        "--simulate",
        action="store_true",
        help="in-process printer and ID card simulators on ptys, ticket PNG previews "
        "and a sample ID card button (demos)",
    )
    p.add_argument(
        "--preview-dir",
        help="where --simulate saves each printed ticket as PNG (default data/kiosk-previews)",
    )
    p.add_argument(
        "--idle",
        type=float,
        default=60.0,
        help="seconds without a touch before the kiosk returns home and forgets the citizen",
    )
    p.add_argument(
        "--lang",
        choices=LANGS,
        default="zh",
        help="starting language: zh, bo (Tibetan) or en; the button cycles through the hall's "
        "[hall] languages",
    )
    p.add_argument("--place", help="where this kiosk stands, for help requests (default: its id)")
    p.add_argument(
        "--form-printer",
        metavar="QUEUE",
        help="the CUPS queue of this kiosk's own A4 printer: a 一表申请 form is printed as soon "
        "as the citizen confirms it (lpstat -p lists the queues); without it the window prints it",
    )
    p.add_argument(
        "--cups-server",
        metavar="HOST[:PORT]",
        help="the CUPS server of --form-printer (default: this computer's)",
    )
    p.add_argument(
        "--pinyin",
        action="store_true",
        help="type the form's Chinese text fields with the session's input method (fcitx5 "
        "pinyin) on an on-screen letter pad; without it they are written by hand on the paper",
    )
    p.add_argument(
        "--config-cache",
        metavar="FILE",
        help="keep the hall's last good configuration here, so that a kiosk started "
        "while the controller is down still shows guides, themes and hours",
    )


def main(args) -> int:
    settings = device_settings(args)
    if args.sscard:
        from onewindow.extras import require

        require("smartcard")  # before the screen opens, not in the middle of it
    if args.cups_server and not args.form_printer:
        raise SystemExit(
            "onewindow kiosk: --cups-server is the server of --form-printer: give the queue too"
        )
    if args.pinyin:
        import os

        from .pinyin import problem

        wrong = problem()
        if wrong:
            raise SystemExit(f"onewindow kiosk: {wrong}")
        # SDL's input method bridge: set before SDL starts (Debian's im-config sets it too)
        os.environ.setdefault("SDL_IM_MODULE", "fcitx")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from onewindow.uikit import setup_kivy

    width, height = args.size
    setup_kivy(width, height, args.fullscreen, title="OneWindow 自助服务")
    from .app import KioskApp

    KioskApp(settings, args).run()
    return 0
