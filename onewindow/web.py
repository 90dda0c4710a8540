"""`onewindow web`: the pages behind the QR codes: a ticket's live status, rating, service guides.

A citizen scans the ticket's QR with a phone on the hall's Wi-Fi and sees how many are ahead,
the estimate and, once called, which window; after service, rates it (好差评, channel "qrcode").
Guides are the same 一次告知 as on the kiosk. The server is a device of role `web` on the bus:
it holds nothing of its own, every figure comes from the controller.
"""
from __future__ import annotations

import html
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

STATUS_ZH = {"waiting": "排队中", "called": "请到窗口办理", "recalled": "再次呼叫，请尽快到窗口",
             "serving": "正在办理", "done": "已办结", "no_show": "已过号", "cancelled": "已取消"}
LEVELS = [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")]
BAD_REASONS = ["等候时间长", "态度不好", "多次跑腿", "材料要求不清", "办理超时", "其他"]
TICKET_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")

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
        hall = (self.client.state.get("hall") or {}).get("name") or self.hall_name
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
            rows += [("前面等候", f'{t["ahead"]} 人'), ("预计等候", f'约 {t["est_wait_min"]} 分钟')]
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
        g = item.get("guide") or {}
        mats = item.get("materials") or g.get("materials") or []
        lis = []
        for m in mats:
            counts = f'原件{m.get("originals", 1)}份' + (f' 复印件{m["copies"]}份' if m.get("copies") else "")
            mark = " <b>[可容缺]</b>" if m.get("missing_ok") else ""
            lis.append(f'<li>{_e(m["name"])}（{counts}）{mark}{"<br><span class=muted>" + _e(m["note"]) + "</span>" if m.get("note") else ""}</li>')
        facts = [("办理条件", g.get("conditions")), ("办理流程", g.get("process")),
                 ("承诺时限", f'{g["time_limit_days"]}个工作日' if g.get("time_limit_days") else "即办"),
                 ("收费", g.get("fee")), ("办理地点", g.get("place")), ("咨询电话", g.get("phone"))]
        body = (f'<div class="card"><h2>{_e(item["name"])}</h2>'
                + "".join(f'<div class="row"><span>{_e(k)}</span><span>{_e(v)}</span></div>' for k, v in facts if v)
                + f'</div><div class="card"><b>所需材料</b><ol>{"".join(lis)}</ol>'
                '<p class="muted">标注[可容缺]的材料可先受理、后补交。</p></div>')
        return 200, self.page(f'{item["name"]} 办事指南', body)


def make_handler(app: WebApp):
    class Handler(BaseHTTPRequestHandler):
        server_version = "OneWindow"

        def log_message(self, fmt, *args):       # actions, not people: no query strings logged
            log.debug("web %s %s", self.command, self.path.split("?")[0][:40])

        def _send(self, code: int, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _route(self, post: bool):
            from .bus.client import BusError
            parts = self.path.split("?")[0].strip("/").split("/")
            try:
                if parts == [""] and not post:
                    return self._send(*app.index_page())
                if len(parts) == 2 and parts[0] == "t" and TICKET_ID.match(parts[1]) and not post:
                    return self._send(*app.ticket_page(parts[1]))
                if len(parts) == 3 and parts[0] == "t" and parts[2] == "rate" and TICKET_ID.match(parts[1]) and post:
                    n = min(int(self.headers.get("Content-Length") or 0), 4096)
                    form = parse_qs(self.rfile.read(n).decode("utf-8", "replace"))
                    return self._send(*app.rate(parts[1], form))
                if len(parts) == 2 and parts[0] == "guide" and CODE.match(parts[1]) and not post:
                    return self._send(*app.guide_page(parts[1]))
                return self._send(404, app.page("找不到页面", '<div class="card">找不到该页面。</div>'))
            except (BusError, TimeoutError) as exc:
                log.warning("web: controller unavailable (%s)", getattr(exc, "code", exc))
                return self._send(503, app.page("暂停服务", '<div class="card">系统暂时无法查询，请稍后刷新。</div>'))

        def do_GET(self):
            self._route(False)

        def do_POST(self):
            self._route(True)
    return Handler


def add_arguments(p) -> None:
    p.add_argument("--listen", default="127.0.0.1:8080",
                   help="HOST:PORT to serve on (the hall's Wi-Fi address in production)")


def main(args) -> int:
    from .apps import device_settings
    from .bus.client import DeviceClient
    s = device_settings(args)
    client = DeviceClient(s["mqtt"], s["device"], s["secret"], s["hall"], events=(),
                          windows_state=False).start(wait=5)
    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), make_handler(WebApp(client)))
    print(f"OneWindow web pages on http://{host}:{server.server_address[1]}/", flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
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
