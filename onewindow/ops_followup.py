"""The follow-up of bad ratings (差评整改) on the manager console: the list with its working-day
deadlines, each step with its note (who, when, what was done), the citizen's phone shown masked
and opened only for the call, and the alerts for deadlines passed.

The statuses and the steps between them are domain/followup.py's table; every step is written
to the case's append-only notes (rating_notes) and to the audit log.
"""

from __future__ import annotations

from datetime import date

from .domain import followup
from .envelope import require
from .request import Request

# rating.follow's `status` of the first release, still taken: each is the steps it stands for
LEGACY_STATUS = {
    "contacted": ("contact",),
    "rectified": ("contact", "rectify"),
    "closed": ("contact", "rectify"),
}
BY_MAX = 32  # characters of the name of who did a step


def case_view(req: Request, r: dict, today: str | None = None) -> dict:
    from .ops_rating import LEVELS

    today = today or req.now.date().isoformat()
    w = req.hall.window(r["window"]) if r.get("window") else None
    t = req.store.ticket(r["ticket_id"]) if r.get("ticket_id") else None
    status = r.get("follow_status")
    zh, en = followup.NAMES.get(status, (status, status))
    return {
        "id": r["id"],
        "at": r["at"],
        "window": r.get("window"),
        "window_name": w.name if w else None,
        "service": r.get("service"),
        "service_name": req.code_name(r["service"]) if r.get("service") else None,
        "ticket": t.number if t else None,
        "level": r["level"],
        "level_name": LEVELS[r["level"]],
        "channel": r["channel"],
        "reasons": [x for x in (r.get("reasons") or "").split(",") if x],
        "text": r.get("text") or "",
        "follow_status": status,
        "status_name": zh,
        "status_name_en": en,
        "contact_by": r.get("contact_by"),
        "rectify_by": r.get("rectify_by"),
        "contacted_at": r.get("contacted_at"),
        "closed_at": r.get("closed_at"),
        "phone": r.get("phone_masked"),
        "overdue": followup.overdue(status, r.get("contact_by"), r.get("rectify_by"), today),
    }


def op_ratings(req: Request) -> dict:
    """report.ratings {days?: 30, open_only?: false}: bad ratings (levels 1-2) with their follow-up
    deadlines, newest first; `overdue` says which deadline has passed."""
    days = req.args.get("days", int, 30, minval=1, maxval=400)
    open_only = req.args.get("open_only", bool, False)
    since = date.fromordinal(req.now.date().toordinal() - days + 1)
    rows = req.store.bad_ratings(since, open_only)
    today = req.now.date().isoformat()
    return {"since": since.isoformat(), "rows": [case_view(req, r, today) for r in rows]}


def _case(req: Request) -> dict:
    rating_id = req.args.get("rating_id", str, maxlen=64)
    row = req.store.bad_rating(rating_id)
    require(row is not None, "not_found", "没有这条差评", "No such bad rating")
    return row


def _note(req: Request, required: bool) -> str:
    note = req.args.get("note", str, "", maxlen=followup.NOTE_MAX).strip()
    require(
        bool(note) or not required,
        "note_required",
        "请填写处理情况（回访、整改或证明材料说明）",
        "Write what was done (the call, the rectification, the evidence)",
    )
    return note


def op_follow(req: Request) -> dict:
    """rating.follow {rating_id, action: contact|rectify|invalid|cannot, note, by?}: a case moves
    one step (domain/followup.py), with its note; the first release's {status: contacted|
    rectified|closed} is still taken, without a note. Closing a case purges the phone."""
    row = _case(req)
    action = req.args.get("action", str, None, choices=tuple(followup.STEPS))
    legacy = req.args.get("status", str, None, choices=tuple(LEGACY_STATUS))
    require(
        bool(action) != bool(legacy),
        "bad_request",
        "请指定一个整改操作",
        "Give one action (contact, rectify, invalid, cannot)",
    )
    note = _note(req, required=action is not None)
    by = req.args.get("by", str, None, maxlen=BY_MAX)
    if action:
        steps = (action,)
    else:
        steps = tuple(
            s
            for s in LEGACY_STATUS[legacy]
            if not (s == "contact" and row["follow_status"] != followup.OPEN)
        )
        require(
            bool(steps),
            "bad_state",
            "该差评已处理到这一步",
            "The follow-up is already past this step",
        )
    for act in steps:
        row = _step(req, row, act, note, by)
    return {"rating": case_view(req, row)}


def _step(req: Request, row: dict, action: str, note: str, by: str | None) -> dict:
    now, before = req.now, row["follow_status"]
    after = followup.step(before, action)
    changes: dict = {"follow_status": after}
    if action == "contact":
        changes["contacted_at"] = now.isoformat()
    if after in followup.FINAL:
        # the case is closed: the number it was kept for goes with it
        changes.update(
            closed_at=now.isoformat(), phone_token=None, phone_masked=None, phone_purge_by=None
        )
    req.store.follow_rating(row["id"], **changes)
    req.store.add_rating_note(row["id"], now, req.device.id, by, action, before, after, note)
    req.audit(
        "rating_follow",
        window=row["window"],
        from_status=before,
        detail={"rating": row["id"], "action": action, "follow_status": after},
    )
    req.emit(
        "rating",
        {
            "event": "follow",
            "rating": row["id"],
            "window": row["window"],
            "follow_status": after,
            "at": now.isoformat(),
        },
    )
    if action == "contact" or after in followup.FINAL:
        req.alerts.clear(f"rating:{row['id']}")
    for kind in ("contact", "rectify"):
        if after in followup.FINAL or (kind == "contact" and action == "contact"):
            req.alerts.clear(overdue_key(row["id"], kind))
    return {**row, **changes}


def op_note(req: Request) -> dict:
    """rating.note {rating_id, note, by?}: a note or evidence on a case, its status unchanged."""
    row = _case(req)
    note = _note(req, required=True)
    by = req.args.get("by", str, None, maxlen=BY_MAX)
    req.store.add_rating_note(
        row["id"],
        req.now,
        req.device.id,
        by,
        "note",
        row["follow_status"],
        row["follow_status"],
        note,
    )
    req.audit("rating_note", window=row["window"], detail={"rating": row["id"]})
    return {"rating": case_view(req, row), "notes": _notes(req, row["id"])}


def _notes(req: Request, rating_id: str) -> list[dict]:
    return [
        {
            "at": n["at"],
            "device": n["device"],
            "by": n["staff"],
            "action": n["action"],
            "from_status": n["from_status"],
            "to_status": n["to_status"],
            "note": n["note"],
        }
        for n in req.store.rating_notes(rating_id)
    ]


def op_case(req: Request) -> dict:
    """rating.case {rating_id}: the case and its every step (the trail), the phone masked."""
    row = _case(req)
    return {"rating": case_view(req, row), "notes": _notes(req, row["id"])}


def op_phone(req: Request) -> dict:
    """rating.phone {rating_id}: the citizen's number in clear, for the call, while the case is
    open; each opening is audited (the number is not: nor is this reply kept)."""
    row = _case(req)
    require(
        row["follow_status"] not in followup.FINAL,
        "bad_state",
        "该差评已办结，联系电话已删除",
        "The case is closed; its phone number was deleted",
    )
    require(
        bool(row.get("phone_token")),
        "not_found",
        "群众未留联系电话",
        "The citizen left no phone number",
    )
    require(
        req.phones is not None,
        "unavailable",
        "本机无法解密联系电话",
        "The phone key cannot be used here (cryptography not installed)",
    )
    from .phonevault import VaultError

    try:
        phone = req.phones.open(row["phone_token"])
    except VaultError as exc:
        from .domain.errors import DomainError

        raise DomainError("unavailable", "联系电话无法解密（密钥已更换）", str(exc)) from None
    req.audit("rating_phone_shown", window=row["window"], detail={"rating": row["id"]})
    return {"rating_id": row["id"], "phone": phone}


def overdue_key(rating_id: str, kind: str) -> str:
    return f"rating_overdue:{kind}:{rating_id}"


def scan_overdue(store, alerts, hall, today: date) -> None:
    """Raise an alert for each case past a deadline (the controller's tick); clear it after."""
    day = today.isoformat()
    for r in store.open_cases():
        late = followup.overdue(r["follow_status"], r.get("contact_by"), r.get("rectify_by"), day)
        w = hall.window(r["window"]) if r.get("window") else None
        where = w.name if w else "大厅"
        for kind, zh, deadline in (
            ("contact", "回访", r.get("contact_by")),
            ("rectify", "整改", r.get("rectify_by")),
        ):
            key = overdue_key(r["id"], kind)
            if late == kind:
                alerts.raise_(
                    key,
                    "rating_overdue",
                    f"{where}的差评（{r['at'][:10]}）已超过{zh}期限 {deadline}",
                    window=r.get("window"),
                    rating=r["id"],
                )
            elif key in alerts:
                alerts.clear(key)
