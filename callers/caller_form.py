"""一表申请 at the window: the form of the ticket at the window (form.get), shown so staff never
retype it, the ID number masked until staff reveal it (audited by the hall), printed on the
window's A4 printer through CUPS when the ticket is called (--print-form-on-call) or on the
button; a printer's trouble comes back in words on the status line and is a hall alert
(onewindow/formprint.py, shared with the kiosk's own A4 printer)."""

from __future__ import annotations

import logging
from typing import Optional

from kivy.factory import Factory
from kivy.utils import escape_markup

log = logging.getLogger(__name__)


def form_lines(form: dict, t, lang: str = "zh") -> str:
    """Kivy markup: the items applied for, then one `label：value` a line (blank for a field
    the citizen writes by hand on the paper)."""
    items = "、".join(i.get("name", "") for i in form.get("items") or [])
    lines = [f"[b]{escape_markup(form.get('title', ''))}[/b]"]
    if items:
        lines.append(escape_markup(t("form_items", lang, items=items)))
    for f in form.get("fields") or []:
        label = f.get("label_en") if lang == "en" and f.get("label_en") else f.get("label", "")
        value = f.get("value") or "—"
        lines.append(f"[color=5a6675]{escape_markup(label)}[/color]  {escape_markup(value)}")
    return "\n".join(lines)


class FormDesk:
    def __init__(self, app, queue: Optional[str], server: Optional[str], on_call: bool):
        self.app = app
        self.queue, self.server, self.on_call = queue, server, on_call
        self.ticket_id: Optional[str] = None
        self.form: Optional[dict] = None
        self._printed_for: Optional[str] = None

    def t(self, key: str, **fmt) -> str:
        return self.app.TEXTS(key, self.app.lang, **fmt)

    def ticket_changed(self, ticket: Optional[dict]) -> None:
        tid = (ticket or {}).get("id")
        if tid == self.ticket_id:
            return
        self.ticket_id, self.form = tid, None
        self.app.has_form = False
        if tid is None:
            return

        def done(result, error):
            if tid != self.ticket_id:
                return
            if error is not None:  # no_form for most tickets: nothing to show
                return
            self.form = result["form"]
            self.app.has_form = True
            if self.on_call and self._printed_for != tid:
                self.print_form()

        self.app.request("form.get", {"window": self.app.window_no}, done)

    def show(self) -> None:
        if not self.form:
            return
        popup = Factory.FormPopup()
        popup.text = form_lines(self.form, self.app.TEXTS, self.app.lang)
        self.app.open_popup("form", popup)

    def reveal(self) -> None:
        popup = self.app.popup if self.app.popup_name == "form" else None

        def done(result, error):
            if error is not None:
                self.app._fail(error)
                return
            # shown in this popup only, never kept: reopened, the form is masked again, and
            # seeing the number once more is another audited reveal
            if popup is not None and self.app.popup is popup:
                popup.text = form_lines(result["form"], self.app.TEXTS, self.app.lang)

        self.app.request("form.get", {"window": self.app.window_no, "purpose": "reveal"}, done)

    def print_form(self) -> None:
        if not self.queue:
            self.app._say("form_no_printer", error=True)
            return
        tid = self.ticket_id
        self._printed_for = tid
        number = (self.form or {}).get("number", "")
        self.app._say("form_printing", number=number)

        def got(result, error):
            if error is not None:
                self.app._fail(error)
                return

            def work():
                from onewindow.formprint import print_form

                # trouble is also a hall alert (device.health), so the manager sees it too
                problem = print_form(
                    result["form"], self.queue, self.server, self.app.client.request
                )
                if problem is None:
                    return None
                return problem.message_en if self.app.lang == "en" else problem.message

            def printed(problem, error):
                if error is not None:
                    log.warning("form of %s not printed: %s", number, error)
                    problem = str(error)
                if problem:
                    self.app._say("form_print_failed", error=True, reason=problem)
                else:
                    self.app._say("form_printed", number=number)

            self.app.in_background(work, printed)

        # the printed form carries the ID number in full (the citizen checks it): a `print` read
        self.app.request("form.get", {"window": self.app.window_no, "purpose": "print"}, got)
