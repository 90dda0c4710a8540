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

from .domain import guide as guide_model
from .httpserver import HttpServer
from .i18n import test_mark
from .wsgi import Routes

log = logging.getLogger(__name__)

STATUS_ZH = {"waiting": "排队中", "called": "请到窗口办理", "recalled": "再次呼叫，请尽快到窗口",
             "serving": "正在办理", "done": "已办结", "no_show": "已过号", "cancelled": "已取消"}
LEVELS = [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")]
BAD_REASONS = ["等候时间长", "态度不好", "多次跑腿", "材料要求不清", "办理超时", "其他"]
TICKET_ID = r"[A-Za-z0-9_-]{6,64}"         # what a ticket's path may hold
CODE = r"[A-Za-z0-9_-]{1,16}"              # what a service's path may hold

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
        import time
        from .bus.client import BusUnavailable
        deadline = time.monotonic() + 1.0      # just (re)connected: the presence is on its way
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

    def page(self, title: str, body: str, refresh: int = 0) -> str:
        meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
        state = self.client.state.get("hall") or {}
        hall = test_mark(state) + (state.get("name") or self.hall_name)
        return PAGE.format(title=_e(title), hall=_e(hall), body=body, refresh=meta)

    def index_page(self) -> tuple[int, str]:
        """办事指南 for every service and 一件事 theme: what to bring before coming."""
        cfg = self.config()
        links = []
        for title, items in (("一件事一次办", cfg.get("themes", [])), ("部门事项", cfg.get("services", []))):
            rows = "".join(f'<li><a href="/guide/{_e(i["code"])}">{_e(i["name"])}</a>'
                           f'<span class="muted"> {_e(i.get("department") or i.get("lead_department") or "")}</span></li>'
                           for i in items)
            links.append(f'<div class="card"><b>{_e(title)}</b><ul>{rows}</ul></div>')
        intro = ('<div class="card">办事前请先查看所需材料（一次告知）。取号后，扫描号票上的二维码'
                 '即可查看排队进度并评价服务。</div>')
        return 200, self.page("办事指南", intro + "".join(links))

    def ticket_page(self, ticket_id: str, note: str = "") -> tuple[int, str]:
        from .bus.client import BusError
        try:
            t = self.ask("queue.status", {"ticket_id": ticket_id})["ticket"]
        except BusError as exc:
            if exc.code == "not_found":
                return 404, self.page("找不到号票", '<div class="card">找不到这张号票，请核对二维码。</div>')
            raise
        rows = [("业务", t["service_name"]), ("状态", STATUS_ZH.get(t["status"], t["status"]))]
        if t["status"] == "waiting":
            rows.append(("前面等候", f'{t["ahead"]} 人'))
            if t.get("wait_text"):
                rows.append(("预计等候", t["wait_text"]))
        if t.get("window_name") and t["status"] in ("called", "recalled", "serving"):
            rows.append(("办理窗口", t["window_name"]))
        body = [f'<div class="card"><div class="big">{_e(t["number"])}</div>',
                *(f'<div class="row"><span>{_e(k)}</span><b>{_e(v)}</b></div>' for k, v in rows),
                f'<div class="muted">取号时间 {_e(t["issued_at"][11:16])}，本页自动刷新</div></div>']
        if note:
            body.append(f'<div class="card">{_e(note)}</div>')
        if t["status"] == "done":
            body.append(self.rating_form(ticket_id))
        live = t["status"] in ("waiting", "called", "recalled", "serving")
        return 200, self.page(f'{t["number"]} 排队进度', "".join(body), refresh=10 if live else 0)

    def rating_form(self, ticket_id: str) -> str:
        buttons = "".join(f'<button name="level" value="{n}">{_e(name)}</button>' for n, name in LEVELS)
        reasons = "".join(f'<label><input type="checkbox" name="reason" value="{_e(r)}"> {_e(r)}</label><br>'
                          for r in BAD_REASONS)
        return (f'<div class="card"><b>请对本次服务作出评价（好差评）</b>'
                f'<form method="post" action="/t/{_e(ticket_id)}/rate">{buttons}'
                f'<p class="muted">选择"不满意"或"非常不满意"时，请勾选原因：</p>{reasons}</form></div>')

    def rate(self, ticket_id: str, form: dict) -> tuple[int, str]:
        from .bus.client import BusError
        try:
            level = int(form.get("level", ["0"])[0])
        except ValueError:
            level = 0
        if not 1 <= level <= 5:
            return self.ticket_page(ticket_id, "请选择一个评价等级")
        args = {"ticket_id": ticket_id, "level": level, "channel": "qrcode",
                "reasons": [r[:20] for r in form.get("reason", [])][:6] if level <= 2 else []}
        try:
            self.ask("rating.submit", args)
            note = "感谢您的评价！" + ("我们会在1个工作日内与您联系整改。" if level <= 2 else "")
        except BusError as exc:
            note = exc.message
        return self.ticket_page(ticket_id, note)

    def guide_page(self, code: str) -> tuple[int, str]:
        cfg = self.config()
        item = next((s for s in cfg.get("services", []) + cfg.get("themes", []) if s.get("code") == code), None)
        if item is None:
            return 404, self.page("找不到事项", '<div class="card">没有这项业务。</div>')
        # the one guide model (domain/guide.py) the kiosk and the 明白卡 read: stated facts only
        card = guide_model.card(item)
        lis = []
        for m in card.materials:
            mark = " <b>[可容缺]</b>" if m.missing_ok else ""
            note = f"<br><span class=muted>{_e(m.note)}</span>" if m.note else ""
            counts = f"（{_e(m.counts)}）" if m.counts else ""
            lis.append(f'<li>{_e(m.name)}{counts}{mark}{note}</li>')
        facts = [("办理条件", card.conditions), ("办理流程", card.process)] + [
            (f.label, f.value) for f in card.facts]
        body = (f'<div class="card"><h2>{_e(card.name)}</h2>'
                + "".join(f'<div class="row"><span>{_e(k)}</span><span>{_e(v)}</span></div>' for k, v in facts if v)
                + '</div>')
        if lis:
            body += (f'<div class="card"><b>所需材料</b><ol>{"".join(lis)}</ol>'
                     + (f'<p class="muted">{guide_model.MISSING_OK_NOTE[0]}。</p>'
                        if card.any_missing_ok else "") + '</div>')
        return 200, self.page(f'{item["name"]} 办事指南', body)


def make_routes(app: WebApp) -> Routes:
    """The pages, by path. A page that needs the controller says so (503) when it is away."""
    from .bus.client import BusError

    def guarded(page):
        def handler(req):
            try:
                return page(req)
            except (BusError, TimeoutError) as exc:
                log.warning("web: controller unavailable (%s)", getattr(exc, "code", type(exc).__name__))
                return 503, app.page("暂停服务", '<div class="card">系统暂时无法查询，请稍后刷新。</div>')
        return handler

    routes = Routes(not_found=lambda req: (404, app.page("找不到页面", '<div class="card">找不到该页面。</div>')))
    routes.get(r"/", guarded(lambda req: app.index_page()), "index")
    routes.get(rf"/t/(?P<ticket_id>{TICKET_ID})", guarded(lambda req: app.ticket_page(req.params["ticket_id"])),
               "ticket")
    routes.post(rf"/t/(?P<ticket_id>{TICKET_ID})/rate",
                guarded(lambda req: app.rate(req.params["ticket_id"], req.form)), "rate")
    routes.get(rf"/guide/(?P<code>{CODE})", guarded(lambda req: app.guide_page(req.params["code"])), "guide")
    return routes


def serve(client, host: str, port: int, **limits) -> HttpServer:
    """The pages for this hall's bus client on host:port (not yet serving: call serve_forever or
    start). OSError when the address cannot be had."""
    return HttpServer(make_routes(WebApp(client)), host, port, **limits)


def add_arguments(p) -> None:
    p.add_argument("--listen", default="127.0.0.1:8080",
                   help="HOST:PORT to serve on (the hall's Wi-Fi address in production)")


def main(args) -> int:
    import signal
    import sys
    from .apps import device_settings
    from .bus.client import DeviceClient
    s = device_settings(args)
    # a page waits on a bus reply that hops threads (network -> page worker): with Python's
    # default 5 ms GIL switch interval, and a pool of page workers, each hop can wait that long
    sys.setswitchinterval(0.0005)
    client = DeviceClient(s["mqtt"], s["device"], s["secret"], s["hall"], events=(),
                          windows_state=False).start(wait=5)
    host, _, port = args.listen.rpartition(":")
    server = serve(client, host or "127.0.0.1", int(port))
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
    register_command(sub, "web", "onewindow.web", "the status, rating and guide pages behind the QR codes")
