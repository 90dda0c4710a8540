"""`onewindow`: one console command, a subcommand per program of the hall."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .configreader import ConfigError
from .roles import ROLES

DEFAULT_DATA_DIR = "data"
DEFAULT_BUS = "embedded://127.0.0.1:1883"


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="the hall file (TOML); default: /etc/onewindow/hall.toml")


def _hall_file(args) -> Path:
    """--config, else /etc/onewindow/hall.toml, else ConfigError saying how to give one."""
    from .hallconfig import resolve_config

    args.config = str(resolve_config(args.config))
    return Path(args.config)


def _data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        help="database, device registry and keys (default: ./data)",
    )


def cmd_hall(args) -> int:
    from .bus.devices import DeviceRegistry, controller_secret
    from .bus.mosquitto import BrokerError, TlsListen, check_plain_listener
    from .bus.service import BusUnreachable, HallService
    from .bus.url import BusUrlError, parse_bus_url
    from .startup import open_hall

    try:
        url = parse_bus_url(args.mqtt)
        tls = TlsListen.parse(args.tls_listen) if args.tls_listen else None
        uplink = _uplink(args)
        if uplink and not url.embedded:
            raise BusUrlError(
                "--uplink configures the hall's private broker (embedded://); for "
                "an external Mosquitto use `broker-config --uplink`"
            )
        if url.embedded:
            check_plain_listener(url.host, url.port)
    except (BusUrlError, BrokerError) as exc:
        print(f"onewindow hall: {exc}", file=sys.stderr)
        return 2
    if tls and not url.embedded:
        print(
            "onewindow hall: --tls-listen configures the hall's private broker (embedded://); "
            "for an external Mosquitto use `broker-config --tls-port`",
            file=sys.stderr,
        )
        return 2
    ctl = open_hall(_hall_file(args), args.data_dir, test_mode=args.test_mode)
    service = HallService(
        ctl,
        url,
        DeviceRegistry(args.data_dir),
        controller_secret(args.data_dir),
        tls_listen=tls,
        uplink=uplink,
    )
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        service.start()
    except (BrokerError, OSError) as exc:
        print(f"onewindow hall: cannot start the bus: {exc}", file=sys.stderr)
        ctl.store.close()
        return 3
    except BusUnreachable as exc:
        print(f"onewindow hall: {exc}", file=sys.stderr)
        return 4
    print(
        f"OneWindow hall {ctl.hall.id} ({ctl.hall.name}) on {url.scheme}://{url.host}:{service.port}"
        + (
            "  ** TEST MODE: open around the clock (staff still open their windows); tickets "
            "marked 测试, kept apart and deleted at the next start; console changes are not kept **"
            if args.test_mode
            else ""
        ),
        flush=True,
    )
    if tls:
        print(
            f'devices on the LAN: "mqtt": "mqtts://{tls.host}:{tls.port}?ca=/etc/onewindow/ca.crt" '
            f"after copying {service.broker.ca_path} to each device as /etc/onewindow/ca.crt "
            f"(never ca.key)",
            flush=True,
        )
    from .hallconfig import warnings

    for line in warnings(ctl.hall, ctl.raw):
        logging.getLogger("onewindow.hall").warning("%s", line)
    while not stopping.wait(0.5) and service.failure is None:
        pass
    if service.failure is not None:
        service.stop()
        print(f"onewindow hall: {service.failure}", file=sys.stderr)
        return 4
    service.stop()
    print("OneWindow hall stopped", flush=True)
    return 0


def _unknown_windows(args) -> list[int]:
    """Windows named for a device that the hall file does not have (a typo binds it to nothing)."""
    if not args.window:
        return []
    hall = _data_dir_hall(args)
    return [n for n in args.window if hall.window(n) is None]


def _data_dir_hall(args):
    """The hall a data dir serves: its live settings once a hall has run there (windows added on
    the console included), else the hall file. For devices and the broker's ACL."""
    from .hallconfig import load_file, parse
    from .startup import DB_FILE
    from .store import saved_settings

    args.data_dir = args.data_dir or DEFAULT_DATA_DIR
    raw = saved_settings(Path(args.data_dir) / DB_FILE)
    if raw is None:
        return load_file(_hall_file(args))[0]
    hall = parse(raw, f"{args.data_dir}/{DB_FILE}")
    if args.config:
        given = load_file(args.config)[0]
        if given.id != hall.id:
            raise ConfigError(
                [
                    f"{args.config} is hall '{given.id}', but {args.data_dir} belongs "
                    f"to hall '{hall.id}'; nothing added"
                ]
            )
    return hall


def _device_json(entry, secret: str, hall) -> str:
    import json

    out = {"id": entry.id, "role": entry.role, "windows": entry.windows, "secret": secret}
    if hall:  # a device config needs it
        out["hall"] = hall
    return json.dumps(out, ensure_ascii=False)


def _known_hall(args):
    """The hall a device is added for: the data dir's once a hall ran there, else the hall
    file's (--config, or the system's), else None."""
    from .hallconfig import SYSTEM_CONFIG, load_file
    from .startup import DB_FILE
    from .store import saved_hall_id

    hall = saved_hall_id(Path(args.data_dir) / DB_FILE)
    if hall:
        return hall
    path = args.config or (SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else None)
    return load_file(path)[0].id if path else None


def _where(args, hall) -> str:
    """Which data dir took a device, said on stderr: the hall reads the devices of its own
    --data-dir only (default ./data, relative to where a command runs), and a device registered
    where no hall has run, without a hall file, was checked against no hall."""
    where = Path(args.data_dir).resolve()
    if hall:
        return f"registered in {where} (hall '{hall}')"
    return (
        f"registered in {where}: no hall has run there and no hall file was given (--config), "
        f"so nothing was checked against a hall; start the hall with --data-dir {where}"
    )


def cmd_devices(args) -> int:
    from .bus.devices import DeviceError, DeviceRegistry

    reg = DeviceRegistry(args.data_dir)
    try:
        if args.action == "add":
            unknown = _unknown_windows(args)
            if unknown:
                print(
                    f"onewindow devices: the hall has no window {', '.join(map(str, unknown))} "
                    f"(see {args.config}); nothing added",
                    file=sys.stderr,
                )
                return 2
            hall = _known_hall(args)  # before adding: a broken hall file adds nothing
            secret = reg.add(args.id, args.role, args.window, args.secret)
            print(_where(args, hall), file=sys.stderr)
            if args.json:  # provisioning scripts: this one object, nothing else
                print(_device_json(reg.get(args.id), secret, hall))
                return 0
            print(
                f"added {args.id} ({args.role}{' windows ' + ','.join(map(str, args.window)) if args.window else ''})"
            )
            print(f"secret: {secret}")
            print("keep it: it is shown only now (only its hash is stored)")
        elif args.action == "list":
            for e in reg.list():
                windows = ",".join(map(str, e.windows)) or "-"
                print(f"{e.id:24} {e.role:8} windows {windows}")
        elif args.action == "remove":
            reg.remove(args.id)
            print(f"removed {args.id}")
        else:
            from .devices_cli import run_hardware_command

            return run_hardware_command(args)
    except DeviceError as exc:
        print(f"onewindow devices: {exc}", file=sys.stderr)
        return 2
    return 0


def _uplink_args(p) -> None:
    p.add_argument(
        "--uplink",
        metavar="mqtts://CENTRAL:8883",
        help="bridge the hall's events to the city's central broker (docs/city.md)",
    )
    p.add_argument("--uplink-ca", help="the city CA certificate (ca.crt from `city-broker`)")
    p.add_argument("--uplink-cert", help="this hall's client certificate (HALL.crt)")
    p.add_argument("--uplink-key", help="this hall's client key (HALL.key)")
    p.add_argument(
        "--uplink-queue",
        type=int,
        default=100_000,
        help="messages the bridge queues while the city is unreachable",
    )


def _uplink(args):
    if not getattr(args, "uplink", None):
        return None
    from .bus.bridge import Uplink

    return Uplink.from_args(
        args.uplink, args.uplink_ca, args.uplink_cert, args.uplink_key, args.uplink_queue
    )


def cmd_broker_config(args) -> int:
    from .bus.acl import mosquitto_files
    from .bus.devices import DeviceRegistry, controller_secret, hash_secret
    from .bus.topics import Topics

    hall = _data_dir_hall(args)
    reg = DeviceRegistry(args.data_dir)
    out = Path(args.out).resolve()
    tls = None
    if args.tls_port:
        from .bus.tls import TlsError, make_hall_certs

        try:
            certs = make_hall_certs(out / "tls", [args.tls_host])
        except TlsError as exc:
            print(f"onewindow broker-config: {exc}", file=sys.stderr)
            return 3
        tls = {"port": args.tls_port, "host": args.tls_host, **certs}
    from .bus.url import BusUrlError

    try:
        uplink = _uplink(args)
    except BusUrlError as exc:
        print(f"onewindow broker-config: {exc}", file=sys.stderr)
        return 2
    files = mosquitto_files(
        Topics(hall.id),
        reg.list(),
        hash_secret(controller_secret(args.data_dir)),
        out,
        port=args.port,
        host=args.host,
        tls=tls,
        uplink=uplink,
    )
    for f in files:
        print(f"wrote {f}")
    if tls:
        print(
            f"devices connect with --mqtt 'mqtts://{args.tls_host}:{args.tls_port}?ca=CA' "
            f"after copying {tls['ca']} to them as CA (never ca.key)"
        )
    if uplink:
        print(
            f"bridged to the city at {uplink.url.host}:{uplink.url.port}: ow/{hall.id}/up/# out, "
            f"ow/{hall.id}/ack and ow/{hall.id}/down/appointments in (docs/city.md)"
        )
    print("start Mosquitto with: mosquitto -c", files[-1])
    return 0


def cmd_config(args) -> int:
    from .hallconfig import dump, load_file

    if args.action == "check":
        from .hallconfig import translation_lines, warnings
        from .startup import check_with_live_settings

        hall, raw = load_file(_hall_file(args))
        conflicts = check_with_live_settings(args.config, args.data_dir) if args.data_dir else []
        print(
            f"{args.config}: OK ({_count(hall.services, 'service')}, "
            f"{_count(hall.themes, 'theme')}, {_count(hall.windows, 'window')})"
            + (f", fits the live settings in {args.data_dir}" if args.data_dir else "")
        )
        for line in translation_lines(raw):
            print(f"  languages: {line}")
        for line in warnings(hall, raw):
            print(f"  warning: {line}")
        for option in conflicts:
            print(
                f"  warning: {option} was changed both in this file and on the manager "
                f"console: the file's value will be used"
            )
        return 0
    # read-only, without the controller's lock: works while the hall runs
    from .startup import DB_FILE
    from .store import saved_settings

    raw = saved_settings(Path(args.data_dir) / DB_FILE)
    if raw is None:
        print(
            f"onewindow config export: no hall has run on {args.data_dir} yet (its settings "
            f"are the hall file's until then)",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(dump(raw))
    return 0


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="onewindow", description="OneWindow (一窗): government service hall queueing"
    )
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    sub = p.add_subparsers(dest="command", required=True)

    h = sub.add_parser("hall", help="run the hall controller")
    _config_arg(h)
    _data_arg(h)
    h.add_argument(
        "--mqtt",
        default=DEFAULT_BUS,
        help="embedded://127.0.0.1:PORT (default: a private Mosquitto started and watched "
        "by the hall) or mqtt[s]://HOST:PORT (an external Mosquitto set up with "
        "broker-config)",
    )
    h.add_argument(
        "--test-mode",
        action="store_true",
        help="commissioning: the hall and every service open around the clock (staff still "
        "open their windows), every screen and ticket marked 测试/TEST, test tickets and "
        "console changes kept apart and deleted at the next start",
    )
    h.add_argument(
        "--tls-listen",
        metavar="ADDRESS:PORT",
        help="with embedded://: also serve devices on the LAN over TLS at this address "
        "(e.g. 192.168.1.10:8883), with the hall's CA made in DATA_DIR/mosquitto/tls",
    )
    _uplink_args(h)
    h.set_defaults(func=cmd_hall)

    d = sub.add_parser("devices", help="device identities (and hardware commissioning)")
    _data_arg(d)
    dsub = d.add_subparsers(dest="action", required=True)
    # --data-dir is also accepted after the action (`devices add x --data-dir D`), where
    # installers type it; SUPPRESS keeps an absent one from overriding `devices --data-dir D add`
    here = argparse.ArgumentParser(add_help=False)
    here.add_argument("--data-dir", default=argparse.SUPPRESS, help="as above")
    add = dsub.add_parser("add", help="register a device; prints its secret", parents=[here])
    add.add_argument("id")
    add.add_argument(
        "--role",
        required=True,
        choices=ROLES,
    )
    add.add_argument(
        "--window",
        type=int,
        action="append",
        default=[],
        help="window number (callers and rating pads; repeat for a bridge)",
    )
    add.add_argument("--secret", help="use this secret instead of a random one")
    add.add_argument(
        "--json",
        action="store_true",
        help="print only one JSON object (id, role, "
        "windows, secret, and hall once a hall ran on the data dir), for scripts",
    )
    _config_arg(add)
    dsub.add_parser("list", help="list devices", parents=[here])
    rm = dsub.add_parser("remove", help="remove a device", parents=[here])
    rm.add_argument("id")
    from .devices_cli import add_parsers

    add_parsers(dsub)
    d.set_defaults(func=cmd_devices)

    b = sub.add_parser("broker-config", help="write Mosquitto passwd, acl and conf for this hall")
    _config_arg(b)
    _data_arg(b)
    b.add_argument("--out", default="data/mosquitto")
    b.add_argument("--port", type=int, default=1883)
    b.add_argument(
        "--host",
        default="127.0.0.1",
        help="plain listener (keep it on 127.0.0.1 for the controller when using TLS)",
    )
    b.add_argument(
        "--tls-port",
        type=int,
        help="also a TLS listener for the devices (e.g. 8883), "
        "with the hall's own CA made in OUT/tls",
    )
    b.add_argument(
        "--tls-host",
        default="127.0.0.1",
        help="address of the TLS listener (the "
        "controller's LAN address); also the name in the broker's certificate",
    )
    _uplink_args(b)
    b.set_defaults(func=cmd_broker_config)

    c = sub.add_parser("config", help="check the hall file, or export the live settings as TOML")
    c.add_argument("action", choices=("check", "export"))
    _config_arg(c)
    c.add_argument(
        "--data-dir",
        help="check: also that the file fits the managers' changes kept "
        "there (what the hall would do at start); export: the hall's data dir "
        "(default ./data)",
    )
    c.set_defaults(func=cmd_config)

    from .backup import add_parsers as add_backup_parsers

    add_backup_parsers(sub)
    from .managerpin import register as register_pin

    register_pin(sub, _data_arg)
    from .ratingexport import register as register_ratings

    register_ratings(sub, _data_arg)
    from .planning import register as register_plan

    register_plan(sub, _data_arg)
    from .apps import register_apps

    register_apps(sub)
    from .entranceqr import register as register_entrance

    register_entrance(sub, _data_arg, _config_arg, _data_dir_hall)
    from .appointments_cli import register as register_appointments

    register_appointments(sub)
    from .citycli import register as register_city

    register_city(sub)
    return p


def main(argv=None) -> int:
    from .store import StoreError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args) or 0
    except ConfigError as exc:
        done = {"hall": "; nothing was started", "config": ""}.get(
            args.command, "; nothing was changed"
        )
        print(f"onewindow: the hall configuration has problems{done}:", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except StoreError as exc:
        print(f"onewindow: {exc}", file=sys.stderr)
        return 3
    except BrokenPipeError:  # `| head`: the reader has gone; say nothing more, as other tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a tool killed by the pipe gives
    except OSError as exc:  # a data dir that is a file, read-only, or on a full disk
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"onewindow: {exc.strerror or exc}{where}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
