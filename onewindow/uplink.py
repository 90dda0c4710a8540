"""What the hall tells the city: each hall event as the uplink carries it (docs/protocol.md §9).

The controller keeps every event it emits in the store's outbox, in the transaction of the
change, numbered without gaps; the bus (bus/service.py) publishes them on `ow/<hall>/up/<kind>`
until the city acknowledges them. This module decides what an event says upstream: the hall
event's own payload, plus the facts a city needs that a screen does not (a ticket's times,
channel, department; a rating as the national record of ratingrecord.record). Device
choreography (a rating pad's invitation, a reason prompt) stays in the hall.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from .ratingrecord import record

V = 1
LOCAL_ONLY = {("rating", "invite"), ("rating", "reason_prompt")}
_TICKET_FACTS = (
    "number",
    "service",
    "channel",
    "priority",
    "appointment_id",
    "window",
    "target_window",
    "recalls",
    "transfers",
    "origin_service",
)
_TICKET_TIMES = ("issued_at", "called_at", "served_at", "finished_at", "skipped_at")


def up_data(ctl, kind: str, payload: dict) -> Optional[dict]:
    """The event as the city gets it; None for what stays in the hall."""
    if (kind, payload.get("event")) in LOCAL_ONLY:
        return None
    data = dict(payload)
    ticket_id = payload.get("ticket_id")
    if ticket_id:
        t = ctl.queues.get(ticket_id) or ctl.store.ticket(ticket_id)
        if t is not None:
            facts: dict[str, Any] = {k: getattr(t, k) for k in _TICKET_FACTS}
            facts.update(
                {k: getattr(t, k).isoformat() for k in _TICKET_TIMES if getattr(t, k) is not None}
            )
            facts["status"] = t.status.value
            facts["day"] = t.day.isoformat()
            data["t"] = facts
    service = ctl.hall.service(data.get("service") or "") if data.get("service") else None
    if service is not None and service.department:
        data["department"] = service.department
    if kind == "rating" and payload.get("rating"):
        row = ctl.store.rating_export_row(payload["rating"])
        if row is not None:
            data["record"] = record(row, ctl.hall)
    return data


def envelope(hall_id: str, seq: int, kind: str, at: str, body: str) -> bytes:
    """One outbox row as published: a stable id (hall and number) the city is idempotent on."""
    return json.dumps(
        {
            "v": V,
            "id": f"{hall_id}:{seq}",
            "hall": hall_id,
            "seq": seq,
            "kind": kind,
            "at": at,
            "data": json.loads(body),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
