"""Appointments booked on the provincial platform (一网通办), taken at the hall like its own.

They arrive over the uplink (`ow/<hall>/down/appointments`, one record a message, bus/service.py)
or from a file (`onewindow appointments import`, records in batches): either way the op
`appointment.platform`, so both take the same checks. A booking takes a slot of the hall's
capacity like a kiosk's (ops_appointments.add_booking); the platform's booking id is the key,
so a record that arrives twice books once, and the second time nothing is done or said. Every
record that changes something, or is refused, is answered by an `evt/appointment` event naming
the platform's id (`booked`, `cancelled`, `refused` with the reason): that event, through the
outbox, is the acknowledgement the city reads (docs/protocol.md §9).

The citizen comes as the hall's keyed hash (`citizen_key`), or as the ID number, hashed here at
once (it is never stored, logged or sent on); a name, when given, is kept masked only.
"""

from __future__ import annotations

import re

from .domain.errors import DomainError
from .envelope import Args, require
from .ops_appointments import add_booking, bookable, cancel_booking, parse_slot, view
from .ops_tickets import read_citizen
from .request import Request

PLATFORM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
CITIZEN_KEY = re.compile(r"[0-9a-f]{64}")
MAX_RECORDS = 200  # a file is sent in batches of this many
CHANNEL = "platform"
OPS = ("book", "cancel")


def op_platform(req: Request) -> dict:
    """appointment.platform: `records` (1..200), each answered on its own: `booked`,
    `cancelled`, `duplicate` (already done: nothing changed) or `refused` with the reason."""
    records = req.args.get("records", list, maxlen=MAX_RECORDS)
    require(bool(records), "bad_request", "没有预约记录", "No records")
    return {"results": [_one(req, r) for r in records]}


def _one(req: Request, record) -> dict:
    pid = record.get("id") if isinstance(record, dict) else None
    if not isinstance(pid, str) or not PLATFORM_ID.fullmatch(pid):
        # nothing to answer to: the platform cannot match a refusal without its id
        return {
            "id": None,
            "result": "refused",
            "reason": _reason(
                DomainError("bad_request", "预约记录缺少预约编号", "A record without its id")
            ),
        }
    op = record.get("op", "book")
    try:
        # each record in its own savepoint: one refused never takes back another
        with req.store.transaction():
            require(op in OPS, "bad_request", "未知的操作", "op is book or cancel")
            return _book(req, pid, record) if op == "book" else _cancel(req, pid)
    except DomainError as exc:
        reason = _reason(exc)
        req.audit("platform_refused", detail={"platform_id": pid, "code": exc.code})
        req.emit(
            "appointment",
            {
                "event": "refused",
                "platform_id": pid,
                "op": op if op in OPS else None,
                "reason": reason,
                "channel": CHANNEL,
                "at": req.now.isoformat(),
            },
        )
        return {"id": pid, "result": "refused", "reason": reason}


def _book(req: Request, pid: str, record: dict) -> dict:
    known = req.store.platform_appointment(pid)
    if known is not None:
        # an id is booked once: the same record again (a re-push, a file imported twice) is
        # nothing new; a cancelled one is not brought back
        return {"id": pid, "result": "duplicate", "appointment": view(req, known)}
    a = Args(record)
    s = bookable(req, a.get("service", str, maxlen=16))
    start = parse_slot(req, a.get("slot_start", str, maxlen=40))
    key, masked = _citizen(req, a)
    row = add_booking(req, s, start, key, masked, CHANNEL, platform_id=pid)
    return {"id": pid, "result": "booked", "appointment": view(req, row)}


def _cancel(req: Request, pid: str) -> dict:
    row = req.store.platform_appointment(pid)
    if row is None:
        raise DomainError("not_found", "找不到该预约", "No such appointment")
    if row["status"] == "cancelled":
        return {"id": pid, "result": "duplicate", "appointment": view(req, row)}
    require(
        row["status"] == "booked",
        "checked_in",
        "该预约已签到，不能取消",
        "Already checked in: it cannot be cancelled",
    )
    return {"id": pid, "result": "cancelled", "appointment": view(req, cancel_booking(req, row))}


def _citizen(req: Request, a: Args) -> tuple[str, object]:
    """(keyed hash, masked name or None): the ID number, if that is what came, goes no further."""
    key = a.get("citizen_key", str, None, maxlen=64)
    number = a.get("id_number", str, None, maxlen=40)
    name = a.get("name", str, None, maxlen=60)
    require(
        (key is None) != (number is None),
        "bad_request",
        "预约记录须有证件号码或其密钥之一",
        "A record carries citizen_key or id_number (one of them)",
    )
    if number is not None:
        citizen = read_citizen(req.secret, Args({"citizen": {"id_number": number, "name": name}}))
        assert citizen is not None  # given a citizen, read_citizen answers or refuses
        return citizen["key"], citizen["masked"]
    require(
        CITIZEN_KEY.fullmatch(key or "") is not None,
        "bad_request",
        "证件密钥格式不正确",
        "citizen_key is 64 hex digits (the hall's keyed hash)",
    )
    from .domain.identity import mask_name

    return key or "", mask_name(name or "") or None


def _reason(exc: DomainError) -> dict:
    return {"code": exc.code, "message": exc.message, "message_en": exc.message_en}
