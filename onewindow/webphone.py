"""The phone pages of `onewindow web`: a number from the entrance QR code, the call-ahead SMS on
the ticket's page, and the page's live notice (a banner, a sound where the browser allows it).

In the citizen's language (onewindow/weblang.py: the browser's, or the page's switch). The page never decides what the controller decides:
today's entrance code, the limits per phone and per day, the ID number's check (checked here
too, only so the citizen keeps what was typed). A phone is counted by a random id in a cookie
(`ow_phone`), which the controller keeps only as a keyed hash.
"""

from __future__ import annotations

import html
import json
import secrets
import urllib.parse

from .domain.identity import valid_id_number
from .hallwords import refusal, wait_words
from .i18n import Catalogue, pick
from .weblang import lang_of

COOKIE = "ow_phone"
TOKEN = r"[A-Za-z0-9_-]{8,64}"
T = Catalogue(
    "webphone",
    {
        "take_title": "手机取号",
        "take_intro": "请选择要办理的事项，取号后本页显示排队进度；号票无需打印。",
        "themes": "一件事一次办",
        "services": "部门事项",
        "waiting": "{n}人等候",
        "id_label": "身份证号（选填：年满条件的老年人优先；仅保存加密摘要）",
        "take": "取号",
        "pick": "请选择一项业务",
        "bad_id": "身份证号码有误，请核对后重试",
        "expired": "二维码已过期，请扫描大厅入口今天的二维码。",
        "notice_title": "叫号短信提醒",
        "notice_on": "前面还剩{n}位时和叫号时，将发短信至 {phone}。号码加密保存，今天结束即删除。",
        "notice_ask": "离开大厅也不怕过号：留下手机号码，前面还剩{n}位时和叫号时发短信提醒您。",
        "phone": "手机号码",
        "consent": "我同意大厅为本次叫号向此号码发送短信（号码加密保存，当天删除）",
        "notice_go": "开启短信提醒",
        "notice_off": "取消短信提醒",
        "need_consent": "请勾选同意接收短信",
        "sound": "开启提示音",
        "sound_on": "提示音已开启",
        "soon": "即将轮到您（前面还有{n}位），请回到等候区",
        # nobody ahead: "前面还有0位" is no sentence a citizen would say
        "soon_next": "即将轮到您（前面已没有人等候），请回到等候区",
        "called": "请到 {window} 办理",
    },
)

STATUS = Catalogue(
    "webphone_status",
    {
        "waiting": "排队中",
        "called": "请到窗口办理",
        "recalled": "再次呼叫，请尽快到窗口",
        "serving": "正在办理",
        "done": "已办结",
        "no_show": "已过号",
        "cancelled": "已取消",
        "held": "暂缓（挂起），请尽快回到窗口",
    },
)
LABELS = Catalogue(
    "webphone_labels",
    {
        "service": "业务",
        "status": "状态",
        "ahead": "前面等候",
        "wait": "预计等候",
        "window": "办理窗口",
        "issued": "取号时间 {at}，本页自动刷新",
        "people": "{n} 人",
    },
)


def status_text(status: str, lang: str = "zh") -> str:
    return STATUS(status, lang)


LIVE_SCRIPT = """<script>
(function(){var box=document.getElementById('live');if(!box)return;
var url=box.dataset.url,last=box.dataset.state,ctx=null;
function beep(){try{if(!ctx)return;var o=ctx.createOscillator(),g=ctx.createGain();
o.frequency.value=880;o.connect(g);g.connect(ctx.destination);g.gain.value=0.2;
o.start();o.stop(ctx.currentTime+0.6)}catch(e){}
if(navigator.vibrate)navigator.vibrate([300,100,300])}
var btn=document.getElementById('sound');if(btn)btn.addEventListener('click',function(){
try{ctx=ctx||new (window.AudioContext||window.webkitAudioContext)();ctx.resume()}catch(e){}
btn.textContent=btn.dataset.on;btn.disabled=true;beep()});
function poll(){fetch(url,{cache:'no-store'}).then(function(r){return r.json()}).then(function(d){
if(d.gone){location.reload();return}
['ahead','wait'].forEach(function(k){var e=document.getElementById(k);if(!e)return;
e.textContent=d[k+'_text']||'';e.parentNode.style.display=d[k+'_text']?'':'none'});
document.getElementById('state').textContent=d.status_text||'';
box.textContent=d.banner||'';box.style.display=d.banner?'block':'none';
if(d.state!==last){if(d.state==='soon'||d.state==='called')beep();last=d.state;
box.dataset.state=last;if(d.final)location.reload()}}).catch(function(){})}
setInterval(poll,3000)})();
</script>"""


def _e(s) -> str:
    return html.escape(str(s if s is not None else ""))


def _q(lang: str) -> str:
    """The language a page's own links and forms keep (Chinese needs none)."""
    return f"?lang={lang}" if lang != "zh" else ""


def _page(app, lang: str, title: str, body: str, head: str = "", path: str = "") -> str:
    page = app.page(title, body, lang=lang, path=path)
    return page.replace("</title>", "</title>" + head, 1)


def entrance_page(app, token: str, lang: str, error: str = "", form: dict | None = None):
    """The page behind the QR code at the door: every service and theme, and the ID number."""
    if not app.ask("entrance.check", {"token": token})["ok"]:
        return 403, _page(
            app,
            lang,
            T("take_title", lang),
            f'<div class="card" id="error">{_e(T("expired", lang))}</div>',
        )
    cfg = app.config()
    form = form or {}
    chosen = (form.get("service") or [""])[0]
    queues = (app.client.state.get("queues") or {}).get("queues") or {}
    blocks = []
    for key, items in (("themes", cfg.get("themes", [])), ("services", cfg.get("services", []))):
        rows = []
        for i in items:
            name = pick(i, "name", lang)
            waiting = (queues.get(i["code"]) or {}).get("waiting")
            count = (
                f' <span class="muted">{_e(T("waiting", lang, n=waiting))}</span>'
                if waiting is not None
                else ""
            )
            rows.append(
                f'<label class="row"><span><input type="radio" name="service" '
                f'value="{_e(i["code"])}"{" checked" if i["code"] == chosen else ""}> '
                f"{_e(name)}{count}</span></label>"
            )
        if rows:
            blocks.append(f'<div class="card"><b>{_e(T(key, lang))}</b>{"".join(rows)}</div>')
    err = f'<div class="card" id="error" style="color:#b71c1c">{_e(error)}</div>' if error else ""
    id_value = _e((form.get("id_number") or [""])[0])
    body = (
        f'<div class="card"><b style="font-size:20px">{_e(T("take_title", lang))}</b>'
        f'<p class="muted">{_e(T("take_intro", lang))}</p></div>{err}'
        f'<form id="take" method="post" action="/e/{_e(token)}/take">'
        f'<input type="hidden" name="lang" value="{lang}">{"".join(blocks)}'
        f'<div class="card"><p class="muted">{_e(T("id_label", lang))}</p>'
        f'<input name="id_number" value="{id_value}" maxlength="18" autocomplete="off" '
        f'style="font-size:18px;width:100%;padding:8px;box-sizing:border-box">'
        f'<button type="submit" name="go" value="1" style="background:#b71c1c;color:#fff">'
        f"{_e(T('take', lang))}</button></div></form>"
    )
    page = _page(app, lang, T("take_title", lang), body, path=f"/e/{token}")
    return (400 if error else 200), page


def take(app, token: str, req):
    """A number for the phone: checked here for the citizen's sake, decided by the controller."""
    from .bus.client import BusError

    lang = lang_of(req, app.langs())
    form = req.form
    code = (form.get("service") or [""])[0]
    id_number = (form.get("id_number") or [""])[0].strip().upper()
    if not code:
        return entrance_page(app, token, lang, T("pick", lang), form)
    if id_number and not valid_id_number(id_number):
        return entrance_page(app, token, lang, T("bad_id", lang), form)
    phone_id = req.cookies.get(COOKIE) or secrets.token_urlsafe(16)
    args = {
        "service": code,
        "channel": "web",
        "printed": False,
        "entrance": token,
        "phone_id": phone_id,
    }
    if id_number:
        args["citizen"] = {"id_number": id_number, "name": ""}
    try:
        ticket = app.ask("ticket.issue", args)["ticket"]
    except BusError as exc:
        if exc.code in ("internal",):
            raise
        words = refusal(exc.message, lang, exc.message_en)
        return entrance_page(app, token, lang, words, form)
    key = urllib.parse.urlsplit(ticket["status_url"]).path.rsplit("/", 1)[-1]
    where = f"/t/{key}" + _q(lang)
    cookie = f"{COOKIE}={phone_id}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax"
    return 303, "", [("Location", where), ("Set-Cookie", cookie)]


def notice_card(key: str, t: dict, cfg: dict, lang: str, error: str = "") -> str:
    """The SMS reminder on a waiting ticket's page: the masked number, or the form to leave one."""
    mobile = cfg.get("mobile") or {}
    if not mobile.get("phone") or t["status"] != "waiting":
        return ""
    n = mobile.get("notice_ahead", 3)
    q = _q(lang)
    title = f"<b>{_e(T('notice_title', lang))}</b>"
    notice = t.get("notice")
    if notice:
        return (
            f'<div class="card" id="notice">{title}<p>'
            f"{_e(T('notice_on', lang, n=n, phone=notice['phone']))}</p>"
            f'<form method="post" action="/t/{_e(key)}/notice{q}">'
            f'<input type="hidden" name="off" value="1"><input type="hidden" name="lang" '
            f'value="{lang}"><button type="submit">{_e(T("notice_off", lang))}</button>'
            f"</form></div>"
        )
    err = f'<p id="notice-error" style="color:#b71c1c">{_e(error)}</p>' if error else ""
    return (
        f'<div class="card" id="notice">{title}{err}<p class="muted">'
        f"{_e(T('notice_ask', lang, n=n))}</p>"
        f'<form method="post" action="/t/{_e(key)}/notice{q}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<input type="tel" name="phone" inputmode="numeric" maxlength="11" '
        f'pattern="1[3-9][0-9]{{9}}" placeholder="{_e(T("phone", lang))}" '
        f'style="font-size:18px;width:100%;padding:8px;box-sizing:border-box">'
        f'<label class="row"><span><input type="checkbox" name="consent" value="1"> '
        f"{_e(T('consent', lang))}</span></label>"
        f'<button type="submit">{_e(T("notice_go", lang))}</button></form></div>'
    )


def notice(app, key: str, req):
    from .bus.client import BusError

    lang = lang_of(req, app.langs())
    form = req.form
    if form.get("off"):
        app.ask("notice.cancel", {"ticket_id": key})
        return app.ticket_page(key, lang=lang)
    phone = (form.get("phone") or [""])[0].strip()[:20]
    if not form.get("consent"):
        return app.ticket_page(key, lang=lang, notice_error=T("need_consent", lang))
    try:
        app.ask(
            "notice.subscribe", {"ticket_id": key, "phone": phone, "consent": True, "lang": lang}
        )
    except BusError as exc:
        if exc.code == "internal":
            raise
        words = refusal(exc.message, lang, exc.message_en)
        return app.ticket_page(key, lang=lang, notice_error=words)
    return app.ticket_page(key, lang=lang)


def live_state(t: dict, cfg: dict, lang: str) -> dict:
    """What the page shows live: a banner when the turn is near and at the call."""
    n = (cfg.get("mobile") or {}).get("notice_ahead", 3)
    state, banner = t["status"], ""
    if t["status"] in ("called", "recalled"):
        state, banner = "called", T("called", lang, window=t.get("window_name") or "")
    elif t["status"] == "waiting" and t["ahead"] <= n:
        n = t["ahead"]
        state, banner = "soon", T("soon", lang, n=n) if n else T("soon_next", lang)
    ahead = wait = ""
    if t["status"] == "waiting":
        ahead = LABELS("people", lang, n=t["ahead"])
        wait = wait_words(t, lang)
    return {
        "state": state,
        "banner": banner,
        "status_text": status_text(t["status"], lang),
        "ahead_text": ahead,
        "wait_text": wait,
        "final": t["status"] in ("done", "cancelled", "no_show"),
    }


def live_card(key: str, t: dict, cfg: dict, lang: str) -> str:
    s = live_state(t, cfg, lang)
    q = _q(lang)
    return (
        f'<div class="card" id="live" data-url="/t/{_e(key)}/live{q}" data-state="{s["state"]}" '
        f'style="display:{"block" if s["banner"] else "none"};background:#fff3e0;'
        f'font-size:20px;font-weight:bold;color:#b71c1c">{_e(s["banner"])}</div>'
        f'<button id="sound" type="button" data-on="{_e(T("sound_on", lang))}">'
        f"{_e(T('sound', lang))}</button>"
    )


def live(app, key: str, req):
    from .bus.client import BusError

    lang = lang_of(req, app.langs())
    try:
        t = app.ask("queue.status", {"ticket_id": key})["ticket"]
    except BusError as exc:
        if exc.code == "not_found":
            return 404, json.dumps({"gone": True}), [("Content-Type", "application/json")]
        raise
    body = json.dumps(live_state(t, app.config(), lang), ensure_ascii=False)
    return 200, body, [("Content-Type", "application/json; charset=utf-8")]


def add_routes(routes, app, guarded, ticket_id: str) -> None:
    routes.get(
        rf"/e/(?P<token>{TOKEN})",
        guarded(lambda req: entrance_page(app, req.params["token"], lang_of(req, app.langs()))),
        "entrance",
    )
    routes.post(
        rf"/e/(?P<token>{TOKEN})/take",
        guarded(lambda req: take(app, req.params["token"], req)),
        "take",
    )
    routes.post(
        rf"/t/(?P<ticket_id>{ticket_id})/notice",
        guarded(lambda req: notice(app, req.params["ticket_id"], req)),
        "notice",
    )
    routes.get(
        rf"/t/(?P<ticket_id>{ticket_id})/live",
        guarded(lambda req: live(app, req.params["ticket_id"], req)),
        "live",
    )
