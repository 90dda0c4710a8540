"""容缺受理 at the window: at finish, staff tick the materials a citizen is allowed to bring later
(the service's `missing_ok` materials in the hall file); the hall records the case with its due
date, and the 容缺受理告知单 is printed on the window's receipt printer (ESC/POS), in Chinese and
the hall's second language."""

from __future__ import annotations

from typing import Optional

from kivy.factory import Factory


class MissingDesk:
    def __init__(self, app, printer: Optional[tuple]):
        self.app = app
        self.printer = printer  # (port, baud) of the window's printer (容缺受理告知单)
        self.picked: list = []  # 容缺 materials picked in the finish popup

    def choices(self) -> list[str]:
        """The current ticket's service's 容缺 materials, from the hall file (config.get)."""
        code = (self.app.ticket or {}).get("service")
        cfg = self.app.config_data or {}
        theme = next((t for t in cfg.get("themes") or [] if t.get("code") == code), None)
        codes = theme.get("items") or [] if theme else [code]
        names: list[str] = []
        for s in cfg.get("services") or []:
            if s.get("code") in codes:
                for m in (s.get("guide") or {}).get("materials") or []:
                    if m.get("missing_ok") and m.get("name") not in names:
                        names.append(m["name"])
        return names

    def notice_second(self, case: dict):
        """The 容缺 note's second language: the hall's first after Chinese ([hall] languages);
        the window does not know the citizen's."""
        from drivers import escpos
        from onewindow.i18n import hall_languages

        cfg = self.app.config_data or {}
        hall = cfg.get("hall") or {}
        lang = escpos.second_lang(hall_languages(hall))
        service = next(
            (s for s in cfg.get("services") or [] if s.get("code") == case.get("service")), None
        )
        return escpos.Second.of(lang, hall, service)

    def notice_twins(self, case: dict) -> dict:
        """`materials_<lang>`: the missing materials' names in the hall's other languages, from
        the hall file (config.get), "" where it gives none."""
        names: dict[str, dict] = {}
        for s in (self.app.config_data or {}).get("services") or []:
            for m in (s.get("guide") or {}).get("materials") or []:
                names.setdefault(m.get("name"), m)
        out = {}
        for lang in ("en", "bo"):
            out[f"materials_{lang}"] = [
                (names.get(m) or {}).get(f"name_{lang}") or "" for m in case.get("materials") or []
            ]
        return out

    def show(self) -> None:
        """容缺受理: staff tick what is missing; the case is recorded at finish."""
        self.picked = []
        popup = Factory.MissingPopup()
        popup.title_text = self.app.TEXTS(
            "missing_title", self.app.lang, number=self.app.ticket_number
        )
        for i, name in enumerate(self.choices()):
            b = Factory.MissingToggle(text=name)
            b.test_id = f"missing_{i}"
            b.bind(state=lambda btn, state, n=name: self._pick(n, state == "down"))
            popup.ids.materials.add_widget(b)
        self.app.open_popup("missing", popup)

    def _pick(self, name: str, on: bool) -> None:
        if on and name not in self.picked:
            self.picked.append(name)
        elif not on and name in self.picked:
            self.picked.remove(name)
        if self.app.popup_name == "missing":
            self.app.popup.ids.missing_ok.disabled = not self.picked

    def finish(self) -> None:
        missing = list(self.picked)
        self.app.close_popup()

        def ok(result):
            self.app._after_ticket_op(
                result, "done_missing", False, due=(result.get("case") or {}).get("due", "")
            )
            if result.get("case"):
                self.print_notice(result["case"])

        self.app._op("window.finish", ok, missing=missing)

    def print_notice(self, case: dict) -> None:
        """容缺受理告知单 on the window's printer (ESC/POS), if it has one."""
        if not self.printer:
            self.app._say("missing_no_printer", due=case.get("due", ""))
            return
        hall_name = (self.app.client.state.get("hall") or {}).get("name") or ""
        case = dict(case, **self.notice_twins(case))
        second = self.notice_second(case)

        def work():
            from drivers import escpos
            from drivers.printer import PrinterError, open_printer

            printer = open_printer(*self.printer)
            try:
                printer.print_job(escpos.missing_notice(case, hall_name, second))
                return None
            except PrinterError as exc:
                return exc.status.message
            finally:
                printer.close()

        def done(problem, error):
            if error is not None or problem:
                self.app._say("missing_print_failed", error=True, reason=str(problem or error))
            else:
                self.app._say("missing_printed", due=case.get("due", ""))

        self.app.in_background(work, done)
