"""`onewindow city-appointments push FILE`: the provincial platform's bookings and cancellations
to their halls, over the central broker (`ow/<hall>/down/appointments`, QoS 1, not retained),
and each hall's answer, read where the collector stores it (`platform_appointments`).

The central broker keeps what it cannot deliver yet in the hall bridge's persistent session. A
hall answers every record that changes something or is refused, through its outbox (so the
answer reaches the city however long the hall was cut off); a record it already has is not
answered again, so one already answered in the database counts as done. What has no answer after
RESEND_S is published again (the hall's controller may have been restarting when it came): a
hall takes a record once whatever number of times it arrives.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Optional

import paho.mqtt.client as mqtt
import psycopg

from ..bus.url import parse_bus_url, use_tls
from .ingest import row_dict
from .schema import connect, migrate

HALL_ID = re.compile(r"[a-z0-9-]{1,32}")  # as the collector reads a hall from its topics
RESEND_S = 15.0
POLL_S = 0.5
# what a record's own op has made of a booking once the hall took it
DONE = {"book": ("booked", "checked_in", "cancelled"), "cancel": ("cancelled",)}


class PushError(ValueError):
    pass


@dataclass
class Push:
    record: dict
    answer: Optional[dict] = None  # the platform_appointments row, once answered
    already: bool = False  # answered before this push
    sent: int = field(default=0)

    @property
    def key(self) -> tuple[str, str]:
        return self.record["hall"], str(self.record["id"])

    @property
    def payload(self) -> bytes:
        body = {k: v for k, v in self.record.items() if k != "hall"}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")


def check(records: list[dict]) -> list[Push]:
    """Each record names its hall and its id; PushError (naming the record) if one does not."""
    pushes = []
    for n, r in enumerate(records, 1):
        if not isinstance(r.get("hall"), str) or not HALL_ID.fullmatch(r["hall"]):
            raise PushError(f"record {n}: no hall, or not a hall id (a-z, 0-9, -)")
        if not isinstance(r.get("id"), str) or not r["id"]:
            raise PushError(f"record {n}: no id (the platform's booking id)")
        pushes.append(Push(r))
    return pushes


def push(
    db_url: str,
    mqtt_url: str,
    user: str,
    secret: str,
    pushes: list[Push],
    wait_s: float,
    resend_s: float = RESEND_S,
) -> list[Push]:
    """Publish every record, then wait up to `wait_s` for the halls' answers."""
    with connect(db_url, autocommit=True) as db:
        migrate(db)  # the collector may not have run yet on a new database
        now = db.execute("SELECT now()").fetchone()
        assert now is not None  # SELECT now() is one row
        start = now[0]  # the database's clock: the collector stamps answers with it
        for p, row in zip(pushes, _rows(db, pushes, None), strict=True):
            op = p.record.get("op", "book")
            if row is not None and row["status"] in DONE.get(op, ()):
                p.answer, p.already = row, True
        client = _client(mqtt_url, user, secret)
        try:
            _publish(client, pushes)
            deadline = time.monotonic() + wait_s
            last = time.monotonic()
            while True:
                waiting = [p for p in pushes if p.answer is None]
                for p, row in zip(waiting, _rows(db, waiting, start), strict=True):
                    p.answer = row
                waiting = [p for p in waiting if p.answer is None]
                if not waiting or time.monotonic() >= deadline:
                    break
                if time.monotonic() - last >= resend_s:
                    _publish(client, waiting)
                    last = time.monotonic()
                time.sleep(POLL_S)
        finally:
            client.loop_stop()
            client.disconnect()
    return pushes


def _rows(db: psycopg.Connection, pushes: list[Push], since) -> list[Optional[dict]]:
    """Each push's platform_appointments row (answered at or after `since`, when given)."""
    if not pushes:
        return []
    keys = [p.key for p in pushes]
    cur = db.execute(
        "SELECT hall, id, status, appointment, service, slot_start, reason_code, reason, "
        "answered_at FROM platform_appointments WHERE (hall, id) IN "
        "(SELECT * FROM unnest(%s::text[], %s::text[])) "
        "AND (%s::timestamptz IS NULL OR updated_at >= %s::timestamptz)",
        ([k[0] for k in keys], [k[1] for k in keys], since, since),
    )
    found = {(r["hall"], r["id"]): r for r in row_dict(cur)}
    return [found.get(k) for k in keys]


def _client(mqtt_url: str, user: str, secret: str) -> mqtt.Client:
    url = parse_bus_url(mqtt_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"platform-{time.time_ns()}")
    client.username_pw_set(user, secret)
    use_tls(client, url)
    try:
        client.connect(url.host, url.port, keepalive=30)
    except OSError as exc:
        raise PushError(
            f"cannot reach the central broker at {url.host}:{url.port}: {exc}"
        ) from None
    client.loop_start()
    return client


def _publish(client: mqtt.Client, pushes: list[Push]) -> None:
    infos = []
    for p in pushes:
        hall = p.key[0]
        infos.append(client.publish(f"ow/{hall}/down/appointments", p.payload, qos=1, retain=False))
        p.sent += 1
    for info in infos:
        info.wait_for_publish(10)
        if not info.is_published():
            raise PushError(
                "the central broker did not take the records (is the secret right? "
                "city-platform's is in platform.secret)"
            )


def line(p: Push) -> str:
    """What became of one record, for the operator."""
    hall, pid = p.key
    a = p.answer
    if a is None:
        return f"{hall}\t{pid}\tno answer yet (the hall is cut off or down: push again later)"
    if a["reason_code"] and not p.already:  # this push's answer was a refusal
        return f"{hall}\t{pid}\trefused\t{a['reason_code']}\t{a['reason']}"
    when = "already " if p.already else ""
    # in this machine's zone (the city's), not the database session's
    slot = a["slot_start"].astimezone().isoformat(timespec="minutes") if a["slot_start"] else ""
    return (
        f"{hall}\t{pid}\t{when}{a['status']}\t{a['service'] or ''} {slot}\t{a['appointment'] or ''}"
    )
