"""Every section and option of the hall file, declared once: the validator reads its options
from here and docs/hall-file.md is generated from here, so the two cannot disagree.

The types are in `options`; the sections in modules named for them (`hall`: [hall], [hours],
[rules]; `services`: [[services]] with guide and form; `themes`; `windows`; `outreach`:
[rating], [voice], [mobile], [uplink]). Other code imports every name from here."""

from __future__ import annotations

from .hall import DAYS, HALL, HOURS, RULES
from .options import (
    CODE,
    HALL_ID,
    LANGUAGE_NAMES,
    LANGUAGES,
    PREFIX,
    RULES_MAX,
    TRANSLATION_EXAMPLES,
    Option,
    Section,
    tr,
)
from .outreach import DEFAULT_REASONS, MOBILE, OTHER_REASON, RATING, REASON, UPLINK, VOICE
from .services import FAQ, FORM, FORM_FIELDS, GUIDE, MATERIALS, SERVICES
from .themes import THEMES
from .windows import WINDOWS

__all__ = [
    "CODE",
    "CROSS_CHECKS",
    "DAYS",
    "DEFAULT_REASONS",
    "FAQ",
    "FILE",
    "FORM",
    "FORM_FIELDS",
    "GUIDE",
    "HALL",
    "HALL_ID",
    "HOURS",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "MATERIALS",
    "MOBILE",
    "OTHER_REASON",
    "Option",
    "PREFIX",
    "RATING",
    "REASON",
    "RULES",
    "RULES_MAX",
    "SERVICES",
    "Section",
    "THEMES",
    "TRANSLATION_EXAMPLES",
    "UPLINK",
    "VOICE",
    "WINDOWS",
    "tr",
]

FILE = Section(
    "",
    "The hall file.",
    sections=(HALL, HOURS, RULES, SERVICES, THEMES, WINDOWS, RATING, VOICE, MOBILE, UPLINK),
)

# checks that involve several options, made after every option was read (see _cross_check)
CROSS_CHECKS = (
    "Service and theme codes are unique, and so are their prefixes.",
    "A theme's `items` and its questions' `adds` name services.",
    "A window's `services` name services or themes; window numbers are unique.",
    "Every window other than a comprehensive one lists its services.",
    "`[rating] reasons`: 1 to 9, each once.",
    "Form fields: no key of the ID card or contact, no key twice in a form, a key in two "
    "services has one type and one set of options, a `choice` has options and only it has.",
    "The hall has at least one window. A service no window serves is a warning, not an error: "
    "its tickets wait until a window serves it.",
)
