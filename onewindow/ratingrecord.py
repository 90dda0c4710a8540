"""One rating as the national data form has it (GB/T 39046): the record `onewindow ratings
export` writes and the uplink carries to the city (uplink.py). Codes are mapped here, on the way
out, from the hall's one internal scale (5 = 非常满意) and its channel names; a fact the hall does
not have is left out of the record, never filled in. Pure: no I/O."""

from __future__ import annotations

from .domain.rating import LEVELS, RATING_CHANNELS, gbt_level

REASON_SEP = "；"  # the reasons in one CSV cell (a reason holds no such mark)
SCALES = ("gbt", "provincial")  # GB/T 39046: 1 = 非常满意; provincial interfaces: 5 = 非常满意
# the record's fields, in order (the CSV's columns)
FIELDS = (
    "rating_id",
    "ticket",
    "ticket_day",
    "channel_code",
    "channel",
    "level_code",
    "level_scale",
    "level_name",
    "bad",
    "reasons",
    "text",
    "service",
    "service_name",
    "basic_code",
    "item_code",
    "window",
    "window_name",
    "staff",
    "rater",
    "area_code",
    "rated_at",
    "count",
    "count_name",
    "follow_status",
    "contact_by",
    "contacted_at",
    "rectify_by",
    "closed_at",
)


def level_code(level: int, scale: str) -> int:
    """Our level (5 = 非常满意) in the export's direction.

    >>> [level_code(n, "gbt") for n in (5, 4, 3, 2, 1)], level_code(5, "provincial")
    ([1, 2, 3, 4, 5], 5)
    """
    return gbt_level(level) if scale == "gbt" else level


def record(row: dict, hall, scale: str = "gbt") -> dict:
    """One rating (a row of the ratings table with its ticket's number and day) as exported."""
    service = hall.service(row["service"]) if row.get("service") else None
    theme = hall.theme(row["service"]) if row.get("service") and not service else None
    window = hall.window(row["window"]) if row.get("window") else None
    bad = row["level"] <= 2
    first = (row.get("count") or 1) == 1
    rec = {
        "rating_id": row["id"],
        "ticket": row.get("ticket_number"),
        "ticket_day": row.get("ticket_day"),
        "channel_code": RATING_CHANNELS.get(row["channel"]),
        "channel": row["channel"],
        "level_code": level_code(row["level"], scale),
        "level_scale": scale,
        "level_name": LEVELS[row["level"]],
        "bad": bad,
        "reasons": [x for x in (row.get("reasons") or "").split(",") if x],
        "text": row.get("text") or None,
        "service": row.get("service"),
        "service_name": service.name if service else (theme.name if theme else None),
        "basic_code": service.basic_code if service and service.basic_code else None,
        "item_code": service.item_code if service and service.item_code else None,
        "window": row.get("window"),
        "window_name": window.name if window else None,
        "staff": row.get("staff"),
        "rater": row.get("rater_masked"),
        "area_code": hall.area_code or None,
        "rated_at": row["at"],
        "count": 1 if first else 2,
        "count_name": "首次评价" if first else "追加评价",
    }
    if bad and first:
        rec.update(
            {
                "follow_status": row.get("follow_status"),
                "contact_by": row.get("contact_by"),
                "contacted_at": row.get("contacted_at"),
                "rectify_by": row.get("rectify_by"),
                "closed_at": row.get("closed_at"),
            }
        )
    return {k: v for k, v in rec.items() if v is not None and v != []}


def cell(value) -> str:
    """A record's value in a CSV cell (reasons joined by REASON_SEP)."""
    if isinstance(value, list):
        return REASON_SEP.join(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)
