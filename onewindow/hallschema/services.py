"""The hall file's [[services]]: each service, its own hours, its guide (materials, FAQ) and its
application form."""

from __future__ import annotations

from ..domain.forms import FIELD_TYPES
from .hall import extra_days, hours_options
from .options import CODE, PREFIX, Option, Section, tr

MATERIALS = Section(
    "services.guide.materials",
    "One required material (申请材料), in the order citizens "
    "should prepare them. 一件事 themes merge their items' lists.",
    array=True,
    label="name",
    options=(
        *tr(
            Option("name", str, example="居民身份证", doc="What to bring."),
            en="Resident ID card",
            bo="ཐོབ་ཐང་ལག་ཁྱེར།",
        ),
        Option("originals", int, 1, minval=0, maxval=99, example=1, doc="Originals to show."),
        Option("copies", int, 0, minval=0, maxval=99, example=1, doc="Photocopies to hand in."),
        Option(
            "missing_ok",
            bool,
            False,
            example=True,
            doc="容缺受理: the application is accepted without it; it can follow later.",
        ),
        *tr(Option("issuer", str, "", example="助产医院", doc="Who issues it.")),
        Option(
            "electronic",
            bool,
            False,
            example=True,
            doc="An electronic licence (电子证照) is accepted instead.",
        ),
        *tr(Option("note", str, "", example="可现场免费拍照", doc="A hint shown beside it.")),
    ),
)

FAQ = Section(
    "services.guide.faq",
    "A common question and its answer, shown in the guide.",
    array=True,
    options=(
        *tr(Option("q", str, example="身份证丢了能马上拿到临时身份证吗？", doc="The question.")),
        *tr(Option("a", str, example="可以，当场办理临时居民身份证。", doc="The answer.")),
    ),
)

GUIDE = Section(
    "services.guide",
    "The service's guide (办事指南), shown on the kiosk and the QR pages.",
    sections=(MATERIALS, FAQ),
    options=(
        *tr(
            Option(
                "conditions",
                str,
                "",
                example="年满16周岁的本县户籍居民。",
                doc="Who may apply (受理条件).",
            )
        ),
        *tr(
            Option(
                "process",
                str,
                "",
                example="取号 → 窗口核验材料 → 现场办结",
                doc="The steps (办理流程).",
            ),
            en="Take a number → documents checked at the window → done on the spot",
        ),
        Option(
            "legal_limit_days",
            int,
            None,
            minval=0,
            maxval=3650,
            example=20,
            default_doc="not stated",
            doc="法定办结时限, working days; 0: not stated.",
        ),
        Option(
            "time_limit_days",
            int,
            None,
            minval=0,
            maxval=3650,
            example=1,
            default_doc="not stated",
            doc="承诺办结时限 (the hall's promise), working days; 0: settled on the spot (即办). "
            "Left out, no time limit is shown and `config check` warns.",
        ),
        *tr(
            Option(
                "fee",
                str,
                None,
                example="不收费",
                default_doc="not stated",
                doc="Fees (收费标准), shown as written (e.g. 不收费). Left out, no fee is shown (never "
                "a made-up 免费) and `config check` warns.",
            ),
            en="Free",
        ),
        *tr(Option("place", str, "", example="一楼A区 4-5号窗口", doc="Where it is handled.")),
        Option("phone", str, "", example="0930-12345-101", doc="Enquiry phone for this service."),
        Option(
            "url",
            str,
            "",
            example="http://192.168.10.2:8080/guide/A",
            doc="The guide's web page, shown as a QR code on the kiosk's guide screen.",
        ),
        Option(
            "visits",
            int,
            None,
            minval=0,
            maxval=9,
            example=1,
            default_doc="not stated",
            doc="Visits needed (到现场次数): 0 = 零跑腿, 1 = 最多跑一次.",
        ),
    ),
)

FORM_FIELDS = Section(
    "services.form.fields",
    "One field of the service's own (beyond the applicant's basic data from the ID card and "
    "the contact phone, which every form has), in the order printed. A 一件事 theme's merged "
    "form shows a key once (docs/forms.md).",
    array=True,
    label="key",
    options=(
        Option(
            "key",
            str,
            pattern=r"[a-z][a-z0-9_]{0,31}",
            example="relation",
            doc="The field's key: the same key in two services is one field on a merged form "
            "(same type and options required). Not one of the card's or contact's keys "
            "(name, sex, nation, birth, address, id_number, phone).",
        ),
        Option(
            "label",
            str,
            example="申请人与新生儿关系",
            doc="Its label on screens and the printed form.",
        ),
        Option("label_en", str, "", example="Applicant is the baby's", doc="English label."),
        Option(
            "type",
            str,
            "text",
            choices=FIELD_TYPES,
            example="choice",
            doc="`text` (written by hand on the printed form: the kiosk has no Chinese "
            "keyboard), `digits` (numbers, a capital check letter allowed), `phone`, `date` "
            "(YYYY-MM-DD) or `choice` (one of `options`); the kiosk offers a number pad or "
            "buttons for the last four.",
        ),
        Option(
            "required",
            bool,
            False,
            example=True,
            doc="The kiosk does not confirm the form without it (a `text` field is left blank "
            "for the citizen's hand).",
        ),
        Option(
            "options",
            list,
            [],
            items="string",
            example=["父亲", "母亲", "其他监护人"],
            doc="The choices of a `choice` field, in order.",
        ),
    ),
)

FORM = Section(
    "services.form",
    "一表申请: the service's application form, pre-filled from the ID card at the kiosk, "
    "shown at the window and printed on A4 (docs/forms.md). Left out: the service has none.",
    sections=(FORM_FIELDS,),
    options=(Option("title", str, example="户口登记申请表", doc="The form's title."),),
)

SERVICES = Section(
    "services",
    "One service (事项) citizens take tickets for. Repeat `[[services]]` for each.",
    array=True,
    label="code",
    sections=(
        Section(
            "services.hours",
            "The service's own opening hours, replacing the hall's for its "
            "tickets and appointments (e.g. a desk open only in the mornings). Left out: the "
            "hall's hours.",
            options=hours_options(True),
            sections=(extra_days("services.hours.extra_days"),),
        ),
        GUIDE,
        FORM,
    ),
    options=(
        Option(
            "code",
            str,
            pattern=CODE,
            example="A",
            doc="The service's code: unique among services and themes; windows list it.",
        ),
        *tr(
            Option(
                "name", str, example="户籍业务", doc="The name on the kiosk's buttons and screens."
            ),
            en="Household registration",
            bo="ཐེམ་ཐོའི་ལས་དོན།",
        ),
        *tr(
            Option(
                "department",
                str,
                example="县公安局",
                doc="The department (部门) it belongs to; reports group by it.",
            ),
            en="County Public Security Bureau",
        ),
        Option(
            "prefix",
            str,
            None,
            pattern=PREFIX,
            default_doc="the code",
            example="A",
            doc="The letters in front of its ticket numbers (A001); unique among services and "
            "themes.",
        ),
        Option(
            "basic_code",
            str,
            "",
            pattern=r"[0-9A-Za-z-]{0,36}",
            example="000111000000",
            doc="The item's GB/T 39046 basic code (基本编码), up to 36 letters, digits and "
            "`-`; in every rating of the service exported. Empty: left out of the export.",
        ),
        Option(
            "item_code",
            str,
            "",
            pattern=r".{0,36}",
            example="11620000MB1234567X4000111000",
            doc="The item's GB/T 39046 implementation code (实施编码), up to 36 characters; in "
            "every rating of the service exported. Empty: left out of the export.",
        ),
        Option(
            "item_type",
            str,
            "",
            example="公共服务",
            doc="The item's type (事项类型): 行政许可, 行政确认, 公共服务, ...",
        ),
        Option(
            "daily_quota",
            int,
            0,
            minval=0,
            maxval=9999,
            example=200,
            doc="Walk-in tickets a day (每日号源); 0 = no limit. Appointments are not counted.",
        ),
        Option("appointments", bool, True, example=False, doc="Whether it can be booked ahead."),
        Option(
            "appointment_per_slot",
            int,
            2,
            minval=0,
            maxval=999,
            example=4,
            doc="Appointments per slot (`rules.appointment_slot_min`).",
        ),
        Option(
            "pickup",
            bool,
            False,
            example=True,
            doc="The 出件 queue: collecting finished documents (served by the windows that list "
            "it, usually a `pickup` window).",
        ),
    ),
)
