"""`onewindow caller --window N`: the window staff's touch terminal (Kivy is imported only in main)."""

from __future__ import annotations

import argparse

from onewindow.apps import device_settings, size_arg

DEFAULT_SIZE = (1024, 600)  # the common 7-10" touch screen beside a window


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--window",
        type=int,
        required=True,
        help="the window this terminal calls for (the device must be registered for it)",
    )
    p.add_argument(
        "--size",
        type=size_arg,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="window size (default 1024x600)",
    )
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (production)")
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="starting language (default zh)"
    )
    p.add_argument(
        "--printer",
        help="the window's receipt printer (serial port or /dev/usb/lpN) "
        "for the 容缺受理告知单; without it the notice is not printed",
    )
    p.add_argument("--printer-baud", type=int, default=9600)
    p.add_argument(
        "--form-printer",
        metavar="QUEUE",
        help="the CUPS queue of the window's A4 printer for the 一表申请 forms (lpstat -p lists "
        "them); without it forms are shown, not printed",
    )
    p.add_argument(
        "--cups-server",
        metavar="HOST:PORT",
        help="the CUPS server holding that queue (default: CUPS's own, usually this computer)",
    )
    p.add_argument(
        "--print-form-on-call",
        action="store_true",
        help="print the ticket's form as soon as it is called (else on the 打印申请表 button)",
    )


def main(args) -> int:
    settings = device_settings(args)
    from onewindow.uikit import setup_kivy

    setup_kivy(*args.size, fullscreen=args.fullscreen, title=f"OneWindow caller {args.window}")
    from .caller_app import CallerApp

    CallerApp(
        settings,
        args.window,
        lang=args.lang,
        printer=(args.printer, args.printer_baud) if args.printer else None,
        form_printer=args.form_printer,
        cups_server=args.cups_server,
        print_form_on_call=args.print_form_on_call,
    ).run()
    return 0
