"""What the caller screen says about the ticket at the window, the queues it serves and the
day's figures: Kivy markup built from the retained state and the replies, in the staff's
language (`t` is the caller's catalogue, passed in as caller_form.form_lines takes it)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from kivy.utils import escape_markup

QUEUE_LINES = 6  # per-service waiting lines that fit beside the ticket

MARK_COLOURS = {"status": "1d5fa8", "plain": "33414f", "mark": "b0480d", "warn": "c0392b"}


def parse_time(text: Optional[str]) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def hhmm(text: Optional[str]) -> str:
    t = parse_time(text)
    return t.strftime("%H:%M") if t else "--:--"


def minutes_waited(ticket: dict, now: Optional[datetime] = None) -> int:
    """From taking the number to being called (or until now, while still waiting)."""
    issued = parse_time(ticket.get("issued_at"))
    if issued is None:
        return 0
    end = parse_time(ticket.get("called_at")) or now or datetime.now(timezone.utc)
    return max(0, int((end - issued).total_seconds() // 60))


def ticket_details(t: dict, texts, lang: str) -> str:
    """One line a kind of fact about the ticket at the window, its marks side by side."""
    status = t.get("status") or ""
    # seven facts still fit the card
    marks = []
    check = t.get("priority_check")
    if t.get("priority"):
        marks.append(
            (
                texts(f"prio_{t['priority']}", lang)
                + (
                    texts(f"prio_{check}", lang)
                    if check in ("declared", "confirmed") and t.get("declared") == t["priority"]
                    else ""
                ),
                "mark",
            )
        )
    if check == "withdrawn" and t.get("declared"):
        marks.append(
            (texts("prio_withdrawn", lang, kind=texts(f"kind_{t['declared']}", lang)), "warn")
        )
    if t.get("appointment"):
        marks.append((texts("appointment", lang, time=hhmm(t["appointment"])), "mark"))
    if t.get("recalls"):
        marks.append((texts("recalls", lang, n=t["recalls"]), "warn"))
    if t.get("transfers"):
        marks.append((texts("transfers", lang, n=t["transfers"]), "plain"))
    if t.get("supplement"):
        marks.append((texts("supplement", lang), "mark"))
    lines = [
        [(texts(f"st_{status}", lang), "status")],
        [
            (
                texts("issued", lang, time=hhmm(t.get("issued_at")))
                + "   "
                + texts("waited", lang, min=minutes_waited(t)),
                "plain",
            )
        ],
    ]
    if t.get("citizen"):
        lines.append([(texts("citizen", lang, name=t["citizen"]), "plain")])
    if marks:
        lines.append(marks)
    return "\n".join(
        "   ".join(
            f"[color={MARK_COLOURS[kind]}]{escape_markup(text)}[/color]" for text, kind in line
        )
        for line in lines
    )


def queue_lines(w: dict, queues: dict, texts, lang: str) -> str:
    """Beside the ticket: who is held here, who the next presses call, then the window's
    services by queue length, as many as fit."""
    busy = [(code, queues.get(code) or {}) for code in w.get("services") or []]
    busy = sorted(((c, q) for c, q in busy if q.get("waiting")), key=lambda cq: -cq[1]["waiting"])
    # with the hall's one estimate for a number taken now, as the kiosk tiles show it
    rows = [
        f"{code}  {q.get('name', code)}   {texts('waiting_n', lang, n=q['waiting'])}"
        + (
            " · "
            + texts(
                "new_wait",
                lang,
                wait=q.get("wait_text_en" if lang == "en" else "wait_text"),
            )
            if q.get("wait_text")
            else ""
        )
        for code, q in busy
    ]
    if len(rows) > QUEUE_LINES:  # the longest queues first, and say that more exist
        rest = sum(q["waiting"] for _, q in busy[QUEUE_LINES - 1 :])
        rows = rows[: QUEUE_LINES - 1] + [
            texts("more_queues", lang, k=len(busy) - QUEUE_LINES + 1, n=rest)
        ]
    held = [
        texts("held_item", lang, number=h["number"], until=hhmm(h.get("until")))
        for h in w.get("held") or []
        if h.get("number")
    ]
    upcoming = w.get("next") or []
    if upcoming:  # who the next presses will call, marked when they jump the queue
        marks = {
            "priority": texts("mark_priority_short", lang),
            "appointment": texts("mark_appointment_short", lang),
            "transferred": texts("mark_transferred_short", lang),
        }
        numbers = "  ".join(
            n["number"] + (f"({marks[n['reason']]})" if n.get("reason") in marks else "")
            for n in upcoming
        )
        rows = [texts("next_up", lang, numbers=numbers)] + rows[: QUEUE_LINES - 1]
    if held:  # 挂起 first: staff must not forget whom they are keeping
        rows = [texts("held_line", lang, items="  ".join(held))] + rows[: QUEUE_LINES - 1]
    return "\n".join(rows) or texts("none_waiting", lang)


def kpi_text(key: str, kpis: dict, texts, lang: str) -> str:
    """One of the day's figures at this window (report.kpis), "—" when the hall has none."""
    value = kpis.get(key)
    if value is None:
        return "—"
    if key == "avg_handle_min":
        return texts("minutes", lang, n=f"{value:.1f}".rstrip("0").rstrip("."))
    if key == "satisfaction":
        return f"{value:.0f}%"
    return str(value)
