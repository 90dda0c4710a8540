"""The hall file's [[windows]]: the service windows and what each serves."""

from __future__ import annotations

from ..domain.model import WINDOW_KINDS
from .options import CODE, Option, Section, tr

# required: "the hall needs at least one window" is checked with the cross checks
WINDOWS = Section(
    "windows",
    "One service window (窗口). Repeat `[[windows]]` for each; the hall needs at least one.",
    array=True,
    label="number",
    required=True,
    options=(
        Option(
            "number",
            int,
            minval=1,
            maxval=999,
            example=4,
            doc="The window's number: on tickets, screens, voice and caller devices.",
        ),
        *tr(
            Option("name", str, example="4号户籍窗口", doc="Its name on screens."),
            en="Window 4",
            bo="སྒེའུ་ཁུང་ཨང་4",
        ),
        Option(
            "kind",
            str,
            "specialist",
            choices=WINDOW_KINDS,
            example="specialist",
            doc="`comprehensive` (综合窗口: with no `services`, serves every service and theme), "
            "`specialist` (its services, in the order given) or `pickup` (出件).",
        ),
        Option(
            "services",
            list,
            [],
            items="string",
            pattern=CODE,
            example=["A", "B"],
            doc="Service and theme codes it serves, in order; required unless comprehensive.",
        ),
        *tr(Option("location", str, "", example="一楼A区", doc="Where it is, for directions.")),
    ),
)
