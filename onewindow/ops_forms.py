"""一表申请 ops: the merged form a kiosk shows (form.template), the filled form kept with its
ticket when the number is taken (`form` of ticket.issue: sealed in the forms vault, never in
clear in the database, the logs or a reply kept for retries), and the form read back by the
windows that may serve the ticket and the managers (form.get: audited, the ID number masked
unless staff reveal it or print the form), and by the kiosk that filled it, to print it
on its own A4 printer at once (`purpose: print`, while the ticket waits, within minutes)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Optional

from .domain.errors import DomainError
from .domain.forms import CARD_FIELDS, MergedForm, check, form_for
from .domain.identity import mask_id_number
from .domain.model import Ticket, TicketStatus
from .envelope import Args, require
from .request import Request

CARD_EXTRA = ("sex", "nation", "birth", "address")  # what the card adds to `citizen`
PURPOSES = ("view", "reveal", "print")
KIOSK_PRINT_S = 300  # how long after filling the kiosk that filled a form may print it


def template_view(req: Request, form: MergedForm) -> dict:
    return {
        "title": form.title,
        "items": [{"code": c, "name": req.code_name(c)} for c in form.items],
        "fields": [
            {**asdict(f), "options": list(f.options), "items": list(f.items)} for f in form.fields
        ],
    }


def op_template(req: Request) -> dict:
    """form.template {service, answers?}: the form a ticket for it is applied on, or null."""
    code = req.args.get("service", str, maxlen=16)
    answers = req.args.get("answers", dict, None, maxlen=20) or {}
    form = form_for(req.hall, code, answers) if req.forms is not None else None
    return {"form": template_view(req, form) if form else None}


def card_values(a: Args) -> dict[str, str]:
    """The card's data the kiosk read (name and number, plus sex, nation, birth, address)."""
    c = a.get("citizen", dict, None) or {}
    out = {}
    for key in ("name", "id_number") + CARD_EXTRA:
        value = c.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 100:
            raise DomainError("bad_request", "证件信息格式不正确", "Malformed citizen data")
        out[key] = value.strip().upper() if key == "id_number" else value.strip()
    return out


def checked_form(req: Request, code: str, answers: Optional[dict]) -> Optional[dict]:
    """ticket.issue's `form` {values}, checked against the merged form of `code` before the
    ticket is issued: a form with mistakes refuses the ticket naming each field, and nothing was
    written (a refusal after writing would cost the hall a reload). The record to seal, or None
    when no form was given."""
    given = req.args.get("form", dict, None, maxlen=4)
    if given is None:
        return None
    require(
        req.forms is not None,
        "form_unavailable",
        "本大厅暂不能保存申请表，请到窗口填写",
        "The hall cannot keep forms now; fill it in at the window",
    )
    form = form_for(req.hall, code, answers or {})
    if form is None:
        raise DomainError("bad_request", "该事项没有申请表", "This service has no form")
    card = card_values(req.args)
    require(
        "id_number" in card and "name" in card,
        "need_card",
        "请先刷身份证，申请表的基本信息来自身份证",
        "Read your ID card first: the form's basic data comes from it",
    )
    values = given.get("values") or {}
    if not isinstance(values, dict) or len(values) > 60:
        raise DomainError("bad_request", "申请表格式不正确", "Malformed form")
    # what the card says is the card's: a value typed for a card field is not taken
    typed = {k: v for k, v in values.items() if k not in {f.key for f in CARD_FIELDS}}
    kept, problems = check(form, {**typed, **card})
    if problems:
        raise DomainError(
            "bad_form",
            "申请表有误：" + "；".join(p.message for p in problems),
            "The form has mistakes: " + "; ".join(p.message_en for p in problems),
            fields=[p.key for p in problems],
        )
    # `by` and `code` are sealed with it: which kiosk may print it at once, which guide its QR
    return {"form": template_view(req, form), "values": kept, "by": req.device.id, "code": code}


def keep_form(req: Request, t: Ticket, record: dict) -> None:
    """The checked form, sealed, kept with its new ticket."""
    assert req.forms is not None  # checked_form made sure
    req.store.put_form(t.id, t.day, req.forms.seal(json.dumps(record, ensure_ascii=False)))
    req.audit("form_fill", t, detail={"fields": len(record["values"])})


def _may_read(req: Request, t: Ticket) -> bool:
    dev = req.device
    if dev.role == "kiosk":  # its own form, checked once opened (_kiosk_may_print)
        return True
    if dev.role == "manager":
        return True
    for number in dev.windows:
        w = req.hall.window(number)
        if w is None:
            continue
        if t.window == number or t.target_window == number:
            return True
        # a queue's ticket is any of its windows' until one calls it: then that window's alone
        waiting = t.status is TicketStatus.WAITING and t.target_window is None
        if waiting and req.hall.window_serves(w, t.service):
            return True
    return False


def op_get(req: Request) -> dict:
    """form.get {window | ticket_id, purpose?: view|reveal|print}: the ticket's filled form.

    A caller reads only a ticket its windows may serve (at them, sent to them, or waiting in a
    queue they serve); every read is audited; the ID number is masked for `view`."""
    a = req.args
    purpose = a.get("purpose", str, "view", choices=PURPOSES)
    number = a.get("window", int, None, minval=1, maxval=999)
    kiosk = req.device.role == "kiosk"
    require(
        not kiosk or (purpose == "print" and number is None),
        "forbidden",
        "自助终端只能打印刚填写的申请表",
        "A kiosk may only print a form it has just filled",
    )
    if number is not None:
        require(
            req.device.role == "manager" or number in req.device.windows,
            "forbidden",
            f"此设备不能操作 {number} 号窗口",
            f"This device may not act on window {number}",
        )
        t = req.queues.at_window(number)
        require(t is not None, "no_ticket", "当前没有正在办理的号", "No ticket at this window")
    else:
        t = req.ticket(a.get("ticket_id", str, maxlen=64))
    require(
        _may_read(req, t),
        "forbidden",
        f"此窗口不能查看 {t.number} 的申请表",
        f"This window may not read the form of {t.number}",
    )
    sealed = req.store.form(t.id)
    require(sealed is not None, "no_form", f"{t.number} 没有申请表", f"{t.number} has no form")
    require(
        req.forms is not None,
        "form_unavailable",
        "申请表无法打开（缺少加密组件）",
        "The form cannot be opened (no cryptography)",
    )
    from .phonevault import VaultError

    try:
        record = json.loads(req.forms.open(sealed))
    except VaultError:
        raise DomainError(
            "form_unavailable",
            "申请表无法打开：密钥文件已更换",
            "The form cannot be opened: the key file was replaced",
        ) from None
    if kiosk:
        _kiosk_may_print(req, t, record)
    values = record["values"]
    fields = []
    for f in record["form"]["fields"]:
        value = values.get(f["key"], "")
        masked = f["key"] == "id_number" and purpose == "view"
        fields.append({**f, "value": mask_id_number(value) if masked else value, "masked": masked})
    req.audit(f"form_{purpose}", t, window=number, detail=None)
    return {
        "form": {
            "ticket_id": t.id,
            "number": t.number,
            "title": record["form"]["title"],
            "items": record["form"]["items"],
            "fields": fields,
            "hall": req.hall.name,
            "guide_url": _guide_url(req, str(record.get("code") or t.service)),
        }
    }


def _kiosk_may_print(req: Request, t: Ticket, record: dict) -> None:
    """A kiosk prints only the form it filled itself, while the ticket still waits, within
    minutes of filling: the citizen in front of it, not a later reader."""
    age = (req.now - t.issued_at).total_seconds()
    require(
        record.get("by") == req.device.id
        and t.status.value == "waiting"
        and 0 <= age <= KIOSK_PRINT_S,
        "forbidden",
        "自助终端只能打印刚填写的申请表",
        "A kiosk may only print a form it has just filled",
    )


def _guide_url(req: Request, code: str) -> str:
    """The QR code on the printed form: the guide of what was applied for, the service's own
    guide page when the hall file gives one (`guide.url`), else the guide page on the hall's
    web pages (a theme's too: /guide/T1); empty (no QR code) when neither is known."""
    from .domain.guide import web_guide_url

    service = req.hall.service(code)
    if service is not None and service.guide.url:
        return service.guide.url
    return web_guide_url(req.hall.status_url, code)
