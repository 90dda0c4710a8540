"""`onewindow web`: the pages behind the QR codes: a ticket's live status, rating, service guides.

A citizen scans the ticket's QR with a phone on the hall's Wi-Fi and sees how many are ahead,
the estimate and, once called, which window; after service, rates it (好差评, channel "qrcode").
Guides are the same 一次告知 as on the kiosk. The server is a device of role `web` on the bus:
it holds nothing of its own, every figure comes from the controller.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from typing import Optional

from . import guidewords
from .domain import guide as guide_model
from .domain.pagekey import KEY_PATTERN
from .hallwords import refusal, wait_words
from .httpserver import PER_CLIENT_LIMIT, HttpServer
from .i18n import hall_languages, localize, reason_text, test_mark
from .phonebudget import PHONE_BUDGET, PhoneBudgets, parse_budget
from .weblang import lang_of, localized, remember, switch
from .webphone import (
    LABELS,
    LIVE_SCRIPT,
    add_routes,
    live_card,
    notice_card,
    status_text,
)
from .webtexts import W
from .wsgi import Routes

log = logging.getLogger(__name__)

LEVELS = (5, 4, 3, 2, 1)
TEXT_MAX = 500  # characters of the citizen's own words
# the rating form: reasons (and the words 其他 needs) only at a bad level, and no submit before
# they are given; the controller refuses a bad rating without a reason all the same
RATING_SCRIPT = """<script>
(function(){var f=document.getElementById('rate');if(!f)return;
function lv(){var c=f.querySelector('input[name=level]:checked');return c?+c.value:0}
function upd(){var l=lv(),bad=l>0&&l<=2,rs=f.querySelectorAll('input[name=reason]:checked'),
other=false;for(var i=0;i<rs.length;i++){if(rs[i].value===f.dataset.other)other=true}
var words=f.elements.text.value.trim().length>0;
document.getElementById('bad').style.display=bad?'block':'none';
var ok=l>0&&(!bad||(rs.length>0&&(!other||words)));f.elements.go.disabled=!ok;
document.getElementById('need').style.display=bad&&!ok?'block':'none'}
f.addEventListener('change',upd);f.addEventListener('input',upd);upd()})();
</script>"""
TICKET_ID = KEY_PATTERN  # what a ticket's path may hold: anything else is a 404 at once
CODE = r"[A-Za-z0-9_-]{1,16}"  # what a service's path may hold

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>{title}</title><style>
body{{font-family:"Noto Sans CJK SC",sans-serif;margin:0;background:#f3f6fa;color:#1b2a3a}}
header{{background:#b71c1c;color:#fff;padding:14px 18px;font-size:18px}}
main{{padding:16px;max-width:560px;margin:auto}}
.card{{background:#fff;border-radius:10px;padding:16px;margin-bottom:14px;box-shadow:0 1px 3px #0002}}
.big{{font-size:56px;font-weight:bold;text-align:center;color:#b71c1c}}
.row{{display:flex;justify-content:space-between;padding:6px 0;font-size:18px}}
button{{font-size:18px;padding:12px;margin:4px 0;width:100%;border-radius:8px;border:1px solid #bbb;background:#fff}}
.muted{{color:#667;font-size:14px}}
li{{margin:6px 0;font-size:17px}}</style></head>
<body><header>{hall}</header><main>{body}</main></body></html>"""


def _e(s) -> str:
    return html.escape(str(s if s is not None else ""))


class WebApp:
    def __init__(self, client, hall_name: str = "政务服务大厅"):
        self.client = client
        self.hall_name = hall_name
        self._config = None
        self._lock = threading.Lock()

    def ask(self, op: str, args: dict) -> dict:
        """A phone waits for a page: answer 'try later' at once when the hall is not there."""
        from .bus.client import BusUnavailable

        deadline = time.monotonic() + 1.0  # just (re)connected: the presence is on its way
        while not self.client.controller_online:
            if time.monotonic() > deadline:
                raise BusUnavailable("(controller offline)")
            time.sleep(0.05)
        return self.client.request(op, args, timeout=3, retries=1)

    def config(self) -> dict:
        with self._lock:
            if self._config is None:
                self._config = self.ask("config.get", {})
                self.hall_name = self._config.get("hall", {}).get("name", self.hall_name)
            return self._config

    def langs(self) -> list[str]:
        """The hall's languages ([hall] languages, from its state)."""
        return hall_languages(self.client.state.get("hall"))

    def page(
        self, title: str, body: str, refresh: int = 0, lang: str = "zh", path: str = ""
    ) -> str:
        # inside <noscript>: a page with JavaScript updates itself (webphone.LIVE_SCRIPT)
        meta = (
            f'<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>'
            if refresh
            else ""
        )
        from .i18n import pick

        state = self.client.state.get("hall") or {}
        hall = test_mark(state) + (pick(state, "name", lang) or self.hall_name)
        if path:  # the other languages, for a citizen whose browser asked for another
            body = switch(lang, self.langs(), path) + body
        page = PAGE.format(title=_e(title), hall=_e(hall), body=body, refresh=meta)
        return localized(page, lang)

    def index_page(self, lang: str = "zh") -> tuple[int, str]:
        """办事指南 for every service and 一件事 theme: what to bring before coming."""
        cfg = localize(self.config(), lang)
        links = []
        for key in ("themes", "services"):
            rows = "".join(
                f'<li><a href="/guide/{_e(i["code"])}">{_e(i["name"])}</a>'
                f'<span class="muted"> {_e(i.get("department") or i.get("lead_department") or "")}</span></li>'
                for i in cfg.get(key, [])
            )
            links.append(f'<div class="card"><b>{_e(W(key, lang))}</b><ul>{rows}</ul></div>')
        intro = f'<div class="card">{_e(W("guides_intro", lang))}</div>'
        return 200, self.page(W("guides_title", lang), intro + "".join(links), lang=lang, path="/")

    def reasons(self) -> list[str]:
        from .i18n import rating_reasons

        return rating_reasons(self.config())

    def ticket_page(
        self,
        ticket_id: str,
        note: str = "",
        form: dict | None = None,
        error: str = "",
        lang: str = "zh",
        notice_error: str = "",
    ) -> tuple[int, str]:
        from .bus.client import BusError

        try:
            t = self.ask("queue.status", {"ticket_id": ticket_id})["ticket"]
        except BusError as exc:
            if exc.code == "not_found":
                return 404, self.page(
                    W("no_ticket_title", lang),
                    f'<div class="card">{_e(W("no_ticket", lang))}</div>',
                    lang=lang,
                )
            raise
        L = LABELS
        service = next(
            (s for s in self.config().get("services", []) if s.get("code") == t.get("service")), {}
        )
        rows = [
            (
                L("service", lang),
                localize(service, lang).get("name") or t["service_name"],
                "service",
            ),
            (L("status", lang), status_text(t["status"], lang), "state"),
        ]
        if t["status"] == "waiting":
            rows.append((L("ahead", lang), L("people", lang, n=t["ahead"]), "ahead"))
            wait_text = wait_words(t, lang)
            if wait_text:
                rows.append((L("wait", lang), wait_text, "wait"))
        if t.get("window_name") and t["status"] in ("called", "recalled", "serving"):
            rows.append((L("window", lang), t["window_name"], "window"))
        live = t["status"] in ("waiting", "called", "recalled", "serving")
        body = [
            f'<div class="card"><div class="big">{_e(t["number"])}</div>',
            *(
                f'<div class="row"><span>{_e(k)}</span><b id="{i}">{_e(v)}</b></div>'
                for k, v, i in rows
            ),
            f'<div class="muted">{_e(L("issued", lang, at=t["issued_at"][11:16]))}</div></div>',
        ]
        if live:
            body.append(live_card(ticket_id, t, self.config(), lang))
            body.append(notice_card(ticket_id, t, self.config(), lang, notice_error))
        if t.get("case"):
            body.append(self.case_card(t["case"], lang))
        if note:
            body.append(f'<div class="card" id="thanks">{_e(note)}</div>')
        rating = t.get("rating") or {}
        if t["status"] == "done" and (not rating.get("rated") or rating.get("follow_up_open")):
            body.append(
                self.rating_form(
                    ticket_id, form or {}, error, follow_up=bool(rating.get("rated")), lang=lang
                )
            )
        if live:
            body.append(LIVE_SCRIPT)  # polls /live; without JavaScript the page reloads itself
        title = W("ticket_title", lang, number=t["number"])
        path = f"/t/{ticket_id}"
        return 200, self.page(title, "".join(body), 10 if live else 0, lang, path)

    def case_card(self, case: dict, lang: str = "zh") -> str:
        """容缺受理: what is still to bring, by when, and how to check in (the notice's QR code
        opens this page)."""
        if case.get("status") == "returned":
            at = (case.get("returned_at") or "")[:16].replace("T", " ")
            state = _e(W("case_returned", lang, at=at))
        elif case.get("overdue"):
            state = _e(W("case_overdue", lang, due=case["due"]))
        else:
            # the date in bold, wherever the language puts it
            state = _e(W("case_due", lang, due="\0")).replace("\0", f"<b>{_e(case['due'])}</b>")
        items = "".join(f"<li>{_e(m)}</li>" for m in case.get("materials") or [])
        how = W("case_how", lang, window=case.get("window_name") or "")
        return (
            f'<div class="card" id="case"><b>{_e(W("case_title", lang))}</b><ul>{items}</ul>'
            f'<div>{state}</div><div class="muted">{_e(how)}</div></div>'
        )

    def rating_form(
        self, ticket_id: str, form: dict, error: str = "", follow_up: bool = False, lang="zh"
    ) -> str:
        """Five levels; at 不满意/非常不满意 the hall's reasons (at least one) and the citizen's
        words. `form` is what was sent before, kept when the page comes back with an error."""
        from .i18n import OTHER_REASON

        chosen = (form.get("level") or [""])[0]
        ticked = set(form.get("reason") or [])
        words = (form.get("text") or [""])[0]
        levels = "".join(
            f'<label class="row"><span><input type="radio" name="level" value="{n}"'
            f"{' checked' if str(n) == chosen else ''}> {_e(W(f'level_{n}', lang))}</span></label>"
            for n in LEVELS
        )
        reasons = "".join(
            f'<label class="row"><span><input type="checkbox" name="reason" value="{_e(r)}"'
            f"{' checked' if r in ticked else ''}> {_e(reason_text(r, lang))}</span></label>"
            for r in self.reasons()
        )
        title = _e(W("rate_again" if follow_up else "rate_title", lang))
        contact = ""
        if not follow_up and (self.config().get("rating") or {}).get("phone"):
            # asked only here, only with a bad rating, and kept only with the citizen's consent
            contact = (
                f'<p class="muted">{_e(W("rate_contact", lang))}</p>'
                '<input type="tel" name="phone" inputmode="numeric" maxlength="11" '
                f'pattern="1[3-9][0-9]{{9}}" placeholder="{_e(W("rate_phone", lang))}" '
                'style="font-size:18px;width:100%;padding:8px">'
                '<label class="row"><span><input type="checkbox" name="consent" value="1">'
                f" {_e(W('rate_consent', lang))}</span></label>"
            )
        err = f'<p class="err" id="error" style="color:#b71c1c">{_e(error)}</p>' if error else ""
        return (
            f'<div class="card"><b>{title}</b>{err}'
            f'<form id="rate" method="post" action="/t/{_e(ticket_id)}/rate" '
            f'data-other="{_e(OTHER_REASON)}"><input type="hidden" name="lang" value="{lang}">'
            f'{levels}<div id="bad"><p class="muted">{_e(W("rate_reasons", lang))}</p>{reasons}'
            f'<textarea name="text" maxlength="{TEXT_MAX}" rows="3" style="width:100%" '
            f'placeholder="{_e(W("rate_words", lang))}">{_e(words)}</textarea>{contact}</div>'
            f'<p class="muted" id="need" style="display:none">{_e(W("rate_need", lang))}</p>'
            f'<button type="submit" name="go" value="1">{_e(W("rate_submit", lang))}</button>'
            "</form></div>" + RATING_SCRIPT
        )

    def rate(self, ticket_id: str, form: dict, lang: str = "zh") -> tuple[int, str]:
        from .bus.client import BusError
        from .i18n import OTHER_REASON

        def again(error: str = "", note: str = "") -> tuple[int, str]:
            return self.ticket_page(ticket_id, note, form=form, error=error, lang=lang)

        try:
            level = int(form.get("level", ["0"])[0])
        except ValueError:
            level = 0
        if not 1 <= level <= 5:
            return again(W("rate_pick", lang))
        offered = self.reasons()
        reasons = [r for r in offered if r in set(form.get("reason", []))] if level <= 2 else []
        text = (form.get("text") or [""])[0].strip()[:TEXT_MAX] if level <= 2 else ""
        # checked here first so the citizen keeps what was typed; the controller checks again
        if level <= 2 and not reasons:
            return again(W("rate_reason", lang))
        if OTHER_REASON in reasons and not text:
            return again(W("rate_other", lang))
        phone = (form.get("phone") or [""])[0].strip()[:20] if level <= 2 else ""
        if phone and not form.get("consent"):
            return again(W("rate_phone_consent", lang))
        args = {
            "ticket_id": ticket_id,
            "level": level,
            "channel": "qrcode",
            "reasons": reasons,
            "text": text,
        }
        if phone:
            args.update(phone=phone, consent=True)
        try:
            rating = self.ask("rating.submit", args)["rating"]
        except BusError as exc:
            words = refusal(exc.message, lang, exc.message_en)
            if exc.code in ("reason_required", "bad_request"):
                return again(words)
            return self.ticket_page(ticket_id, words, lang=lang)
        note = W("thanks", lang)
        if rating.get("follow_status") == "open":
            note += W("rectify", lang, at=rating["rectify_by"])
            if rating.get("phone"):
                note += W("call_back", lang, at=rating["contact_by"], phone=rating["phone"])
        return self.ticket_page(ticket_id, note, lang=lang)

    def guide_page(self, code: str, lang: str = "zh") -> tuple[int, str]:
        cfg = self.config()
        item = next(
            (s for s in cfg.get("services", []) + cfg.get("themes", []) if s.get("code") == code),
            None,
        )
        if item is None:
            return 404, self.page(
                W("no_item_title", lang),
                f'<div class="card">{_e(W("no_item", lang))}</div>',
                lang=lang,
            )
        # the one guide model (domain/guide.py) the kiosk and the 明白卡 read: stated facts only
        item = localize(item, lang)
        card = guide_model.card(item)
        G = guidewords
        lis = []
        for m in card.materials:
            mark = f" <b>[{_e(G.word('missing_ok', lang))}]</b>" if m.missing_ok else ""
            note = f"<br><span class=muted>{_e(m.note)}</span>" if m.note else ""
            n = G.counts(m, lang)
            counts = _e(G.word("counts", lang, counts=n)) if n else ""
            lis.append(f"<li>{_e(m.name)}{counts}{mark}{note}</li>")
        facts = [(G.word("conditions", lang), card.conditions), (W("process", lang), card.process)]
        facts += [(G.word(f"fact_{f.key}", lang), G.fact_value(f, lang)) for f in card.facts]
        body = (
            f'<div class="card"><h2>{_e(card.name)}</h2>'
            + "".join(
                f'<div class="row"><span>{_e(k)}</span><span>{_e(v)}</span></div>'
                for k, v in facts
                if v
            )
            + "</div>"
        )
        if lis:
            body += (
                f'<div class="card"><b>{_e(G.word("materials", lang))}</b><ol>{"".join(lis)}</ol>'
                + (
                    f'<p class="muted">{_e(G.word("missing_ok_note", lang))}</p>'
                    if card.any_missing_ok
                    else ""
                )
                + "</div>"
            )
        title = W("guide_title", lang, name=item["name"])
        return 200, self.page(title, body, lang=lang, path=f"/guide/{code}")

    # -- the 晒成绩单 PDF for managers (the manager PIN with each download) ---------------------

    def reports_page(self, error: str = "", period: str = "") -> tuple[int, str]:
        state = self.client.state.get("hall") or {}
        period = period or (state.get("day") or "")[:7]
        note = f'<p style="color:#c62828">{_e(error)}</p>' if error else ""
        body = (
            '<div class="card"><b>下载晒成绩单（PDF）</b>'
            + note
            + '<form method="post" action="/reports">'
            f'<p>统计期间（月 2026-11 或 日 2026-11-23）<br><input name="period" value="{_e(period)}" '
            'maxlength="10" required></p>'
            '<p>管理密码<br><input name="pin" type="password" inputmode="numeric" '
            'maxlength="12" required autocomplete="off"></p>'
            '<p><button type="submit">下载 PDF</button></p></form>'
            '<p class="muted">每次下载都需输入管理密码；输错多次将暂时锁定。</p></div>'
        )
        return (400 if error else 200), self.page("晒成绩单", body)

    def report_download(self, form: dict):
        from .bus.client import BusError
        from .reportpdf import report_pdf
        from .reports import period_args

        period = (form.get("period") or [""])[0].strip()
        pin = (form.get("pin") or [""])[0].strip()
        try:
            period_args(period)
        except ValueError:
            return self.reports_page("统计期间应为 2026-11 或 2026-11-23", period)
        try:
            data = self.ask("report.sheet", {"period": period, "pin": pin})
        except BusError as exc:
            if exc.code in ("wrong_pin", "locked", "bad_request"):
                return self.reports_page(exc.message, period)
            raise
        pdf = report_pdf(data, self.config().get("hall", {}).get("name", self.hall_name))
        return (
            200,
            pdf,
            [
                ("Content-Type", "application/pdf"),
                ("Content-Disposition", f'attachment; filename="report-{period}.pdf"'),
            ],
        )


def make_routes(app: WebApp, limit: PhoneBudgets | None = None) -> Routes:
    """The pages, by path. A page that needs the controller says so (503) when it is away.
    `limit`: the per-phone request budget (none: unlimited)."""
    from .bus.client import BusError

    def guarded(page):
        def handler(req):
            try:
                return remember(req, page(req))
            except (BusError, TimeoutError) as exc:
                log.warning(
                    "web: controller unavailable (%s)", getattr(exc, "code", type(exc).__name__)
                )
                lang = lang_of(req, app.langs())
                return 503, app.page(
                    W("unavailable_title", lang),
                    f'<div class="card">{_e(W("unavailable", lang))}</div>',
                    lang=lang,
                )

        return handler

    def not_found(req):
        lang = lang_of(req, app.langs())
        body = f'<div class="card">{_e(W("no_page", lang))}</div>'
        return 404, app.page(W("no_page_title", lang), body, lang=lang)

    routes = Routes(not_found=not_found, limit=limit)
    routes.get(r"/", guarded(lambda req: app.index_page(lang_of(req, app.langs()))), "index")
    routes.get(
        rf"/t/(?P<ticket_id>{TICKET_ID})",
        guarded(
            lambda req: app.ticket_page(req.params["ticket_id"], lang=lang_of(req, app.langs()))
        ),
        "ticket",
    )
    add_routes(routes, app, guarded, TICKET_ID)  # the phone pages (webphone.py)
    routes.post(
        rf"/t/(?P<ticket_id>{TICKET_ID})/rate",
        guarded(lambda req: app.rate(req.params["ticket_id"], req.form, lang_of(req, app.langs()))),
        "rate",
    )
    routes.get(
        rf"/guide/(?P<code>{CODE})",
        guarded(lambda req: app.guide_page(req.params["code"], lang_of(req, app.langs()))),
        "guide",
    )
    routes.get(r"/reports", guarded(lambda req: app.reports_page()), "reports")
    routes.post(r"/reports", guarded(lambda req: app.report_download(req.form)), "report-pdf")
    return routes


def serve(
    client,
    host: str,
    port: int,
    phone_budget: Optional[tuple[float, int]] = PHONE_BUDGET,
    **limits,
) -> HttpServer:
    """The pages for this hall's bus client on host:port (not yet serving: call serve_forever or
    start). OSError when the address cannot be had. `phone_budget`: (requests a second, burst)
    from one address, None for none; `limits`: HttpServer's."""
    routes = make_routes(WebApp(client), PhoneBudgets(phone_budget) if phone_budget else None)
    return HttpServer(routes, host, port, **limits)


def add_arguments(p) -> None:
    p.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        help="HOST:PORT to serve on (the hall's Wi-Fi address in production)",
    )
    p.add_argument(
        "--per-client-limit",
        type=int,
        default=PER_CLIENT_LIMIT,
        metavar="N",
        help=f"open connections one address may hold (default {PER_CLIENT_LIMIT}; raise it if "
        "the hall's phones reach the server through one NAT address)",
    )
    p.add_argument(
        "--phone-budget",
        type=parse_budget,
        default=PHONE_BUDGET,
        metavar="RATE/BURST",
        help=f"requests a second, and the burst, one address may ask for (default "
        f"{PHONE_BUDGET[0]:g}/{PHONE_BUDGET[1]}; a ticket page asks every 3 s); 0 for no limit "
        "by address (phones behind one NAT address)",
    )


def main(args) -> int:
    import signal
    import sys

    from .apps import device_settings
    from .bus.client import DeviceClient

    s = device_settings(args)
    # a page waits on a bus reply that hops threads (network -> page worker): with Python's
    # default 5 ms GIL switch interval, and a pool of page workers, each hop can wait that long
    sys.setswitchinterval(0.0005)
    client = DeviceClient(
        s["mqtt"], s["device"], s["secret"], s["hall"], events=(), windows_state=False
    ).start(wait=5)
    host, _, port = args.listen.rpartition(":")
    server = serve(
        client,
        host or "127.0.0.1",
        int(port),
        phone_budget=args.phone_budget,
        per_client_limit=args.per_client_limit,
    )
    print(f"OneWindow web pages on http://{host}:{server.port}/", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    client.stop()
    return 0


def register(sub) -> None:
    from .apps import register_command

    register_command(
        sub, "web", "onewindow.web", "the status, rating and guide pages behind the QR codes"
    )
