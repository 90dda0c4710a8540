"""The QR pages' language: the citizen's browser's (Accept-Language) among the hall's languages
([hall] languages), until they choose another with the page's switch (`?lang=bo`), which a
cookie then remembers for the hall's other pages.

    lang_of(req, ["zh", "bo"])   # ?lang=, else the ow_lang cookie, else Accept-Language, else zh
    switch("bo", ["zh", "bo", "en"], "/t/abc")   -> links to 中文 and English
"""

from __future__ import annotations

import html

from .i18n import LANG_NAMES, LANGS

COOKIE = "ow_lang"
HTML_LANG = {"zh": "zh-CN", "bo": "bo", "en": "en"}


def offered(langs) -> list[str]:
    """The languages a page may show: the hall's (Chinese always), in LANGS' order."""
    wanted = set(langs or LANGS) | {"zh"}
    return [x for x in LANGS if x in wanted]


def accepted(header: str) -> list[str]:
    """Accept-Language's languages, most wanted first: 'bo-CN,bo;q=0.9,zh;q=0.5' -> bo, bo, zh."""
    ranked = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, i, tag.split("-")[0].lower()))
    return [lang for _, _, lang in sorted(ranked)]


def lang_of(req, langs=None) -> str:
    """The page's language: a choice just made (?lang= or a form's lang), the one remembered
    (cookie), the browser's (Accept-Language), else Chinese; only among `langs`."""
    can = offered(langs)
    asked = (req.query.get("lang") or req.form.get("lang") or [""])[0]
    if asked in can:
        return asked
    if req.cookies.get(COOKIE) in can:
        return req.cookies[COOKIE]
    for lang in accepted(getattr(req, "accept_language", "")):
        if lang in can:
            return lang
    return "zh"


def remember(req, answer: tuple) -> tuple:
    """A page answered to `?lang=xx`: the cookie that keeps xx on the hall's other pages."""
    asked = (req.query.get("lang") or [""])[0]
    if asked not in LANGS:
        return answer
    headers = list(answer[2]) if len(answer) > 2 else []
    headers.append(("Set-Cookie", f"{COOKIE}={asked}; Max-Age=31536000; Path=/; SameSite=Lax"))
    return (answer[0], answer[1], headers)


def switch(lang: str, langs, path: str) -> str:
    """Links to the page in each other language, each named in its own language."""
    links = [
        f'<a href="{html.escape(path)}?lang={x}" lang="{HTML_LANG[x]}" id="lang-{x}">'
        f"{html.escape(LANG_NAMES[x])}</a>"
        for x in offered(langs)
        if x != lang
    ]
    return f'<nav class="langs">{" · ".join(links)}</nav>' if links else ""


def localized(page: str, lang: str) -> str:
    """The page's html lang (the browser picks fonts and a screen reader its voice by it)."""
    return page.replace('lang="zh-CN"', f'lang="{HTML_LANG.get(lang, "zh-CN")}"', 1)
