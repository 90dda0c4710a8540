"""`onewindow appointments import FILE`: the provincial platform's appointments at a hall without
the city uplink. The records (appointmentfile.py) go to the running hall as a device of role
`platform`, in batches, through the same op as over the uplink (ops_platform.py): the same
checks, idempotent on the platform's id, so a file imported twice books nothing twice."""

from __future__ import annotations

import sys
from collections import Counter

from .appointmentfile import FileError, read_records
from .apps import add_device_options, device_settings
from .ops_platform import MAX_RECORDS

RESULTS = ("booked", "cancelled", "duplicate", "refused")


def register(sub) -> None:
    p = sub.add_parser("appointments", help="the provincial platform's appointments")
    psub = p.add_subparsers(dest="action", required=True)
    imp = psub.add_parser(
        "import",
        help="take the platform's bookings and cancellations from a file (JSON or CSV, "
        "docs/phone.md), as a device of role platform",
    )
    imp.add_argument("file", help="the platform's records (.json or .csv)")
    add_device_options(imp)
    imp.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    from .bus.client import BusError, DeviceClient

    try:
        records = read_records(args.file)
    except FileError as exc:
        print(f"onewindow appointments import: {exc}; nothing was imported", file=sys.stderr)
        return 2
    s = device_settings(args)
    client = DeviceClient(
        s["mqtt"], s["device"], s["secret"], s["hall"], events=(), windows_state=False
    ).start(wait=5)
    counts: Counter = Counter()
    try:
        for first in range(0, len(records), MAX_RECORDS):
            batch = records[first : first + MAX_RECORDS]
            try:
                results = client.request("appointment.platform", {"records": batch})["results"]
            except BusError as exc:
                done = f"; the first {first} records were taken" if first else ""
                print(
                    f"onewindow appointments import: the hall answered {exc.code}: "
                    f"{exc.message_en or exc}{done}",
                    file=sys.stderr,
                )
                if exc.code in ("forbidden", "login_required"):
                    print(
                        "  import as a device of role platform: onewindow devices add "
                        "importer --role platform",
                        file=sys.stderr,
                    )
                return 3
            for r in results:
                counts[r["result"]] += 1
                print(_line(r))
    finally:
        client.stop()
    print(", ".join(f"{counts[k]} {k}" for k in RESULTS))
    return 1 if counts["refused"] else 0


def _line(r: dict) -> str:
    """One record's answer: what it became at the hall, or why it was refused."""
    pid = r.get("id") or "(no id)"
    if r["result"] == "refused":
        reason = r["reason"]
        return f"{pid}\trefused\t{reason['code']}\t{reason['message']} / {reason['message_en']}"
    a = r["appointment"]
    return f"{pid}\t{r['result']}\t{a['service']} {a['slot_start']}\t{a['status']}\t{a['id']}"
