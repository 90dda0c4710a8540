"""The hall's web pages as one WSGI app: a route table, form bodies read within bounds, and the
short zh-CN error pages (the HTTP server's own refusals use the same ones).

    routes = Routes(not_found=lambda req: (404, my_404_html))
    routes.get(r"/guide/(?P<code>[A-Z]{1,4})", lambda req: (200, guide_html(req.params["code"])))
    routes.post(r"/t/(?P<ticket_id>\\w+)/rate", lambda req: (200, thanks_html(req.form)))

A handler takes a `Request` and returns (status, html). A path is matched whole against each
pattern in the order added; a POST route gets its form parsed before the handler runs, and a
body without a length (411), with a bad one (400) or over BODY_LIMIT (413) never reaches it.
A handler that raises is logged by route name (never by path: paths carry ticket ids) and the
phone gets a 500 page. A client over its request rate (`limit`) gets 429 before any of that. The query string (`?lang=en`) and cookies are parsed for the handler.
"""

from __future__ import annotations

import html
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

BODY_LIMIT = 64 * 1024  # bytes a request body may have; a rating form is under 1 KB
MAX_FIELDS = 100  # fields a posted form may have
DIGITS = re.compile(r"[0-9]{1,12}")

# status: (reason phrase, what the phone shows in zh-CN, the same in English)
ERRORS = {
    400: ("Bad Request", "请求格式有误，请重新打开页面。", "Bad request: please reopen the page."),
    404: ("Not Found", "找不到该页面。", "Page not found."),
    405: ("Method Not Allowed", "不支持该操作。", "Method not allowed."),
    411: (
        "Length Required",
        "提交的内容缺少长度，请重新提交。",
        "Length required: please submit again.",
    ),
    413: (
        "Content Too Large",
        f"提交的内容过大（上限 {BODY_LIMIT // 1024} KB）。",
        f"Request body too large (limit {BODY_LIMIT // 1024} KB).",
    ),
    431: ("Request Header Fields Too Large", "请求头过大。", "Request header fields too large."),
    429: (
        "Too Many Requests",
        "请求过于频繁，请稍后再试。",
        "Too many requests: please try again in a moment.",
    ),
    500: (
        "Internal Server Error",
        "系统出错，请稍后再试。",
        "Internal error: please try again later.",
    ),
    501: ("Not Implemented", "不支持该请求方式。", "Not implemented."),
}
REASONS = {
    200: "OK",
    303: "See Other",
    503: "Service Unavailable",
    **{code: e[0] for code, e in ERRORS.items()},
}

ERROR_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{code} {zh}</title></head>
<body style="font-family:'Noto Sans CJK SC',sans-serif;margin:24px;color:#1b2a3a">
<p style="font-size:20px">{zh}</p><p style="color:#667" lang="en">{en} ({code})</p></body></html>"""


def error_page(code: int) -> str:
    _, zh, en = ERRORS.get(code, ERRORS[500])
    return ERROR_PAGE.format(code=code, zh=html.escape(zh), en=html.escape(en))


def status_line(code: int) -> str:
    return f"{code} {REASONS.get(code, 'Error')}"


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]  # the route pattern's named groups
    form: dict[str, list[str]] = field(default_factory=dict)  # a POST's form fields
    query: dict[str, list[str]] = field(default_factory=dict)  # ?lang=en
    cookies: dict[str, str] = field(default_factory=dict)
    accept_language: str = ""  # the browser's languages (onewindow/weblang.py)


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable[[Request], tuple]  # (status, html) or (status, bytes, headers)
    name: str  # what the logs say instead of the path


class Routes:
    """The table of pages; itself the WSGI application."""

    def __init__(
        self,
        not_found: Callable[[Request], tuple[int, str]] | None = None,
        limit: Callable[[str], float | None] | None = None,
    ):
        """`limit(address)`: None when a request from that client address may go on, else the
        seconds it should wait (it gets 429 with them as Retry-After)."""
        self.table: list[Route] = []
        self.not_found = not_found or (lambda req: (404, error_page(404)))
        self.limit = limit

    def add(self, method: str, pattern: str, handler, name: str | None = None) -> None:
        self.table.append(Route(method, re.compile(pattern), handler, name or pattern))

    def get(self, pattern: str, handler, name: str | None = None) -> None:
        self.add("GET", pattern, handler, name)

    def post(self, pattern: str, handler, name: str | None = None) -> None:
        self.add("POST", pattern, handler, name)

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = "/" + (environ.get("PATH_INFO") or "").strip("/")  # "/guide/F/" is "/guide/F"
        wait = self.limit(environ.get("REMOTE_ADDR") or "") if self.limit else None
        if wait is None:
            code, body, extra = self.answer(method, path, environ)
        else:
            code, body, extra = (
                429,
                error_page(429),
                [("Retry-After", str(max(1, math.ceil(wait))))],
            )
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        # a page is HTML unless its handler said otherwise (a PDF report)
        kind = (
            []
            if any(h == "Content-Type" for h, _ in extra)
            else [("Content-Type", "text/html; charset=utf-8")]
        )
        start_response(
            status_line(code),
            [*kind, ("Content-Length", str(len(data))), ("Cache-Control", "no-store"), *extra],
        )
        return [b"" if method == "HEAD" else data]

    def answer(self, method: str, path: str, environ) -> tuple[int, str | bytes, list]:
        wanted = "GET" if method == "HEAD" else method
        allowed = []
        for route in self.table:
            m = route.pattern.fullmatch(path)
            if m is None:
                continue
            if route.method != wanted:
                allowed.append(route.method)
                continue
            req = Request(method, path, m.groupdict(), query=_query(environ))
            req.cookies = _cookies(environ)
            req.accept_language = environ.get("HTTP_ACCEPT_LANGUAGE", "")[:200]
            if route.method == "POST":
                refused = read_form(req, environ)
                if refused:
                    log.info("web %s refused: %d", route.name, refused)
                    return refused, error_page(refused), []
            try:
                # (status, html) or (status, bytes, headers) for a download
                answer = route.handler(req)
                code, body = answer[0], answer[1]
                headers: list = answer[2] if len(answer) > 2 else []
            except Exception:  # one broken page never stops the others
                log.exception("web %s failed", route.name)
                return 500, error_page(500), []
            log.debug("web %s %s -> %d", method, route.name, code)
            return code, body, headers
        if allowed:
            allow = ", ".join(sorted(set(allowed) | ({"HEAD"} if "GET" in allowed else set())))
            return 405, error_page(405), [("Allow", allow)]
        log.debug("web %s (no such page) -> 404", method)
        return (*self.not_found(Request(method, path, {})), [])


def _query(environ) -> dict[str, list[str]]:
    try:
        return parse_qs(environ.get("QUERY_STRING") or "", max_num_fields=10)
    except ValueError:
        return {}


def _cookies(environ) -> dict[str, str]:
    from http.cookies import CookieError, SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE") or "")
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


def read_form(req: Request, environ) -> int:
    """Fill req.form from the body; 0, or the status refusing it."""
    length = environ.get("CONTENT_LENGTH")
    if not length:
        return 411
    if not DIGITS.fullmatch(length):
        return 400
    n = int(length)
    if n > BODY_LIMIT:
        return 413
    body = environ["wsgi.input"].read(n) if n else b""
    if len(body) != n:
        return 400
    try:
        req.form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=MAX_FIELDS)
    except ValueError:  # more fields than any form of ours has
        return 400
    return 0
