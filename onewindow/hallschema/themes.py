"""The hall file's [[themes]]: 一件事, several services on one ticket."""

from __future__ import annotations

from .options import CODE, PREFIX, Option, Section, tr

THEMES = Section(
    "themes",
    "一件事: several services on one ticket, served at a comprehensive window (or one "
    "that lists the theme). Repeat `[[themes]]` for each.",
    array=True,
    label="code",
    sections=(
        Section(
            "themes.questions",
            "A yes/no question asked on the kiosk; a yes adds services.",
            array=True,
            label="id",
            options=(
                Option("id", str, pattern=CODE, example="fund", doc="The question's id."),
                *tr(
                    Option("text", str, example="父母是否需要提取公积金？", doc="The question."),
                    en="Will the parents withdraw housing fund?",
                ),
                Option(
                    "adds",
                    list,
                    [],
                    items="string",
                    pattern=CODE,
                    example=["L"],
                    doc="Service codes included when the answer is yes.",
                ),
            ),
        ),
    ),
    options=(
        Option(
            "code",
            str,
            pattern=CODE,
            example="T1",
            doc="The theme's code: unique among services and themes.",
        ),
        *tr(
            Option("name", str, example="新生儿出生一件事", doc="Its name on the kiosk."),
            en="Having a baby",
        ),
        Option(
            "prefix",
            str,
            pattern=PREFIX,
            example="Y",
            doc="The letters in front of its ticket numbers; unique among services and themes.",
        ),
        *tr(
            Option(
                "lead_department",
                str,
                example="县卫健局",
                doc="The department leading it (牵头部门).",
            )
        ),
        Option(
            "items",
            list,
            [],
            items="string",
            pattern=CODE,
            example=["A", "E", "D"],
            doc="Service codes always included.",
        ),
        Option(
            "form_title",
            str,
            "",
            example="新生儿出生一件事联办申请表",
            default_doc="the name followed by 申请表",
            doc="The title of the merged form of its items' forms (docs/forms.md).",
        ),
        Option(
            "time_limit_days",
            int,
            None,
            minval=0,
            maxval=3650,
            example=5,
            default_doc="not stated",
            doc="Promised working days for the whole bundle; 0: settled on the spot (即办). "
            "Left out, none is shown and `config check` warns.",
        ),
        Option(
            "daily_quota",
            int,
            0,
            minval=0,
            maxval=9999,
            example=50,
            doc="Tickets a day; 0 = no limit.",
        ),
    ),
)
