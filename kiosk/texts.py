"""Every word the kiosk shows, in Chinese under its key; translations in assets/locale
(onewindow/i18n.py, docs/translations.md)."""

from __future__ import annotations

from onewindow.hallwords import refusal
from onewindow.i18n import Catalogue, pick

__all__ = ["TEXTS", "error_text", "pick", "text"]

TEXTS = Catalogue(
    "kiosk",
    {
        # top bar and everywhere
        "elder_on": "长辈模式",
        "elder_off": "标准模式",
        "help": "帮办代办",
        "back": "返回",
        "home": "首页",
        "done": "完成",
        "cancel": "取消",
        "ok": "确定",
        "yes": "是",
        "no": "否",
        "working": "正在处理，请稍候…",
        # identity
        "card_prompt": "请将身份证放在读卡区，或插入社保卡",
        "card_hello": "您好，{name}",
        "card_clear": "退出身份",
        "card_reading": "正在读卡，请不要移开证件…",
        "sample_card": "插入示例身份证",
        "sample_elder": "示例老人身份证",
        "sample_hint": "演示",
        # home
        "themes": "一件事一次办",
        "by_department": "部门事项",
        "tile_ahead": "前面 {n} 人",  # shown only with someone ahead (home.py)
        "tile_guide": "查看指南",
        "nav_guides": "办事指南",
        "nav_book": "预约办理",
        "nav_mine": "预约签到 / 查询",
        "nav_rate": "服务评价",
        "closed_banner": "现在是非办公时间（窗口开放时间：{when}）。可自助查看办事指南、预约、查询和评价。",
        "printer_banner": "{reason}：号票将显示在屏幕上，请用手机拍照保存二维码。",
        "no_printer_banner": "本机不打印号票：取号后请用手机拍照保存二维码。",
        "choose": "请选择要办理的事项",
        # confirm
        "confirm_title": "确认取号",
        "confirm_waiting": "现在取号，前面 {n} 人 · {wait}",
        # nobody ahead: "前面 0 人" is no sentence a citizen would say
        "confirm_none_ahead": "现在取号，前面没有人 · {wait}",
        "take_number": "取号",
        "see_guide": "办事指南（一次告知）",
        "elder_hint": "{age}岁以上老人请先刷身份证，优先办理",
        "identified_hint": "将以 {name} 的身份取号",
        "will_not_print": "打印机暂不可用，号票将显示在屏幕上",
        # ticket
        "ticket_title": "取号成功",
        "ticket_ahead": "您前面还有 {n} 人",
        "ticket_none_ahead": "您前面没有人在等候",
        "ticket_estimate": "预计等候：{wait}",
        "ticket_printing": "号票正在打印，请取走号票",
        "ticket_printed": "号票已打印，请取走号票并留意叫号",
        "ticket_not_printed": "号票未能打印（{reason}）。请用手机拍下本页二维码，凭号码办理；已通知工作人员。",
        "ticket_screen_only": "请用手机拍下本页二维码，扫码可随时查看排队进度",
        "ticket_scan": "扫码查看排队进度",
        "ticket_for": "办事人：{name}",
        "ticket_appointment": "预约已签到 {time}",
        "priority_elder": "老年人优先",
        "priority_disabled": "残疾人优先",
        "priority_veteran": "军人优先",
        "priority_pregnant": "孕妇优先",
        "priority_other": "优先办理",
        "case_checkin": "补件签到 · {number}（{materials}）\n点此直接到{window}排队",
        "ticket_supplement": "补件",
        "declared_note": "绿色通道为自报，请到窗口出示相关证件",
        "green_title": "绿色通道（可选）",
        "green_disabled": "残疾人",
        "green_veteran": "军人",
        "green_pregnant": "孕妇",
        "green_hint": "已选择：{kind}，请到窗口出示证件",
        "rate_after": "办理完毕后，欢迎在本机或窗口评价器对服务作出评价",
        # guides
        "guides_title": "办事指南",
        "guide_conditions": "办理条件",
        "guide_process": "办理流程",
        "guide_materials": "所需材料",
        "guide_missing_ok": "可容缺",
        "guide_missing_note": "标注“可容缺”的材料可先受理、后补交",
        "guide_faq": "常见问题",
        "faq_item": "问：{q}\n答：{a}",
        "list_sep": "、",
        "guide_facts_title": "时限、收费与地点",
        "guide_print": "打印明白卡",
        "guide_printing": "正在打印明白卡…",
        "guide_printed": "明白卡已打印，请取走",
        "guide_print_failed": "明白卡未能打印（{reason}），请扫码查看",
        "guide_qr": "扫码查看完整指南",
        "guide_take": "取号办理",
        # themes
        "theme_intro": "请回答以下问题，系统将为您确定需要办理的事项和材料（一次告知）",
        "theme_items": "将一并办理",
        "theme_materials": "合并后的材料清单",
        "theme_take": "一次取号，全部办理",
        # 一表申请
        "form_intro": "一表申请：基本信息已从身份证读取，请补充以下内容并确认",
        "form_basic": "申请人基本信息（来自身份证）",
        "form_items": "办理事项信息",
        "form_by_hand": "请在打印的申请表上手写",
        "form_tap": "点此输入",
        "form_confirm": "确认申请表并取号",
        "form_skip": "不填表，直接取号",
        "form_key_clear": "清空",
        "form_key_back": "退格",
        "form_key_pick": "选字",
        "form_key_done": "完成",
        "form_pinyin_hint": "点此用拼音输入，也可打印后手写",
        "form_printing": "正在打印您的申请表…",
        "form_printed": "申请表已打印，请取走，核对后签字",
        "form_not_printed": "申请表未能打印：{reason}。已通知工作人员，窗口可为您打印",
        # appointments
        "book_title": "预约办理",
        "book_choose": "请选择预约事项",
        "book_slots": "请选择预约时段",
        "book_free": "余 {n}",
        "book_full": "已约满",
        "book_none": "近期没有可预约的时段，请改日再试",
        "book_need_card": "请放置身份证以完成预约",
        "book_confirm": "确认预约 {time}",
        "book_done_title": "预约成功",
        "book_done_text": "请按时到大厅，在自助机刷身份证签到取号（可提前{early}分钟签到）",
        "weekday": "周一|周二|周三|周四|周五|周六|周日",
        "day_label": "{date} {weekday}",
        # check-in and my tickets
        "mine_title": "预约签到 / 我的办件",
        "mine_prompt": "请放置身份证或插入社保卡，查询您的预约和今日号票",
        "mine_none": "没有查到您的预约或今日号票",
        "mine_appointments": "我的预约",
        "mine_tickets": "今日号票",
        "checkin": "签到取号",
        "rate": "评价",
        "status_waiting": "等候中，前面 {n} 人 · {wait}",
        "status_none_ahead": "等候中，前面没有人 · {wait}",
        "status_called": "请到 {window} 办理",
        "status_serving": "正在办理",
        "status_done": "已办结",
        "status_no_show": "已过号",
        "status_cancelled": "已取消",
        # rating
        "rate_title": "服务评价（好差评）",
        "rate_which": "请选择要评价的服务",
        "rate_how": "您对本次服务是否满意？",
        "rate_ticket": "号票 {number}",
        "rate_window": "{name}",
        "rate_level_5": "非常满意",
        "rate_level_4": "满意",
        "rate_level_3": "基本满意",
        "rate_level_2": "不满意",
        "rate_level_1": "非常不满意",
        "rate_reasons": "请选择不满意的原因（可多选）",
        "rate_reasons_needed": "请至少选择一项原因后再提交（其他原因可扫描号票二维码填写）",
        "rate_submit": "提交评价",
        "rate_thanks": "感谢您的评价！",
        "rate_thanks_bad": "感谢您的评价，我们将在1个工作日内与您联系并整改。",
        # help
        "help_sent": "已通知工作人员，马上来为您帮办代办，请在本机旁稍候",
        # out of service
        "oos_text": "暂停服务，请稍候或到服务台咨询",
        "oos_sub": "系统正在自动恢复",
        "offline_banner": "系统连接中断，暂时无法取号。{where}。{hours}。办事指南仍可查看，系统恢复后自动继续取号。",
        "offline_hours": "今天窗口开放时间 {ranges}",
        "offline_no_hours": "今天窗口不开放",
        "offline_where": "请到{place}综合窗口咨询",
        "offline_desk": "请到服务台咨询",
        "offline_phone": "，咨询电话 {phone}",
        "tile_offline": "查看办事指南",
        # errors
        "err_unavailable": "系统暂时无法连接，请稍后再试或到服务台咨询",
        "err_generic": "操作未成功，请到服务台咨询",
    },
)


def text(key: str, lang: str = "zh", **fmt) -> str:
    return TEXTS(key, lang, **fmt)


def error_text(error, lang: str) -> str:
    """What the citizen reads when the controller says no (its own message, in their language)."""
    message = getattr(error, "message", None)
    if getattr(error, "code", "") == "unavailable" or not message:
        return text(
            "err_unavailable" if getattr(error, "code", "") == "unavailable" else "err_generic",
            lang,
        )
    return refusal(message, lang, getattr(error, "message_en", None) or "")
