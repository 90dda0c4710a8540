"""The city dashboard (`onewindow city --listen HOST:PORT`): every hall live, one hall by window
and department, the month's 晒成绩单, overdue 差评 follow-ups; city staff log in.

Served by the same waitress set-up as `onewindow web` (httpserver.py). Roles (`onewindow
city-user`): `city` sees every hall, its drill-down and the ranking; `supervisor` also the 差评
follow-ups; `hall` only the halls named for it. A session is a random cookie (HttpOnly,
SameSite=Strict) kept in memory for SESSION_S after the last page; passwords are scrypt hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import queue
import re
import secrets
import threading
import time
from datetime import datetime
from http.cookies import SimpleCookie
from typing import Callable, Optional
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg

from ..httpserver import HttpServer
from ..wsgi import Request, error_page, read_form, status_line
from . import figures
from .schema import connect, migrate

log = logging.getLogger(__name__)

ROLES = ("city", "supervisor", "hall")
SESSION_S = 8 * 3600
REFRESH_S = 5  # the live pages reload themselves this often
DB_CONNECTIONS = 8  # pages reading PostgreSQL at once (waitress has more threads)
COOKIE = "owcity"
HALL_ID = re.compile(r"[a-z0-9-]{1,32}")
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def hash_password(password: str, salt: Optional[bytes] = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, salt, _digest = stored.split("$")
        return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)
    except ValueError:
        return False


def add_user(db: psycopg.Connection, name: str, password: str, role: str, halls: list[str]) -> None:
    migrate(db)
    db.execute(
        "INSERT INTO users (name, role, halls, password) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, halls = EXCLUDED.halls, "
        "password = EXCLUDED.password",
        (name, role, halls, hash_password(password)),
    )
    if not db.autocommit:
        db.commit()


CSS = """body{font-family:"Noto Sans CJK SC",sans-serif;margin:0;background:#f4f6f9;color:#1c2733}
header{background:#0b4f8a;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a,header button{color:#fff;background:none;border:0;font-size:15px;cursor:pointer}
main{padding:16px 20px}table{border-collapse:collapse;background:#fff;width:100%;margin:8px 0 20px}
th,td{border-bottom:1px solid #dde3ea;padding:7px 10px;text-align:left}th{background:#e8eef5}
.num{text-align:right}.warn{color:#b3261e;font-weight:bold}.en{color:#66788a;font-size:12px}
form.login{max-width:320px;margin:80px auto;background:#fff;padding:24px;border-radius:6px}
form.login input{display:block;width:100%;margin:8px 0 14px;padding:8px;font-size:16px}
.error{color:#b3261e}"""


def _page(title: str, body: str, user: Optional[dict] = None, refresh: bool = False) -> str:
    nav = ""
    if user:
        links = [("/", "全部大厅 All halls")]
        if user["role"] in ("city", "supervisor"):
            links.append(("/ranking", "晒成绩单 Ranking"))
        if user["role"] == "supervisor":
            links.append(("/followups", "差评逾期 Overdue follow-ups"))
        nav = "".join(f'<a href="{u}">{t}</a>' for u, t in links) + (
            f'<span style="flex:1"></span><span>{html.escape(user["name"])}</span>'
            '<form method="post" action="/logout" style="margin:0"><button id="logout">'
            "退出 Log out</button></form>"
        )
    meta = f'<meta http-equiv="refresh" content="{REFRESH_S}">' if refresh else ""
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">{meta}'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><b>一窗 · 城市大厅监管 City halls</b>{nav}</header><main>{body}</main>"
        "</body></html>"
    )


def _cell(value, unit: str = "", warn: bool = False) -> str:
    text = "—" if value is None else f"{value}{unit}"
    return f'<td class="num{" warn" if warn else ""}">{html.escape(str(text))}</td>'


class Dashboard:
    """The WSGI application."""

    def __init__(
        self, db_url: str, tz: str = "Asia/Shanghai", clock: Callable[[], float] = time.time
    ):
        self.db_url = db_url
        self.tz = ZoneInfo(tz)
        self.clock = clock
        self.sessions: dict[str, tuple[dict, float]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(DB_CONNECTIONS)
        with connect(db_url, autocommit=True) as db:
            migrate(db)

    def _db(self) -> psycopg.Connection:
        """The connection this request holds (taken from the pool in __call__)."""
        db: Optional[psycopg.Connection] = self._local.db
        if db is None or db.closed:
            db = self._local.db = connect(self.db_url, autocommit=True)
        return db

    def close(self) -> None:
        """Close the pooled connections (the server has stopped)."""
        while True:
            try:
                db = self._idle.get_nowait()
            except queue.Empty:
                return
            if db is not None:
                db.close()

    # -- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = "/" + (environ.get("PATH_INFO") or "").strip("/")
        headers: list[tuple[str, str]] = []
        # at most DB_CONNECTIONS pages talk to PostgreSQL at once, over connections kept open
        with self._slots:
            try:
                self._local.db = self._idle.get_nowait()
            except queue.Empty:
                self._local.db = None
            try:
                code, text = self._answer(method, path, environ, headers)
            except psycopg.Error:
                log.exception("city dashboard: database error on %s", path)
                if self._local.db is not None:
                    self._local.db.close()
                self._local.db = None
                code, text = 503, error_page(503)
            finally:
                self._idle.put(self._local.db)
                self._local.db = None
        data = text.encode("utf-8")
        start_response(
            status_line(code),
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(data))),
                ("Cache-Control", "no-store"),
                ("X-Frame-Options", "DENY"),
                *headers,
            ],
        )
        return [b"" if method == "HEAD" else data]

    def _answer(self, method: str, path: str, environ, headers: list) -> tuple[int, str]:
        if path == "/login":
            return self._login(method, environ, headers)
        user = self._user(environ)
        if user is None:
            headers.append(("Location", "/login"))
            return 303, _page("登录 Log in", "")
        if path == "/logout" and method == "POST":
            self._end(environ)
            headers += [
                ("Location", "/login"),
                ("Set-Cookie", f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"),
            ]
            return 303, _page("登录 Log in", "")
        if method not in ("GET", "HEAD"):
            return 405, error_page(405)
        query = environ.get("QUERY_STRING", "")
        if path == "/":
            return 200, self._overview(user)
        m = re.fullmatch(r"/hall/([a-z0-9-]{1,32})", path)
        if m:
            return self._hall(user, m.group(1))
        if path == "/ranking" and user["role"] in ("city", "supervisor"):
            month = query.partition("month=")[2][:7]
            return 200, self._ranking(user, month if MONTH.fullmatch(month) else None)
        if path == "/followups" and user["role"] == "supervisor":
            return 200, self._followups(user)
        if path in ("/ranking", "/followups"):
            return 403, _page(
                "无权限 Forbidden",
                "<p>此账号无权查看本页。<span class=en>This "
                "login may not see this page.</span></p>",
                user,
            )
        return 404, error_page(404)

    # -- sessions -----------------------------------------------------------------------------

    def _login(self, method: str, environ, headers: list) -> tuple[int, str]:
        failed = ""
        if method == "POST":
            req = Request(method, "/login", {})
            refused = read_form(req, environ)
            if refused:
                return refused, error_page(refused)
            name = (req.form.get("name") or [""])[0][:64]
            password = (req.form.get("password") or [""])[0][:256]
            row = (
                self._db()
                .execute("SELECT name, role, halls, password FROM users WHERE name = %s", (name,))
                .fetchone()
            )
            if row and check_password(password, row[3]):
                token = secrets.token_urlsafe(24)
                with self._lock:
                    self.sessions[token] = (
                        {"name": row[0], "role": row[1], "halls": row[2]},
                        self.clock() + SESSION_S,
                    )
                headers += [
                    ("Location", "/"),
                    ("Set-Cookie", f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"),
                ]
                log.info("city dashboard: %s logged in", row[0])
                return 303, _page("一窗", "")
            log.warning("city dashboard: failed login for %.64r", name)
            failed = '<p class="error" id="failed">用户名或密码错误 Wrong name or password</p>'
        form = (
            '<form class="login" method="post" action="/login"><h2>城市大厅监管登录</h2>'
            f"<span class=en>City staff log in</span>{failed}"
            '<label>用户名 Name<input name="name" id="name" autocomplete="username"></label>'
            '<label>密码 Password<input name="password" id="password" type="password" '
            'autocomplete="current-password"></label><button id="submit">登录 Log in</button>'
            "</form>"
        )
        return (401 if failed else 200), _page("登录 Log in", form)

    def _token(self, environ) -> Optional[str]:
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # a broken cookie header is no session, nothing more
            return None
        morsel = cookie.get(COOKIE)
        return morsel.value if morsel else None

    def _user(self, environ) -> Optional[dict]:
        token = self._token(environ)
        if not token:
            return None
        now = self.clock()
        with self._lock:
            found = self.sessions.get(token)
            if found is None or found[1] < now:
                self.sessions.pop(token, None)
                return None
            self.sessions[token] = (found[0], now + SESSION_S)
            return found[0]

    def _end(self, environ) -> None:
        token = self._token(environ)
        with self._lock:
            self.sessions.pop(token or "", None)

    # -- pages --------------------------------------------------------------------------------

    def _scope(self, user: dict) -> Optional[list[str]]:
        return list(user["halls"]) if user["role"] == "hall" else None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), self.tz)

    def _overview(self, user: dict) -> str:
        now = self._now()
        rows = figures.overview(self._db(), now.date(), now, self._scope(user))
        body = [
            "<h2>全部大厅 · 实时 <span class=en>All halls, live</span></h2>",
            '<table id="halls"><tr><th>大厅 Hall</th><th>等候 Waiting</th>'
            "<th>最长等候 Longest wait</th><th>开放窗口 Open</th><th>办理中 Busy</th>"
            "<th>今日办结 Served today</th><th>好评率 Satisfaction</th><th>告警 Alerts</th>"
            "<th>最新事件 Last event</th></tr>",
        ]
        for r in rows:
            last = (
                r["last_at"].astimezone(self.tz).strftime("%m-%d %H:%M:%S")
                if r["last_at"]
                else None
            )
            body.append(
                f'<tr data-hall="{r["hall"]}"><td><a href="/hall/{quote(r["hall"])}">'
                f"{html.escape(r['hall'])}</a></td>{_cell(r['waiting'])}"
                f"{_cell(r['longest_min'], ' 分钟', (r['longest_min'] or 0) >= 20)}"
                f"{_cell(r['open'])}{_cell(r['busy'])}{_cell(r['served'])}"
                f"{_cell(r['good_rate'], '%')}{_cell(r['alerts'], '', r['alerts'] > 0)}"
                f"{_cell(last)}</tr>"
            )
        body.append("</table>")
        if not rows:
            body.append("<p>尚无大厅的数据。<span class=en>No hall has reported yet.</span></p>")
        return _page("全部大厅 All halls", "".join(body), user, refresh=True)

    def _hall(self, user: dict, hall: str) -> tuple[int, str]:
        scope = self._scope(user)
        db = self._db()
        known = db.execute("SELECT 1 FROM halls WHERE hall = %s", (hall,)).fetchone()
        if not known or (scope is not None and hall not in scope):
            return 404, error_page(404)
        today = self._now().date()
        body = [
            f"<h2>{html.escape(hall)} <span class=en>drill-down</span></h2>",
            '<h3>窗口 Windows</h3><table id="windows"><tr><th>窗口 Window</th><th>状态 Status'
            "</th><th>正在办理 Serving</th><th>工作人员 Staff</th><th>今日办结 Served</th></tr>",
        ]
        names = {"open": "开放 open", "paused": "暂停 paused", "closed": "关闭 closed"}
        for w in figures.hall_windows(db, hall, today):
            body.append(
                f"<tr><td>{html.escape(w['name'] or str(w['number']))}</td>"
                f"<td>{names.get(w['status'], html.escape(str(w['status'])))}</td>"
                f"{_cell(w['serving'])}{_cell(w['staff'])}{_cell(w['served'])}</tr>"
            )
        body.append(
            '</table><h3>部门 Departments</h3><table id="departments"><tr><th>部门 '
            "Department</th><th>等候 Waiting</th><th>办结 Served</th><th>平均等候 Avg wait"
            "</th></tr>"
        )
        for d in figures.hall_departments(db, hall, today):
            body.append(
                f"<tr><td>{html.escape(d['department'] or '')}</td>{_cell(d['waiting'])}"
                f"{_cell(d['served'])}{_cell(d['avg_wait'], ' 分钟')}</tr>"
            )
        body.append(
            '</table><h3>告警 Alerts</h3><table id="alerts"><tr><th>类别 Kind</th>'
            "<th>内容 Message</th><th>时间 Since</th></tr>"
        )
        for a in figures.hall_alerts(db, hall):
            since = (
                a["raised_at"].astimezone(self.tz).strftime("%m-%d %H:%M")
                if a["raised_at"]
                else None
            )
            body.append(
                f"<tr><td>{html.escape(a['kind'] or '')}</td>"
                f"<td>{html.escape(a['message'] or '')}</td>{_cell(since)}</tr>"
            )
        body.append("</table>")
        return 200, _page(f"{hall}", "".join(body), user, refresh=True)

    def _ranking(self, user: dict, month: Optional[str]) -> str:
        month = month or self._now().strftime("%Y-%m")
        rows = figures.ranking(self._db(), month, self._scope(user))
        body = [
            f"<h2>{month} 晒成绩单 <span class=en>monthly ranking</span></h2>",
            '<table id="ranking"><tr><th>名次 Rank</th><th>大厅 Hall</th><th>好评率 '
            "Satisfaction</th><th>评价数 Ratings</th><th>差评 Bad</th><th>办结 Served</th>"
            "<th>平均等候 Avg wait</th></tr>",
        ]
        for r in rows:
            body.append(
                f"<tr><td>{r['rank']}</td><td>{html.escape(r['hall'])}</td>"
                f"{_cell(r['good_rate'], '%')}{_cell(r['rated'])}{_cell(r['bad'])}"
                f"{_cell(r['served'])}{_cell(r['avg_wait'], ' 分钟')}</tr>"
            )
        body.append("</table>")
        return _page("晒成绩单 Ranking", "".join(body), user)

    def _followups(self, user: dict) -> str:
        today = self._now().date()
        rows = figures.overdue(self._db(), today, self._scope(user))
        late = {
            "contact": "未按期回访 not contacted in time",
            "rectify": "未按期整改 not rectified in time",
        }
        body = [
            "<h2>差评逾期 <span class=en>overdue bad-rating follow-ups</span></h2>",
            '<table id="overdue"><tr><th>大厅 Hall</th><th>评价时间 Rated</th><th>窗口 '
            "Window</th><th>事项 Service</th><th>等级 Level</th><th>原因 Reasons</th>"
            "<th>逾期 Late</th><th>期限 Deadline</th></tr>",
        ]
        for r in rows:
            rec = r["record"] or {}
            deadline = r["contact_by"] if r["late"] == "contact" else r["rectify_by"]
            body.append(
                f"<tr><td>{html.escape(r['hall'])}</td>"
                f"<td>{r['at'].astimezone(self.tz):%m-%d %H:%M}</td>"
                f"<td>{html.escape(str(rec.get('window_name') or r['window'] or ''))}</td>"
                f"<td>{html.escape(str(rec.get('service_name') or r['service'] or ''))}</td>"
                f"<td>{html.escape(str(rec.get('level_name') or ''))}</td>"
                f"<td>{html.escape('；'.join(rec.get('reasons') or []))}</td>"
                f'<td class="warn">{late[r["late"]]}</td><td>{deadline}</td></tr>'
            )
        body.append("</table>")
        if not rows:
            body.append("<p>没有逾期的差评回访。<span class=en>No follow-up is late.</span></p>")
        return _page("差评逾期 Overdue follow-ups", "".join(body), user)


class CityServer(HttpServer):
    """The dashboard on waitress; shutdown() also closes its database connections."""

    def __init__(self, app: Dashboard, host: str, port: int):
        super().__init__(app, host, port)
        self.app = app

    def shutdown(self) -> None:
        super().shutdown()
        self.app.close()


def serve(db_url: str, host: str, port: int, tz: str = "Asia/Shanghai") -> CityServer:
    return CityServer(Dashboard(db_url, tz), host, port)
