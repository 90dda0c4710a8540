"""The words of the QR pages (onewindow/web.py) in Chinese, under their keys; translations in
assets/locale (docs/translations.md). The phone pages' own are in webphone.py."""

from __future__ import annotations

from .i18n import Catalogue

W = Catalogue(
    "web",
    {
        "level_5": "非常满意",
        "level_4": "满意",
        "level_3": "基本满意",
        "level_2": "不满意",
        "level_1": "非常不满意",
        "guides_title": "办事指南",
        "guides_intro": "办事前请先查看所需材料（一次告知）。取号后，扫描号票上的二维码即可查看排队进度并评价服务。",
        "themes": "一件事一次办",
        "services": "部门事项",
        "no_ticket_title": "找不到号票",
        "no_ticket": "找不到这张号票，请核对二维码。",
        "ticket_title": "{number} 排队进度",
        "case_title": "容缺受理 · 待补齐材料",
        "case_returned": "已于 {at} 签到补件",
        "case_overdue": "已超过补件期限 {due}，请联系受理窗口",
        "case_due": "请于 {due} 前补齐",
        "case_how": "补件时携带本人身份证，在自助取号机刷证签到，直接到 {window} 办理。",
        "rate_title": "请对本次服务作出评价（好差评）",
        "rate_again": "整改后请再次评价（追加评价）",
        "rate_contact": "如希望工作人员就整改与您联系，请留下手机号码（选填，加密保存，整改办结后即删除）：",
        "rate_phone": "手机号码",
        "rate_consent": "我同意工作人员为整改与我电话联系",
        "rate_reasons": "请选择不满意的原因（至少一项，可多选）：",
        "rate_words": "具体情况（选择“其他”时必填）",
        "rate_need": "请至少选择一项原因（选择“其他”请写明原因）后提交",
        "rate_submit": "提交评价",
        "rate_pick": "请选择一个评价等级",
        "rate_reason": "请至少选择一项不满意的原因",
        "rate_other": "选择“其他”时请写明原因",
        "rate_phone_consent": "留下电话请勾选同意联系；不愿留电话请清空号码",
        "thanks": "感谢您的评价！",
        "rectify": "您反映的问题将于{at}前整改。",
        "call_back": "工作人员将于{at}前致电 {phone} 与您联系。",
        "no_item_title": "找不到事项",
        "no_item": "没有这项业务。",
        "guide_title": "{name} 办事指南",
        "process": "办理流程",
        "unavailable_title": "暂停服务",
        "unavailable": "系统暂时无法查询，请稍后刷新。",
        "no_page_title": "找不到页面",
        "no_page": "找不到该页面。",
    },
)
