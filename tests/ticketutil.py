"""Tickets made for the domain's tests (routing, estimates): the one factory they share."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from onewindow.domain.model import Ticket

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday morning


def ticket(
    n: int,
    service: str = "A",
    minutes: float = 0.0,
    priority: str | None = None,
    slot_in: float | None = None,
    target: int | None = None,
    **more,
) -> Ticket:
    """Ticket n of `service`, issued `minutes` after T0; `slot_in`: an appointment whose slot
    starts that many minutes after T0; `target`: transferred to that window."""
    at = T0 + timedelta(minutes=minutes)
    return Ticket(
        id=f"t{n:03d}",
        day=date(2026, 11, 23),
        prefix=service,
        seq=n,
        number=f"{service}{n:03d}",
        service=service,
        channel="kiosk",
        issued_at=at,
        order_at=at,
        priority=priority,
        appointment_id=f"ap{n}" if slot_in is not None else None,
        slot_start=T0 + timedelta(minutes=slot_in) if slot_in is not None else None,
        target_window=target,
        **more,
    )
