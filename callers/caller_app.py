"""The caller terminal at a window: call, recall, start, no-show, transfer, pause, finish.

The controller owns every ticket: this app only asks (window.* ops) and shows what the retained
state and the replies say. Every request runs off the UI thread; while the hall bus is
unreachable the buttons are disabled under an offline banner, and everything returns by itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty

from onewindow.appbase import HallApp
from onewindow.bus.client import BusError
from onewindow.i18n import Catalogue, next_lang
from onewindow.uikit import load_kv

from . import caller_lines as lines
from . import caller_pickers as pickers
from .caller_form import FormDesk
from .caller_missing import MissingDesk
from .caller_rating import reason_prompt

log = logging.getLogger("onewindow.caller")

KV_DIR = Path(__file__).parent / "kv"
KPIS_EVERY_S = 60
CLOCK_EVERY_S = 15  # also refreshes "minutes waited"

TEXTS = Catalogue(
    "caller",
    {
        "connecting": "正在连接叫号系统…",
        "offline": "无法连接叫号系统，按钮已停用；恢复后自动继续",
        "current": "当前号",
        "no_ticket": "暂无",
        "no_ticket_hint": "点击「呼叫下一位」开始",
        "issued": "取号 {time}",
        "waited": "已等候 {min} 分钟",
        "citizen": "群众 {name}",
        "recalls": "已重呼 {n} 次",
        "transfers": "转入 {n} 次",
        "appointment": "预约 {time}",
        "st_called": "已呼叫，等候群众到窗",
        "st_recalled": "已重呼，等候群众到窗",
        "st_serving": "办理中",
        "prio_elder": "老年人优先",
        "prio_disabled": "残疾人优先",
        "prio_veteran": "军人优先",
        "prio_pregnant": "孕妇优先",
        "prio_other": "优先",
        "prio_declared": "（自报，待核验）",
        "prio_confirmed": "（已核验）",
        "prio_withdrawn": "自报{kind}已撤销",
        "kind_elder": "老年人",  # an ID number typed on a phone (webphone.py)
        "kind_disabled": "残疾人",
        "kind_veteran": "军人",
        "kind_pregnant": "孕妇",
        "check_priority": "核验优先",
        "missing_button": "容缺受理…",
        "missing_title": "{number} 号容缺受理：勾选缺少的材料",
        "missing_ok": "容缺受理并办结",
        "done_missing": "已容缺受理，补件期限 {due}",
        "missing_printed": "容缺受理告知单已打印（补件期限 {due}）",
        "missing_no_printer": "本窗口未接打印机，请告知补件期限 {due}",
        "missing_print_failed": "告知单未打印：{reason}",
        "supplement": "补件",
        "priority_question": "{number} 号自报「{kind}」优先：\n请核验相关证件",
        "priority_confirm": "确认优先",
        "priority_withdraw": "撤销优先",
        "done_priority_confirm": "{number} 号优先已确认",
        "done_priority_withdraw": "{number} 号优先已撤销",
        "waiting_title": "本窗口等候",
        "waiting_n": "{n} 人",
        "new_wait": "新取号{wait}",
        "by_service": "各业务等候",
        "more_queues": "…另有 {k} 项业务共 {n} 人",
        "next_up": "接下来：{numbers}",
        "mark_priority_short": "优先",
        "mark_appointment_short": "预约",
        "mark_transferred_short": "转入",
        "none_waiting": "暂无等候",
        "today": "今日本窗口",
        "kpi_served": "办结",
        "kpi_no_show": "过号",
        "kpi_handle": "平均办理",
        "kpi_satisfaction": "满意率",
        "minutes": "{n} 分",
        "status_open": "服务中",
        "status_paused": "暂停服务",
        "status_closed": "已关窗",
        "status_unknown": "状态未知",
        "call_next": "呼叫下一位",
        "recall": "重呼",
        "start": "开始办理",
        "skip": "过号",
        "transfer": "转移",
        "finish": "办结并邀评",
        "hold": "挂起",
        "resume_held": "恢复挂起",
        "held_line": "挂起：{items}",
        "held_item": "{number}（{until} 前）",
        "held_title": "恢复哪一位挂起的群众？",
        "done_hold": "{number} 号已挂起，可先叫下一位",
        "done_resume_held": "已恢复 {number} 号，请到窗口",
        "pause": "暂停",
        "resume": "恢复服务",
        "open": "开窗",
        "close": "关窗",
        "reason_prompt": "您的评价：{level}\n请在评价器上按键选择不满意的原因：\n{keys}\n也可扫描号票二维码填写其他原因",
        "reason_key": "第{n}键  {reason}",
        "rating_thanks": "感谢您的评价！",
        "cancel": "取消",
        "confirm": "确定",
        "current_choice": "{number} 号已呼叫但未开始办理，\n呼叫下一位前请确认：",
        "current_no_show": "过号（未到窗）",
        "current_done": "已办结",
        "choose_current": "请选择上一位的办理结果",
        "confirm_skip": "确定将 {number} 号记为过号？",
        "confirm_finish": "确定办结 {number} 号？办结后将邀请群众评价。",
        "transfer_title": "将 {number} 号转往",
        "to_service": "转到业务队列",
        "to_window": "转到指定窗口",
        "pause_title": "暂停原因",
        "reason_午休": "午休",
        "reason_临时离开": "临时离开",
        "reason_业务培训": "业务培训",
        "reason_系统故障": "系统故障",
        "working": "处理中…",
        "done_call": "已呼叫 {number} 号",
        "done_nobody": "暂无等候的群众",
        "done_recall": "已重呼 {number} 号",
        "done_start": "{number} 号开始办理",
        "done_skip": "{number} 号已记为过号",
        "done_transfer": "{number} 号已转往 {target}",
        "done_finish": "{number} 号已办结，已邀请评价",
        "done_pause": "窗口已暂停：{reason}",
        "done_resume": "窗口已恢复服务",
        "done_open": "窗口已开启",
        "done_close": "窗口已关闭",
        "error": "操作未完成：{message}",
        "no_config": "正在读取大厅配置，请稍候",
        # 一表申请 (caller_form.py)
        "form_button": "申请表",
        "form_reveal": "显示证件号",
        "form_print": "打印申请表",
        "form_close": "关闭",
        "form_printing": "正在打印 {number} 的申请表…",
        "form_printed": "{number} 的申请表已打印，请群众核对签字",
        "form_print_failed": "申请表未打印：{reason}",
        "form_no_printer": "本窗口未设置A4打印机（--form-printer），申请表未打印",
        "form_items": "申请事项：{items}",
    },
)


class CallerApp(HallApp):
    TEXTS = TEXTS
    DESIGN_SIZE = (1024, 600)

    connected_once = BooleanProperty(False)
    busy = BooleanProperty(False)
    window_title = StringProperty("")
    window_status = StringProperty("")  # open / paused / closed, "" until known
    pause_reason = StringProperty("")
    has_ticket = BooleanProperty(False)
    has_held = BooleanProperty(False)  # someone is held (挂起) at this window
    has_form = BooleanProperty(False)  # 一表申请: the ticket at the window has a filled form
    priority_pending = BooleanProperty(False)  # 绿色通道 declared, not yet checked by staff
    ticket_status = StringProperty("")
    ticket_number = StringProperty("")
    ticket_service = StringProperty("")
    ticket_details = StringProperty("")  # Kivy markup, one fact a line
    waiting = NumericProperty(-1)
    queue_lines = StringProperty("")
    kpis = DictProperty({})
    message = StringProperty("")
    message_error = BooleanProperty(False)
    clock_text = StringProperty("")

    def __init__(
        self,
        settings: dict,
        window: int,
        lang: str = "zh",
        printer=None,
        form_printer: Optional[str] = None,
        cups_server: Optional[str] = None,
        print_form_on_call: bool = False,
        **kw,
    ):
        super().__init__(settings, **kw)
        self.forms = FormDesk(self, form_printer, cups_server, print_form_on_call)
        self.missing = MissingDesk(self, printer)
        self.window_no = window
        self.lang = lang
        self.ticket: Optional[dict] = None
        self.config_data: Optional[dict] = None
        self._config_version = None
        self._fetching: Optional[tuple] = None
        self._message_key: Optional[tuple] = None
        self.popup = None
        self.popup_name = ""
        self.held: list = []

    # -- lifecycle -------------------------------------------------------------------------------

    def build(self):
        self.title = f"OneWindow · {self.window_no}"
        Window.clearcolor = (0.93, 0.95, 0.97, 1)
        load_kv(KV_DIR / "caller_popups.kv")
        root = Builder.load_file(str(KV_DIR / "caller.kv"))  # the root: a rule-less file
        self.bind(lang=lambda *_: self._relabel())
        Clock.schedule_interval(lambda dt: self._tick(), CLOCK_EVERY_S)
        Clock.schedule_interval(lambda dt: self._load_kpis(), KPIS_EVERY_S)
        self._tick()
        return root

    def test_screen(self) -> str:
        return self.popup_name or "main"

    EVENTS = ("rating",)  # a rating pad's bad rating asks for its reason on this screen

    def bus_event(self, kind: str, data: dict) -> None:
        if kind == "rating" and data.get("window") == self.window_no:
            reason_prompt(self, data)

    def _tick(self) -> None:
        self.clock_text = self.hall_now().strftime("%H:%M")
        self._render_ticket()

    # -- bus -> screen -----------------------------------------------------------------------------

    def on_online(self, _app, up: bool) -> None:
        if up:
            self.connected_once = True
            self._load_config()
            self._load_kpis()
        elif self.popup is not None:
            self.close_popup()

    def bus_state(self, kind: str, value) -> None:
        if kind == "hall" and isinstance(value, dict):
            self._tick()  # the hall's clock: its zone comes with this state
            self._set_title(self.client.state["windows"].get(self.window_no) or {})  # 测试 mark
            if value.get("config_version") != self._config_version and self.online:
                self._load_config()
        elif kind == "queues":
            self._render_queues()
        elif kind == f"window:{self.window_no}":
            self._on_window(value or {})

    def _on_window(self, w: dict) -> None:
        self.window_status = w.get("status") or ""
        self.held = [h for h in w.get("held") or [] if h.get("ticket_id")]
        self.has_held = bool(self.held)
        self.pause_reason = w.get("reason") or ""
        self.waiting = w.get("waiting") if isinstance(w.get("waiting"), int) else -1
        self._set_title(w)
        key = (w.get("ticket_id"), w.get("ticket_status"))
        if not key[0]:
            self._set_ticket(None)
        elif self.ticket is None or (self.ticket.get("id"), self.ticket.get("status")) != key:
            # changed elsewhere (a keypad, a restart of this app): ask for the whole ticket
            if self._fetching != key:
                self._fetching = key
                self.request("queue.status", {"ticket_id": key[0]}, self._fetched)
        self._render_queues()

    def _fetched(self, result, error) -> None:
        self._fetching = None
        w = self.client.state["windows"].get(self.window_no) or {}
        if (
            error is None
            and result.get("ticket")
            and result["ticket"].get("id") == w.get("ticket_id")
        ):
            self._set_ticket(result["ticket"])

    def _set_title(self, w: dict) -> None:
        name = w.get("name_en") if self.lang == "en" and w.get("name_en") else w.get("name")
        self.window_title = self.test_mark() + (name or f"{self.window_no}号窗口")

    def _set_ticket(self, ticket: Optional[dict]) -> None:
        self.ticket = ticket
        self._render_ticket()
        self.forms.ticket_changed(ticket)

    def _render_ticket(self) -> None:
        t, lang = self.ticket, self.lang
        self.has_ticket = t is not None
        if t is None:
            self.priority_pending = False
            self.ticket_status = ""
            self.ticket_number = TEXTS("no_ticket", lang)
            self.ticket_service = (
                TEXTS("no_ticket_hint", lang) if self.window_status == "open" else ""
            )
            self.ticket_details = ""
            return
        self.ticket_status = t.get("status") or ""
        self.ticket_number = t.get("number", "")
        self.ticket_service = t.get("service_name") or t.get("service", "")
        self.priority_pending = t.get("priority_check") == "declared"
        self.ticket_details = lines.ticket_details(t, TEXTS, lang)

    def _render_queues(self) -> None:
        queues = self.client.state.get("queues") or {}
        w = self.client.state["windows"].get(self.window_no) or {}
        self.queue_lines = lines.queue_lines(w, queues, TEXTS, self.lang)

    def _relabel(self) -> None:
        self._set_title(self.client.state["windows"].get(self.window_no) or {})
        self._render_ticket()
        self._render_queues()
        if self._message_key:
            self._say(*self._message_key)

    def _load_config(self) -> None:
        def done(result, error):
            if error is None:
                self.config_data = result
                self._config_version = (self.client.state.get("hall") or {}).get("config_version")

        self.request("config.get", {}, done)

    def _load_kpis(self) -> None:
        if not self.online:
            return

        def done(result, error):
            if error is not None:
                log.info("report.kpis: %s", error)
                return
            rows = result.get("rows") or []
            self.kpis = rows[0] if rows else {"served": 0, "no_show": 0}

        self.request("report.kpis", {"group": "window", "window": self.window_no}, done)

    def kpi_text(self, key: str, kpis: dict, lang: str) -> str:
        return lines.kpi_text(key, kpis, TEXTS, lang)

    # -- status line -----------------------------------------------------------------------------

    def _say(self, key: str, error: bool = False, **fmt) -> None:
        self._message_key = (key, error) if not fmt else None
        self.message = TEXTS(key, self.lang, **fmt)
        self.message_error = error

    def _fail(self, error: BusError) -> None:
        text = error.message_en if self.lang == "en" else error.message
        self._message_key = None
        self.message = TEXTS("error", self.lang, message=text)
        self.message_error = True
        log.info("window %d: refused: %s", self.window_no, error)

    # -- actions ---------------------------------------------------------------------------------

    def _op(self, op: str, ok, refused=None, **args) -> None:
        """One window op; `ok(result)` on success; a refusal goes to `refused(error)`, else to
        the status line."""
        if self.busy or not self.online:
            return
        self.busy = True
        self._say("working")

        def done(result, error):
            self.busy = False
            if error is not None:
                (refused or self._fail)(error)
            else:
                ok(result)

        self.request(op, {"window": self.window_no, **args}, done)

    def _after_ticket_op(self, result: dict, key: str, keep: bool, **fmt) -> None:
        ticket = result.get("ticket")
        self._set_ticket(ticket if keep else None)
        self._say(key, number=(ticket or {}).get("number", ""), **fmt)
        self._load_kpis()

    def call_next(self, current: Optional[str] = None) -> None:
        """Call the next citizen; one called here but never started is settled first, as the
        staff choose (过号 or 已办结): the controller refuses to guess (no_show_or_done)."""

        def ok(result):
            if result.get("ticket") is None:
                self._set_ticket(None)
                self._say("done_nobody", error=True)
                self._load_kpis()
            else:
                self._after_ticket_op(result, "done_call", True)

        def refused(error):
            if error.code == "no_show_or_done":
                self._say("choose_current")
                self.ask_current(error.detail.get("ticket") or self.ticket_number)
            else:
                self._fail(error)

        self._op(
            "window.call_next", ok, refused=refused, **({"current": current} if current else {})
        )

    def ask_current(self, number: str) -> None:
        popup = Factory.CurrentChoicePopup()
        popup.text = TEXTS("current_choice", self.lang, number=number)
        self.open_popup("current_choice", popup)

    def settle_and_call(self, current: str) -> None:
        self.close_popup()
        self.call_next(current)

    def recall(self) -> None:
        self._op("window.recall", lambda r: self._after_ticket_op(r, "done_recall", True))

    def start(self) -> None:
        self._op("window.start", lambda r: self._after_ticket_op(r, "done_start", True))

    def skip(self) -> None:
        self.confirm(
            "confirm_skip",
            lambda: self._op("window.skip", lambda r: self._after_ticket_op(r, "done_skip", False)),
        )

    def finish(self) -> None:
        self.confirm(
            "confirm_finish",
            lambda: self._op(
                "window.finish", lambda r: self._after_ticket_op(r, "done_finish", False)
            ),
        )
        if self.missing.choices():  # 容缺受理 is offered where the hall file allows it
            self.popup.ids.missing_button.opacity = 1
            self.popup.ids.missing_button.disabled = False

    def ask_priority(self) -> None:
        t = self.ticket or {}
        popup = Factory.PriorityPopup()
        popup.text = TEXTS(
            "priority_question",
            self.lang,
            number=t.get("number", ""),
            kind=TEXTS(f"kind_{t.get('declared') or 'disabled'}", self.lang),
        )
        self.open_popup("priority", popup)

    def decide_priority(self, decision: str) -> None:
        self.close_popup()
        self._op(
            "ticket.priority",
            lambda r: self._after_ticket_op(r, f"done_priority_{decision}", True),
            decision=decision,
        )

    def hold(self) -> None:
        self._op("window.hold", lambda r: self._after_ticket_op(r, "done_hold", False))

    def resume_held(self) -> None:
        """One held: resume them; several: staff pick whom."""
        if len(self.held) == 1:
            self.resume_ticket(self.held[0]["ticket_id"])
        elif self.held:
            self.open_popup("held", pickers.held_popup(self))

    def resume_ticket(self, ticket_id: str) -> None:
        self.close_popup()
        self._op(
            "window.resume_held",
            lambda r: self._after_ticket_op(r, "done_resume_held", True),
            ticket_id=ticket_id,
        )

    def transfer_to(self, target: dict, label: str) -> None:
        self.close_popup()
        self._op(
            "window.transfer",
            lambda r: self._after_ticket_op(r, "done_transfer", False, target=label),
            **target,
        )

    def pause_or_resume(self) -> None:
        if self.window_status == "paused":
            self._op("window.resume", lambda r: self._say("done_resume"))
        else:
            self.open_popup("pause", Factory.PausePopup())

    def pause_with(self, reason: str) -> None:
        self.close_popup()
        self._op("window.pause", lambda r: self._say("done_pause", reason=reason), reason=reason)

    def open_or_close(self) -> None:
        if self.window_status == "closed" or not self.window_status:
            self._op("window.open", lambda r: self._say("done_open"))
        else:
            self._op("window.close", lambda r: self._say("done_close"))

    def toggle_lang(self) -> None:
        self.lang = next_lang(self.lang, ["zh", "en"])  # staff screens: Chinese or English

    # -- popups ----------------------------------------------------------------------------------

    def open_popup(self, name: str, popup) -> None:
        self.close_popup()
        self.popup, self.popup_name = popup, name
        popup.bind(on_dismiss=self._popup_gone)
        popup.open(animation=False)  # a fade would swallow the touch that follows at once

    def _popup_gone(self, popup) -> None:
        if popup is self.popup:
            self.popup, self.popup_name = None, ""

    def close_popup(self) -> None:
        if self.popup is not None:
            self.popup.dismiss(animation=False)

    def confirm(self, key: str, action) -> None:
        popup = Factory.ConfirmPopup()
        popup.text = TEXTS(key, self.lang, number=self.ticket_number)

        def go():
            self.close_popup()
            action()

        popup.action = go
        self.open_popup("confirm", popup)

    def show_transfer(self) -> None:
        if self.config_data is None:
            self._say("no_config", error=True)
            self._load_config()
            return
        self.open_popup("transfer", pickers.transfer_popup(self))
