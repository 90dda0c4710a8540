"""Every word the kiosk shows: zh-CN first, English second (the one catalogue of the app)."""

from __future__ import annotations

from onewindow.i18n import Catalogue

TEXTS = Catalogue(
    {
        # top bar and everywhere
        "lang_switch": ("English", "中文"),
        "elder_on": ("长辈模式", "Large text"),
        "elder_off": ("标准模式", "Normal text"),
        "help": ("帮办代办", "Ask for help"),
        "back": ("返回", "Back"),
        "home": ("首页", "Home"),
        "done": ("完成", "Done"),
        "cancel": ("取消", "Cancel"),
        "ok": ("确定", "OK"),
        "yes": ("是", "Yes"),
        "no": ("否", "No"),
        "working": ("正在处理，请稍候…", "One moment please…"),
        # identity
        "card_prompt": (
            "请将身份证放在读卡区，或插入社保卡",
            "Place your ID card on the reader or insert your social security card",
        ),
        "card_hello": ("您好，{name}", "Hello, {name}"),
        "card_clear": ("退出身份", "Sign out"),
        "card_reading": ("正在读卡，请不要移开证件…", "Reading your card, please keep it still…"),
        "sample_card": ("插入示例身份证", "Sample ID card"),
        "sample_elder": ("示例老人身份证", "Sample ID (aged 60+)"),
        "sample_hint": ("演示", "demo"),
        # home
        "themes": ("一件事一次办", "One-stop life events"),
        "by_department": ("部门事项", "Services by department"),
        "tile_ahead": ("前面 {n} 人", "{n} ahead"),
        "tile_guide": ("查看指南", "See guide"),
        "nav_guides": ("办事指南", "Service guides"),
        "nav_book": ("预约办理", "Book a visit"),
        "nav_mine": ("预约签到 / 查询", "Check in / My tickets"),
        "nav_rate": ("服务评价", "Rate our service"),
        "closed_banner": (
            "现在是非办公时间（窗口开放时间：{when}）。可自助查看办事指南、预约、查询和评价。",
            "The windows are closed now and open {when}. Guides, bookings, queries and rating remain available.",
        ),
        "printer_banner": (
            "{reason}：号票将显示在屏幕上，请用手机拍照保存二维码。",
            "{reason}: your ticket will be shown on screen; please photograph its QR code.",
        ),
        "no_printer_banner": (
            "本机不打印号票：取号后请用手机拍照保存二维码。",
            "This kiosk does not print: please photograph your ticket's QR code.",
        ),
        "choose": ("请选择要办理的事项", "Please choose a service"),
        # confirm
        "confirm_title": ("确认取号", "Take a number"),
        "confirm_waiting": (
            "现在取号，前面 {n} 人 · {wait}",
            "Taking a number now: {n} ahead · {wait}",
        ),
        "take_number": ("取号", "Take a number"),
        "see_guide": ("办事指南（一次告知）", "What to bring"),
        "elder_hint": (
            "60岁以上老人请先刷身份证，优先办理",
            "Aged 60 or over? Read your ID card first to be served with priority",
        ),
        "identified_hint": ("将以 {name} 的身份取号", "The ticket will be for {name}"),
        "will_not_print": (
            "打印机暂不可用，号票将显示在屏幕上",
            "The printer is unavailable: the ticket will be shown on screen",
        ),
        # ticket
        "ticket_title": ("取号成功", "Your ticket"),
        "ticket_ahead": ("您前面还有 {n} 人", "{n} people ahead of you"),
        "ticket_estimate": ("预计等候：{wait}", "Estimated wait: {wait}"),
        "ticket_printing": ("号票正在打印，请取走号票", "Printing your ticket, please take it"),
        "ticket_printed": (
            "号票已打印，请取走号票并留意叫号",
            "Please take your ticket and watch for your number",
        ),
        "ticket_not_printed": (
            "号票未能打印（{reason}）。请用手机拍下本页二维码，凭号码办理；已通知工作人员。",
            "The ticket could not be printed ({reason}). Please photograph this QR code and keep your number; staff have been told.",
        ),
        "ticket_screen_only": (
            "请用手机拍下本页二维码，扫码可随时查看排队进度",
            "Photograph this QR code to follow your place in the queue",
        ),
        "ticket_scan": ("扫码查看排队进度", "Scan to follow the queue"),
        "ticket_for": ("办事人：{name}", "For: {name}"),
        "ticket_appointment": ("预约已签到 {time}", "Appointment checked in, {time}"),
        "priority_elder": ("老年人优先", "Priority: aged 60+"),
        "priority_disabled": ("残疾人优先", "Priority: disabled"),
        "priority_veteran": ("军人优先", "Priority: service member"),
        "priority_pregnant": ("孕妇优先", "Priority: pregnancy"),
        "priority_other": ("优先办理", "Priority"),
        "case_checkin": (
            "补件签到 · {number}（{materials}）\n点此直接到{window}排队",
            "Bringing materials for {number} ({materials}): tap to queue for {window}",
        ),
        "ticket_supplement": ("补件", "Bringing materials"),
        "declared_note": (
            "绿色通道为自报，请到窗口出示相关证件",
            "Declared priority: show your certificate at the window",
        ),
        "green_title": ("绿色通道（可选）", "Priority lane (optional)"),
        "green_disabled": ("残疾人", "Disabled"),
        "green_veteran": ("军人", "Service member"),
        "green_pregnant": ("孕妇", "Pregnant"),
        "green_hint": (
            "已选择：{kind}，请到窗口出示证件",
            "Chosen: {kind}; show your certificate at the window",
        ),
        "rate_after": (
            "办理完毕后，欢迎在本机或窗口评价器对服务作出评价",
            "After your visit, please rate our service here or at the window",
        ),
        # guides
        "guides_title": ("办事指南", "Service guides"),
        "guide_conditions": ("办理条件", "Who can apply"),
        "guide_process": ("办理流程", "Steps"),
        "guide_materials": ("所需材料", "What to bring"),
        "guide_missing_ok": ("可容缺", "may follow later"),
        "guide_missing_note": (
            "标注“可容缺”的材料可先受理、后补交",
            "Items marked “may follow later” can be handed in after your application",
        ),
        "guide_faq": ("常见问题", "Questions"),
        "guide_facts_title": ("时限、收费与地点", "Time, fee and place"),
        "guide_print": ("打印明白卡", "Print this guide"),
        "guide_printing": ("正在打印明白卡…", "Printing…"),
        "guide_printed": ("明白卡已打印，请取走", "Printed: please take your guide card"),
        "guide_print_failed": (
            "明白卡未能打印（{reason}），请扫码查看",
            "Could not print ({reason}); please scan the QR code",
        ),
        "guide_qr": ("扫码查看完整指南", "Scan for the full guide"),
        "guide_take": ("取号办理", "Take a number"),
        # themes
        "theme_intro": (
            "请回答以下问题，系统将为您确定需要办理的事项和材料（一次告知）",
            "Answer these questions and we will list what you need to do and bring",
        ),
        "theme_items": ("将一并办理", "Included"),
        "theme_materials": ("合并后的材料清单", "Everything to bring"),
        "theme_take": ("一次取号，全部办理", "One ticket for everything"),
        # 一表申请
        "form_intro": (
            "一表申请：基本信息已从身份证读取，请补充以下内容并确认",
            "One form for everything: your details come from the ID card; add the rest",
        ),
        "form_basic": ("申请人基本信息（来自身份证）", "Applicant (from the ID card)"),
        "form_items": ("办理事项信息", "For the services"),
        "form_by_hand": ("请在打印的申请表上手写", "Written by hand on the printed form"),
        "form_tap": ("点此输入", "Tap to enter"),
        "form_confirm": ("确认申请表并取号", "Confirm the form and take a number"),
        "form_skip": ("不填表，直接取号", "Skip the form"),
        "form_key_clear": ("清空", "Clear"),
        "form_key_back": ("退格", "Back"),
        # appointments
        "book_title": ("预约办理", "Book a visit"),
        "book_choose": ("请选择预约事项", "Choose a service"),
        "book_slots": ("请选择预约时段", "Choose a time"),
        "book_free": ("余 {n}", "{n} left"),
        "book_full": ("已约满", "full"),
        "book_none": ("近期没有可预约的时段，请改日再试", "No free times in the coming days"),
        "book_need_card": ("请放置身份证以完成预约", "Place your ID card to complete the booking"),
        "book_confirm": ("确认预约 {time}", "Book {time}"),
        "book_done_title": ("预约成功", "Booked"),
        "book_done_text": (
            "请按时到大厅，在自助机刷身份证签到取号（可提前{early}分钟签到）",
            "Come to the hall on time and read your ID card at a kiosk to check in (up to {early} minutes early)",
        ),
        "weekday": ("一二三四五六日", "MonTueWedThuFriSatSun"),
        # check-in and my tickets
        "mine_title": ("预约签到 / 我的办件", "Check in / My tickets"),
        "mine_prompt": (
            "请放置身份证或插入社保卡，查询您的预约和今日号票",
            "Place your ID card to see your bookings and today's tickets",
        ),
        "mine_none": ("没有查到您的预约或今日号票", "No bookings or tickets found for you"),
        "mine_appointments": ("我的预约", "My bookings"),
        "mine_tickets": ("今日号票", "Today's tickets"),
        "checkin": ("签到取号", "Check in"),
        "rate": ("评价", "Rate"),
        "status_waiting": ("等候中，前面 {n} 人 · {wait}", "waiting, {n} ahead · {wait}"),
        "status_called": ("请到 {window} 办理", "please go to {window}"),
        "status_serving": ("正在办理", "being served"),
        "status_done": ("已办结", "done"),
        "status_no_show": ("已过号", "missed"),
        "status_cancelled": ("已取消", "cancelled"),
        # rating
        "rate_title": ("服务评价（好差评）", "Rate our service"),
        "rate_which": ("请选择要评价的服务", "Which visit do you want to rate?"),
        "rate_how": ("您对本次服务是否满意？", "How satisfied were you?"),
        "rate_ticket": ("号票 {number}", "Ticket {number}"),
        "rate_window": ("{name}", "{name}"),
        "rate_level_5": ("非常满意", "Very satisfied"),
        "rate_level_4": ("满意", "Satisfied"),
        "rate_level_3": ("基本满意", "Fairly satisfied"),
        "rate_level_2": ("不满意", "Dissatisfied"),
        "rate_level_1": ("非常不满意", "Very dissatisfied"),
        "rate_reasons": ("请选择不满意的原因（可多选）", "What went wrong? (choose any)"),
        "rate_reasons_needed": (
            "请至少选择一项原因后再提交（其他原因可扫描号票二维码填写）",
            "Choose at least one reason to submit (other reasons: scan the ticket's QR code)",
        ),
        "rate_submit": ("提交评价", "Submit"),
        "rate_thanks": ("感谢您的评价！", "Thank you for your rating!"),
        "rate_thanks_bad": (
            "感谢您的评价，我们将在1个工作日内与您联系并整改。",
            "Thank you. We will contact you within one working day and put it right.",
        ),
        # help
        "help_sent": (
            "已通知工作人员，马上来为您帮办代办，请在本机旁稍候",
            "A member of staff is on the way to help you. Please wait here.",
        ),
        # out of service
        "oos_text": (
            "暂停服务，请稍候或到服务台咨询",
            "Out of service. Please wait a moment or ask at the service desk.",
        ),
        "oos_sub": ("系统正在自动恢复", "The system is recovering by itself"),
        "offline_banner": (
            "系统连接中断，暂时无法取号。{where}。{hours}。办事指南仍可查看，系统恢复后自动继续取号。",
            "The system is offline: numbers cannot be taken right now. {where}. {hours}. Guides are still "
            "here; taking numbers resumes by itself.",
        ),
        "offline_hours": ("今天窗口开放时间 {ranges}", "Windows open today {ranges}"),
        "offline_no_hours": ("今天窗口不开放", "The windows are closed today"),
        "offline_where": ("请到{place}综合窗口咨询", "Please ask at the service windows ({place})"),
        "offline_desk": ("请到服务台咨询", "Please ask at the service desk"),
        "offline_phone": ("，咨询电话 {phone}", ", phone {phone}"),
        "tile_offline": ("查看办事指南", "Guide"),
        # errors
        "err_unavailable": (
            "系统暂时无法连接，请稍后再试或到服务台咨询",
            "The hall system cannot be reached. Please try again or ask at the service desk.",
        ),
        "err_generic": (
            "操作未成功，请到服务台咨询",
            "That did not work. Please ask at the service desk.",
        ),
    }
)


def text(key: str, lang: str = "zh", **fmt) -> str:
    return TEXTS(key, lang, **fmt)


def pick(obj: dict, field: str, lang: str) -> str:
    """A config object's own text in the citizen's language (name / name_en, text / text_en)."""
    if lang == "en" and obj.get(f"{field}_en"):
        return obj[f"{field}_en"]
    return obj.get(field) or ""


def error_text(error, lang: str) -> str:
    """What the citizen reads when the controller says no (its own message, in their language)."""
    message = getattr(error, "message", None)
    if getattr(error, "code", "") == "unavailable" or not message:
        return text(
            "err_unavailable" if getattr(error, "code", "") == "unavailable" else "err_generic",
            lang,
        )
    return error.message_en if lang == "en" else message
