"""好差评: one rating per transaction, five levels (5 = 非常满意), bad ratings followed up."""

from __future__ import annotations

import secrets
from datetime import timedelta

from .domain import followup
from .domain.hours import add_working_days
from .domain.identity import mask_mobile
from .domain.model import Ticket, TicketStatus
from .domain.rating import LEVELS, RATING_CHANNELS, gbt_level  # noqa: F401 (the ops' names)
from .envelope import require
from .phonevault import MOBILE
from .request import Request

OTHER_REASON = "其他"  # the reason that needs the citizen's own words
# a window's rating pad rates what that window finished this recently (the citizen is still
# there); a later rating comes from the ticket's QR page or a kiosk
PAD_RATES_WITHIN = timedelta(minutes=30)
PROMPT_FOR = timedelta(seconds=60)  # a pad's bad rating waits this long for its reason


def op_submit(req: Request) -> dict:
    a, dev = req.args, req.device
    level = a.get("level", int, minval=1, maxval=5)
    channel = a.get(
        "channel", str, "pad" if dev.role == "rating" else dev.role, choices=tuple(RATING_CHANNELS)
    )
    reasons = a.str_list("reasons")
    text = a.get("text", str, "", maxlen=500).strip()
    ticket_id = a.get("ticket_id", str, None, maxlen=64)
    window = a.get("window", int, None, minval=1, maxval=999)
    require(
        ticket_id is not None or window is not None,
        "bad_request",
        "请指定号票或窗口",
        "Give ticket_id or window",
    )
    # a phone rates the ticket whose QR code it holds (its page key), never "the last one
    # finished at window N": that would be a stranger's transaction
    require(
        dev.role != "web" or ticket_id is not None,
        "forbidden",
        "请扫描号票上的二维码评价",
        "Rate from the ticket's QR code",
    )
    if dev.role == "rating":
        require(
            window is not None and window in dev.windows,
            "forbidden",
            "此评价器不属于该窗口",
            "This rating pad belongs to another window",
        )
    if window is not None:
        require(
            req.hall.window(window) is not None,
            "not_found",
            f"没有 {window} 号窗口",
            f"No window {window}",
        )
    t = req.ticket(ticket_id) if ticket_id else just_finished(req, window)
    if t is not None:
        if dev.role == "rating":
            # a pad rates its own windows' work only, and only while the citizen is there
            require(
                t.window in dev.windows,
                "forbidden",
                "此评价器不能评价其他窗口办理的业务",
                "This rating pad may rate its own windows' tickets only",
            )
        require(
            t.status is TicketStatus.DONE,
            "not_ready",
            "办结后才能评价",
            "A ticket can be rated once it is done",
        )
        if dev.role == "rating":
            require(
                t.finished_at is not None and t.finished_at >= req.now - PAD_RATES_WITHIN,
                "expired",
                "评价器只能评价刚办结的业务，请扫描号票二维码评价",
                "A rating pad rates only what was just finished; use the ticket's QR code",
            )
        count = rating_count(req, t.id)
        window = t.window
    bad = level <= 2
    if bad:
        check_reasons(req, reasons, text)
    else:
        reasons = []  # reasons are asked at a bad rating only
    opens = bad and count == 1
    phone = read_phone(req, opens)
    now = req.now
    state = req.window(window) if window else None
    hours, rules = req.hall.hours, req.hall.rating
    row = {
        "id": secrets.token_urlsafe(9),
        "ticket_id": t.id if t else None,
        "window": window,
        "service": t.service if t else None,
        "staff": (state.staff or {}).get("id") if state and state.staff else None,
        "level": level,
        "channel": channel,
        "reasons": ",".join(reasons),
        "text": text,
        "at": now.isoformat(),
        "count": count,
        "rater_masked": t.citizen_masked if t else None,
        "follow_status": followup.OPEN if opens else None,
        "contact_by": add_working_days(hours, now.date(), rules.contact_days).isoformat()
        if opens
        else None,
        "rectify_by": add_working_days(hours, now.date(), rules.rectify_days).isoformat()
        if opens
        else None,
    }
    if phone:
        row.update(
            phone_token=req.phones.seal(phone),
            phone_masked=mask_mobile(phone),
            phone_purge_by=(now.date() + timedelta(days=rules.phone_retention_days)).isoformat(),
        )
    req.store.add_rating(row)
    req.audit(
        "rate",
        t,
        window=window,
        from_status=t.status if t else None,
        detail={"level": level, "rating": row["id"], "count": count},
    )
    req.emit(
        "rating",
        {
            "event": "submitted",
            "rating": row["id"],
            "window": window,
            "ticket": t.number if t else None,
            "level": level,
            "level_name": LEVELS[level],
            "bad": bad,
            "count": count,
            "at": now.isoformat(),
        },
    )
    if opens:
        req.alerts.raise_(
            f"rating:{row['id']}",
            "bad_rating",
            f"{window or ''}号窗口收到差评（{LEVELS[level]}），请于{row['contact_by']}前回访",
            window=window,
        )
    return {
        "rating": {
            "id": row["id"],
            "level": level,
            "level_name": LEVELS[level],
            "ticket": t.number if t else None,
            "window": window,
            "bad": bad,
            "count": count,
            "follow_status": row["follow_status"],
            "contact_by": row["contact_by"],
            "rectify_by": row["rectify_by"],
            "phone": row.get("phone_masked"),
        }
    }


def read_phone(req: Request, opens: bool) -> str | None:
    """The citizen's mobile number for the follow-up, given with consent on the ticket's QR page
    only, and only with a bad rating that opens a case; stored encrypted, shown masked."""
    phone = req.args.get("phone", str, None, maxlen=20)
    consent = req.args.get("consent", bool, False)
    if not phone:
        return None
    phone = phone.strip().replace(" ", "").replace("-", "")
    require(
        req.device.role == "web",
        "forbidden",
        "联系电话只能在号票二维码页面填写",
        "A phone number is given on the ticket's QR page only",
    )
    require(
        opens,
        "bad_request",
        "只有差评需要留下联系电话",
        "A phone number goes with a first bad rating only",
    )
    require(
        consent,
        "consent_required",
        "请勾选同意工作人员为整改与您联系",
        "Tick the consent to be contacted about the follow-up",
    )
    require(
        MOBILE.fullmatch(phone) is not None,
        "bad_request",
        "请填写11位手机号码",
        "Give an 11-digit mobile number",
    )
    require(
        req.phones is not None,
        "unavailable",
        "本大厅暂不收集联系电话",
        "This hall takes no phone numbers (the cryptography package is not installed)",
    )
    return phone


def check_reasons(req: Request, reasons: list[str], text: str) -> None:
    """A bad rating names at least one of the hall's reasons (其他 with the citizen's words);
    refused here, so that no channel can store a 差评 without one."""
    offered = list(req.hall.rating.reasons)
    for r in reasons:
        require(
            r in offered,
            "bad_request",
            f"原因「{r[:12]}」不在可选原因中",
            f"Reason {r[:12]!r} is not one of the hall's: {', '.join(offered)}",
            reasons=offered,
        )
    require(
        bool(reasons),
        "reason_required",
        "请至少选择一项不满意的原因",
        "Pick at least one reason for a bad rating",
        reasons=offered,
    )
    require(
        OTHER_REASON not in reasons or bool(text),
        "reason_required",
        "选择“其他”时请写明原因",
        "With 其他 (other), write the reason",
        reasons=offered,
    )


def just_finished(req: Request, window: int) -> Ticket:
    """What a window alone is rated for (one rating per transaction, GB/T 39046): the ticket it
    finished last, if recently; an earlier citizen's is never rated in its place. Whether it
    was rated already is `rating_count`'s to say (`already_rated`, not `not_found`)."""
    t = req.store.last_finished(window, req.now - PAD_RATES_WITHIN)
    require(
        t is not None,
        "not_found",
        "该窗口暂无可评价的业务",
        "Nothing finished at this window to rate",
    )
    assert t is not None  # for the type checker: require raised otherwise
    return t


def rating_count(req: Request, ticket_id: str) -> int:
    """1 for a transaction's first rating; 2 for the one follow-up rating allowed once its bad
    rating's case is rectified (done); `already_rated` otherwise."""
    rows = req.store.ratings_of(ticket_id)
    if not rows:
        return 1
    first = min(rows, key=lambda r: r["count"])
    require(
        len(rows) == 1 and first.get("follow_status") == followup.DONE,
        "already_rated",
        "该笔业务已评价，感谢您的参与",
        "This transaction has already been rated",
    )
    return 2


def rating_state(req: Request, ticket_id: str) -> dict:
    """What the ticket's QR page and a kiosk need to know: rated or not, and whether the one
    follow-up rating (after the bad rating's case was rectified) may be given now."""
    rows = req.store.ratings_of(ticket_id)
    first = rows[0] if rows else None
    return {
        "rated": bool(rows),
        "count": len(rows),
        "follow_up_open": bool(first)
        and len(rows) == 1
        and first.get("follow_status") == followup.DONE,
    }


def pad_reasons(req: Request, keys: int) -> list[str]:
    """The reasons a pad's keys pick (first key, first reason): the hall's, less 其他, which needs
    words a pad cannot give (the ticket's QR page takes them)."""
    return [r for r in req.hall.rating.reasons if r != OTHER_REASON][:keys]


def op_prompt(req: Request) -> dict:
    """rating.prompt {window, level: 1|2, keys}: a rating pad's bad rating needs a reason first;
    the window's caller screen shows the reasons the pad's keys pick (evt/rating reason_prompt).
    Nothing is stored: the pad's next key sends rating.submit with the reason."""
    a, dev = req.args, req.device
    window = a.get("window", int, minval=1, maxval=999)
    level = a.get("level", int, minval=1, maxval=2)
    keys = a.get("keys", int, 4, minval=1, maxval=9)
    require(
        window in dev.windows,
        "forbidden",
        "此评价器不属于该窗口",
        "This rating pad belongs to another window",
    )
    t = just_finished(req, window)
    rating_count(req, t.id)  # a second press after the rating: already_rated, no prompt
    reasons = pad_reasons(req, keys)
    until = req.now + PROMPT_FOR
    req.emit(
        "rating",
        {
            "event": "reason_prompt",
            "window": window,
            "ticket": t.number,
            "level": level,
            "level_name": LEVELS[level],
            "reasons": reasons,
            "until": until.isoformat(),
            "at": req.now.isoformat(),
        },
    )
    return {"ticket": t.number, "reasons": reasons, "until": until.isoformat()}
