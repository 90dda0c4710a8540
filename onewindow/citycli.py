"""The city's commands: `city-broker` (the central Mosquitto and each hall's certificate), `city`
(the collector into PostgreSQL, and its dashboard), `city-user` (the dashboard's logins),
`city-export` (the provincial export of ratings), `city-purge` (the raw events' retention) and
`city-appointments push` (the provincial platform's bookings to their halls)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def cmd_city_broker(args) -> int:
    from .bus.central import central_files
    from .bus.tls import TlsError

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        made = central_files(
            out, args.tls_host, args.tls_port, args.hall, args.port, args.host, args.bind
        )
    except TlsError as exc:
        print(f"onewindow city-broker: {exc}", file=sys.stderr)
        return 3
    print(f"wrote {made['conf']} (start it with: mosquitto -c {made['conf']})")
    for hall_id in args.hall:
        print(
            f"hall {hall_id}: give it {made['ca']}, {out / 'tls' / hall_id}.crt and "
            f"{out / 'tls' / hall_id}.key (never ca.key)"
        )
    print(f"collectors log in as city-collector with the secret in {out / 'collector.secret'}")
    print(
        f"the platform's appointments (city-appointments push) log in as city-platform with "
        f"the secret in {out / 'platform.secret'}"
    )
    return 0


def cmd_city(args) -> int:
    from .bus.url import BusUrlError
    from .city.collector import Collector, CollectorError

    try:
        collector = Collector(
            args.db, args.mqtt, args.mqtt_user, _secret(args), args.group, client_id=args.client_id
        )
        collector.start()
    except (BusUrlError, CollectorError) as exc:
        print(f"onewindow city: {exc}", file=sys.stderr)
        return 2
    server = None
    if args.listen:
        from .city.dashboard import serve

        host, _, port = args.listen.rpartition(":")
        server = serve(args.db, host or "127.0.0.1", int(port)).start()
        log.info("city dashboard on http://%s:%s/", host or "127.0.0.1", server.port)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    while not stopping.wait(1.0):
        if collector.failed:
            print(f"onewindow city: {collector.failed}", file=sys.stderr)
            break
    if server:
        server.shutdown()
    collector.stop()
    return 1 if collector.failed else 0


def _secret(args) -> str:
    if args.mqtt_secret_file:
        return Path(args.mqtt_secret_file).read_text().strip()
    return args.mqtt_secret or ""


def cmd_city_user(args) -> int:
    from .city.dashboard import ROLES, add_user
    from .city.schema import connect

    if args.role not in ROLES:
        print(f"onewindow city-user: --role is one of {', '.join(ROLES)}", file=sys.stderr)
        return 2
    import getpass

    password = args.password or getpass.getpass(f"password for {args.name}: ")
    with connect(args.db) as db:
        add_user(db, args.name, password, args.role, args.hall)
    print(f"{args.name}: {args.role}" + (f" of {', '.join(args.hall)}" if args.hall else ""))
    return 0


def cmd_city_export(args) -> int:
    from .city.export import build, write
    from .city.schema import DatabaseError, connect

    if args.to < args.since:
        print(
            f"onewindow city-export: --to {args.to} is before --from {args.since}", file=sys.stderr
        )
        return 2
    try:
        with connect(args.db) as db:
            doc = build(db, args.since, args.to, args.hall, args.levels)
    except DatabaseError as exc:
        print(f"onewindow city-export: cannot read the city database: {exc}", file=sys.stderr)
        return 3
    unknown = [h for h in args.hall if h not in doc["hall_kpis"] or _empty(doc, h)]
    files = write(doc, args.format, Path(args.out))
    k = doc["kpis"]
    print(
        f"{len(doc['records'])} ratings of {len(doc['halls'])} halls {args.since}..{args.to} -> "
        f"{', '.join(map(str, files))}; 好评率 "
        + (f"{k['good_rate']['rate']}%" if "rate" in k["good_rate"] else "-")
    )
    for h in unknown:  # a typo in a hall id must not pass for a hall with nothing to report
        print(
            f"onewindow city-export: no ticket or rating of hall '{h}' in that period",
            file=sys.stderr,
        )
    return 0


def _empty(doc: dict, hall: str) -> bool:
    k = doc["hall_kpis"][hall]
    return not k["served"] and not k["ratings"] and not k["follow_up_ratings"]


def cmd_city_purge(args) -> int:
    from .city.export import purge
    from .city.schema import DatabaseError, connect

    if args.keep_days < 1:
        print("onewindow city-purge: --keep-days is at least 1", file=sys.stderr)
        return 2
    try:
        with connect(args.db) as db:
            n = purge(db, args.keep_days)
    except DatabaseError as exc:
        print(f"onewindow city-purge: {exc}", file=sys.stderr)
        return 3
    print(f"deleted {n} events older than {args.keep_days} days (acknowledged to their halls)")
    return 0


def cmd_city_appointments(args) -> int:
    from .appointmentfile import CITY_FIELDS, FileError, read_records
    from .bus.url import BusUrlError
    from .city.appointments import PushError, check, line, push
    from .city.schema import DatabaseError

    try:
        pushes = check(read_records(args.file, CITY_FIELDS))
    except (FileError, PushError) as exc:
        print(f"onewindow city-appointments: {exc}; nothing was sent", file=sys.stderr)
        return 2
    try:
        push(args.db, args.mqtt, args.mqtt_user, _secret(args), pushes, args.wait, args.resend_s)
    except (PushError, BusUrlError) as exc:
        print(f"onewindow city-appointments: {exc}", file=sys.stderr)
        return 3
    except DatabaseError as exc:
        print(f"onewindow city-appointments: the city database: {exc}", file=sys.stderr)
        return 3
    for p in pushes:
        print(line(p))
    waiting = sum(p.answer is None for p in pushes)
    print(
        f"{len(pushes) - waiting} of {len(pushes)} answered"
        + (
            f"; {waiting} not yet (push the same file again later: nothing is booked twice)"
            if waiting
            else ""
        )
    )
    return 1 if waiting else 0


def register(sub) -> None:
    b = sub.add_parser(
        "city-broker",
        help="the city's central Mosquitto: config, its CA, one "
        "client certificate per hall, the collectors' secret (docs/city.md)",
    )
    b.add_argument("--out", required=True, help="directory for mosquitto.conf, acl, tls/")
    b.add_argument(
        "--tls-host",
        action="append",
        required=True,
        help="name or address halls reach the broker by (repeat for more)",
    )
    b.add_argument("--tls-port", type=int, default=8883)
    b.add_argument("--bind", default="", help="address of the halls' TLS listener (default all)")
    b.add_argument("--port", type=int, default=1883, help="the collectors' listener")
    b.add_argument("--host", default="127.0.0.1", help="the collectors' listener address")
    b.add_argument(
        "--hall",
        action="append",
        default=[],
        help="a hall id to make a certificate for (repeat; run again later to add halls)",
    )
    b.set_defaults(func=cmd_city_broker)

    c = sub.add_parser(
        "city",
        help="the collector: every hall's events into PostgreSQL, and the "
        "city dashboard (docs/city.md)",
    )
    c.add_argument(
        "--mqtt",
        required=True,
        help="the central broker: mqtt://HOST:1883 or mqtts://HOST:PORT?ca=CA",
    )
    c.add_argument("--mqtt-user", default="city-collector")
    c.add_argument("--mqtt-secret", help="(or --mqtt-secret-file)")
    c.add_argument("--mqtt-secret-file", help="the file city-broker wrote: collector.secret")
    c.add_argument("--db", required=True, help="postgresql://USER@HOST/DB")
    c.add_argument(
        "--group",
        default="city",
        help="the shared subscription's group: collectors in one group share the load",
    )
    c.add_argument(
        "--client-id",
        help="this collector's MQTT client id (default: made from the "
        "host name; keep it across restarts: the broker keeps its session)",
    )
    c.add_argument("--listen", metavar="HOST:PORT", help="also serve the city dashboard")
    c.set_defaults(func=cmd_city)

    u = sub.add_parser("city-user", help="add or change a login of the city dashboard")
    u.add_argument("name")
    u.add_argument("--db", required=True)
    u.add_argument(
        "--role",
        required=True,
        help="city (all halls), supervisor (all halls and "
        "the 差评 follow-ups), hall (only the halls given with --hall)",
    )
    u.add_argument("--hall", action="append", default=[])
    u.add_argument("--password", help="(asked for when not given)")
    u.set_defaults(func=cmd_city_user)

    from .ratingexport import FORMATS, _day
    from .ratingrecord import SCALES

    x = sub.add_parser(
        "city-export",
        help="the provincial export: every rating of a period and of some or all halls "
        "(GB/T 39046 records) with the KPIs per hall, from the city database",
    )
    x.add_argument("--db", required=True, help="postgresql://USER@HOST/DB")
    x.add_argument("--from", dest="since", type=_day, required=True, help="first day, YYYY-MM-DD")
    x.add_argument("--to", type=_day, required=True, help="last day, YYYY-MM-DD (included)")
    x.add_argument("--hall", action="append", default=[], help="a hall id (repeat; default all)")
    x.add_argument("--format", choices=FORMATS, default="json")
    x.add_argument("--out", required=True, help="the file (CSV: KPIs beside it, NAME.kpis.csv)")
    x.add_argument(
        "--levels",
        choices=SCALES,
        default="gbt",
        help="gbt = GB/T 39046 (1 = 非常满意, the default); provincial (5 = 非常满意)",
    )
    x.set_defaults(func=cmd_city_export)

    p = sub.add_parser(
        "city-purge",
        help="delete raw events older than N days (already acknowledged to their halls); "
        "the dashboard's tables and the ratings stay",
    )
    p.add_argument("--db", required=True)
    p.add_argument("--keep-days", type=int, required=True)
    p.set_defaults(func=cmd_city_purge)

    a = sub.add_parser(
        "city-appointments",
        help="the provincial platform's appointments: push bookings and cancellations to "
        "their halls and show each hall's answer (docs/city.md)",
    )
    asub = a.add_subparsers(dest="action", required=True)
    ap = asub.add_parser("push", help="send a file of records (JSON or CSV, each with its hall)")
    ap.add_argument("file")
    ap.add_argument("--mqtt", required=True, help="the central broker: mqtt://127.0.0.1:1883")
    ap.add_argument("--mqtt-user", default="city-platform")
    ap.add_argument("--mqtt-secret", help="(or --mqtt-secret-file)")
    ap.add_argument("--mqtt-secret-file", help="the file city-broker wrote: platform.secret")
    ap.add_argument(
        "--db", required=True, help="the collectors' database (the halls' answers arrive there)"
    )
    ap.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the halls' answers"
    )
    ap.add_argument(
        "--resend-s",
        type=float,
        default=15.0,
        help="publish again what has no answer after this many seconds",
    )
    ap.set_defaults(func=cmd_city_appointments)
