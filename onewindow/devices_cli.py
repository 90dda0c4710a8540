"""`onewindow devices probe` and `devices test KIND`: commissioning a hall's hardware.

For the installer: what answers on which port, and one device exercised with what it saw.
Card fields are printed masked (张*三, ID number first 6 and last 4), as everywhere else.
"""

from __future__ import annotations

import argparse
import glob
import time

KINDS = ("printer", "idcard", "sscard", "keypad", "rating", "led", "modem")


def add_parsers(dsub) -> None:
    probe = dsub.add_parser(
        "probe", help="list serial ports and PC/SC readers and what answers on them"
    )
    probe.add_argument(
        "--port",
        action="append",
        default=[],
        help="also try this port (e.g. a symlink under /dev/serial/by-id)",
    )
    test = dsub.add_parser("test", help="exercise one device and print what it saw")
    test.add_argument("kind", choices=KINDS)
    test.add_argument("--port", help="serial port (not for sscard)")
    test.add_argument(
        "--baud", type=int, help="default: 115200 for idcard and modem, 9600 otherwise"
    )
    test.add_argument("--to", help="modem: also send a test SMS to this mobile number")
    test.add_argument("--addr", type=int, default=1, help="keypad, rating pad or LED address")
    test.add_argument("--reader", help="PC/SC reader name (sscard; default: the first)")
    test.add_argument("--seconds", type=float, default=10.0, help="how long to listen for keys")


def serial_ports(extra: list[str]) -> list[str]:
    ports = set(extra)
    try:
        from serial.tools import list_ports

        ports |= {p.device for p in list_ports.comports()}
    except ImportError:
        pass
    ports |= set(
        glob.glob("/dev/ttyUSB*") + glob.glob("/dev/ttyACM*") + glob.glob("/dev/ttyS[0-3]")
    )
    return sorted(ports)


def _what_answers(port: str) -> str:
    """Ask politely: a printer status query, then an ID card SAM status; keypads and LEDs stay quiet."""
    from drivers.idcard import IdCardError, IdCardReader
    from drivers.printer import SerialPrinter

    for baud in (9600, 115200):
        p = SerialPrinter(port, baud)
        try:
            st = p.status()
        finally:
            p.close()
        if st.reason != "offline":
            return f"ESC/POS printer at {baud} baud: {st.message_en} ({st.message})"
    r = IdCardReader(port, 115200, timeout=0.3, attempts=1)
    try:
        r.sam_status()
        return "ID card reader (SAM) at 115200 baud: ready"
    except IdCardError as exc:
        if exc.code not in ("offline", "timeout", "corrupt"):
            return f"ID card reader (SAM): {exc.message_en}"
    finally:
        r.close()
    return "no answer (a keypad, rating pad or LED strip only speaks when spoken to: use `devices test`)"


def probe(args) -> int:
    ports = serial_ports(args.port)
    print("Serial ports:")
    if not ports:
        print("  none found")
    for port in ports:
        print(f"  {port}: {_what_answers(port)}")
    print("PC/SC readers (social security cards):")
    try:
        from drivers.sscard import SocialSecurityReader, SSCardError

        try:
            readers = SocialSecurityReader().readers()
        except SSCardError as exc:
            readers = None
            print(f"  {exc.message_en}")
        for name in readers or []:
            present = SocialSecurityReader(name).card_present()
            print(f"  {name}: {'card present' if present else 'no card'}")
        if readers == []:
            print("  none found (is pcscd running?)")
    except ImportError:
        from .extras import install_hint

        print(f"  {install_hint('smartcard')}")
    return 0


def _print_fields(fields: dict) -> None:
    for k, v in fields.items():
        print(f"  {k}: {v}")


def test(args) -> int:
    kind = args.kind
    if kind != "sscard" and not args.port:
        print(f"onewindow devices test {kind}: --port is required")
        return 2
    baud = args.baud or (115200 if kind in ("idcard", "modem") else 9600)
    if kind == "printer":
        from drivers import escpos
        from drivers.printer import PrinterError, open_printer

        p = open_printer(args.port, baud)
        st = p.status()
        print(f"status: {st.message_en} ({st.message})")
        sample = {
            "number": "A001",
            "service_name": "打印测试 Printer test",
            "ahead": 0,
            "wait_text": "无需等候",
            "issued_at": time.strftime("%Y-%m-%dT%H:%M"),
            "status_url": "https://example.invalid/t/test",
            "citizen": "张*三",
        }
        job = escpos.ticket(sample, "OneWindow 一窗")
        try:
            p.print_job(job)
            print(f"printed a test ticket ({len(job)} bytes)")
        except PrinterError as exc:
            print(f"not printed: {exc}")
            return 1
        finally:
            p.close()
    elif kind == "idcard":
        from drivers.idcard import IdCardError, IdCardReader

        with IdCardReader(args.port, baud) as r:
            try:
                info = r.read_card()
            except IdCardError as exc:
                print(f"no card read: {exc.message_zh} ({exc.message_en})")
                return 1
        _print_fields(info.masked())
    elif kind == "sscard":
        from .extras import require

        require("smartcard")
        from drivers.sscard import SocialSecurityReader, SSCardError

        try:
            card = SocialSecurityReader(args.reader).read(timeout=args.seconds)
        except SSCardError as exc:
            print(f"no card read: {exc}")
            return 1
        _print_fields(card.masked())
    elif kind in ("keypad", "rating"):
        from drivers.keypad import KeypadBus

        bus = KeypadBus(args.port, baud)
        try:
            if kind == "keypad":
                bus.show(args.addr, 888, "888")
                bus.beep(args.addr)
                print(
                    f"keypad {args.addr}: showed 888888 and beeped; press keys for {args.seconds:.0f} s"
                )
            else:
                bus.start_rating(args.addr)
                print(
                    f"rating pad {args.addr}: asked for a rating; press a key within {args.seconds:.0f} s"
                )
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                for ev in bus.poll(0.2):
                    print(
                        f"  address {ev.addr}: {ev.action}{f' level {ev.level}' if ev.level else ''}"
                    )
        except Exception as exc:  # SerialLinkError and friends: say it, do not trace
            print(f"keypad line: {exc}")
            return 1
        finally:
            bus.link.close()
    elif kind == "modem":
        return _test_modem(args.port, baud, args.to)
    elif kind == "led":
        from drivers.led import FLASH, GbTextStrip, LedError

        strip = GbTextStrip(args.port, args.addr, baud)
        try:
            strip.show("请A001号到1号窗口", FLASH)
            print(f"LED {args.addr}: showing 请A001号到1号窗口")
        except LedError as exc:
            print(f"LED: {exc}")
            return 1
        finally:
            strip.close()
    return 0


def _test_modem(port: str, baud: int, to: str | None) -> int:
    from drivers.modem import GsmModem, ModemError

    from .domain.identity import mask_mobile

    modem = GsmModem(port, baud, attempts=1)
    try:
        st = modem.status()
        print(f"modem: SIM ready, registered, signal {st.signal} ({st.signal_dbm} dBm)")
        if to:
            n = modem.send(to, f"OneWindow 一窗 短信测试 SMS test {time.strftime('%H:%M')}")
            print(f"sent a test SMS ({n} part{'s' if n > 1 else ''}) to {mask_mobile(to)}")
    except ModemError as exc:
        print(f"modem: {exc.message_en} ({exc.message_zh})")
        return 1
    finally:
        modem.close()
    return 0


def run_hardware_command(args: argparse.Namespace) -> int:
    import logging

    # the ports are opened and closed many times: their state changes are noise here, the
    # lines this command prints are the answer
    logging.getLogger("drivers").setLevel(logging.WARNING)
    return probe(args) if args.action == "probe" else test(args)
