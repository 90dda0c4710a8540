"""容缺受理: a case accepted at finish with materials missing (picked from the service's 容缺 list
in the hall file), due within `rules.missing_days` working days on the hall's calendar; the
citizen's return checked in by ID card straight to that window's queue as 补件; open and overdue
cases listed for the managers."""

from __future__ import annotations

from datetime import date
from typing import Optional

from .domain import hours as hours_mod
from .domain.errors import DomainError
from .domain.model import Ticket
from .envelope import require
from .request import Request

MAX_MISSING = 20


def missing_ok(req: Request, code: str) -> list[str]:
    """The materials the hall file lets this service (or a theme's items) accept as missing."""
    theme = req.hall.theme(code)
    codes = theme.items if theme is not None else (code,)
    names: list[str] = []
    for c in codes:
        item = req.hall.service(c)
        if item is not None:
            names += [m.name for m in item.guide.materials if m.missing_ok and m.name not in names]
    return names


def view(req: Request, case: dict, today: Optional[date] = None) -> dict:
    """A case as devices get it (docs/protocol.md: case): Views.case."""
    return req.case_view(case, today)


def accept(req: Request, t: Ticket, missing: list[str], days: Optional[int]) -> dict:
    """At finish: record the case (one per ticket), due `days` working days from today."""
    allowed = missing_ok(req, t.service)
    unknown = [m for m in missing if m not in allowed]
    require(
        not unknown,
        "bad_request",
        f"不在本事项的容缺材料清单中：{'、'.join(unknown)}",
        f"Not on this service's 容缺 list: {', '.join(unknown)}",
        allowed=allowed,
    )
    require(
        t.citizen_key is not None,
        "need_card",
        "容缺受理需先读取群众身份证（补件时凭证签到）",
        "容缺受理 needs the citizen's ID card (they check in with it when they return)",
    )
    # a number typed on a phone is anyone's: a case on it would let a stranger's 补件 be opened
    require(
        t.citizen_from != "typed",
        "need_card",
        "手机取号填写的证件号未经读卡核验，不能容缺受理，请群众在自助取号机刷身份证取号",
        "The ID number was typed on a phone, not read from a card: for 容缺受理 the citizen "
        "takes a number with the ID card at a kiosk",
    )
    days = days or req.hall.rules.missing_days
    due = hours_mod.add_working_days(req.hall.hours, req.now.date(), days)
    case = {
        "id": t.id,
        "number": t.number,
        "service": t.service,
        "window": t.window,
        "citizen_key": t.citizen_key,
        "citizen_masked": t.citizen_masked,
        "materials": missing,
        "accepted_at": req.now.isoformat(),
        "due": due.isoformat(),
        "status": "open",
        "returned_at": None,
        "return_ticket_id": None,
    }
    req.store.add_case(case)
    req.audit(
        "case_accept",
        t,
        window=t.window,
        detail={"materials": missing, "due": due.isoformat(), "days": days},
    )
    return view(req, case)


def op_list(req: Request) -> dict:
    """case.list {status?: open|all}: the open cases (overdue first), or every case of the
    past 90 days."""
    which = req.args.get("status", str, "open", choices=("open", "all"))
    rows = req.store.cases("status = 'open'") if which == "open" else req.store.cases()
    today = req.now.date()
    cases = [view(req, c, today) for c in rows]
    cases.sort(key=lambda c: (not c["overdue"], c["due"]))
    return {
        "cases": cases,
        "open": sum(c["status"] == "open" for c in cases),
        "overdue": sum(c["overdue"] for c in cases),
    }


def op_find(req: Request) -> dict:
    """case.find {citizen}: the open cases of the citizen whose card was read (the kiosk)."""
    from .ops_tickets import read_citizen

    citizen = read_citizen(req.secret, req.args)
    if citizen is None:
        raise DomainError("bad_request", "请读取身份证", "Read the ID card")
    today = req.now.date()
    return {"cases": [view(req, c, today) for c in req.store.open_cases_of(citizen["key"])]}


def op_checkin(req: Request) -> dict:
    """case.checkin {citizen, case_id?, printed?}: the citizen is back with the material: a
    ticket straight to the window that accepted the case (补件), ahead of its ordinary queue."""
    from .ops_tickets import CITIZEN_FROM, _check_open, _queue_item, read_citizen

    a = req.args
    citizen = read_citizen(req.secret, a)
    if citizen is None:
        raise DomainError("need_card", "请刷身份证签到", "Read your ID card to check in")
    case_id = a.get("case_id", str, None, maxlen=64)
    printed = a.get("printed", bool, True)
    cases = req.store.open_cases_of(citizen["key"])
    if case_id is not None:
        cases = [c for c in cases if c["id"] == case_id]
    if not cases:
        raise DomainError(
            "not_found", "没有找到您待补件的容缺受理", "No open 容缺 case for this card"
        )
    case = cases[0]  # the soonest due
    item = _queue_item(req, case["service"])
    _check_open(req, item, req.now)
    channel = {"kiosk": "kiosk", "web": "web"}.get(req.device.role, "staff")
    t = req.issue(
        item=item,
        channel=channel,
        target_window=case["window"],
        supplement=case["id"],
        citizen_key=citizen["key"],
        citizen_masked=citizen["masked"],
        citizen_from=CITIZEN_FROM.get(req.device.role),
        printed=printed,
    )
    req.store.case_returned(case["id"], req.now, t.id)
    if req.store.move_form(case["id"], t.id, t.day):  # 一表申请: the form comes back with them
        req.audit("form_carry", t, window=case["window"], detail={"case": case["id"]})
    req.audit(
        "case_checkin",
        t,
        window=case["window"],
        detail={"case": case["id"], "case_number": case["number"]},
    )
    req.emit(
        "ticket",
        {
            "event": "issued",
            "ticket_id": t.id,
            "ticket": t.number,
            "service": t.service,
            "supplement": case["number"],
            "at": req.now.isoformat(),
        },
    )
    case = req.store.case(case["id"]) or case
    return {"ticket": req.ticket_view(t), "case": view(req, case)}
