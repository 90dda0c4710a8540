r"""Text read off a card, made safe to show, print and log: no terminal escapes, controls or bidi marks.

A card's chip holds whatever its maker wrote. A name carrying ESC [2J would wipe an installer's
terminal, a right-to-left override (U+202E) would show "张三" where the data says something else
and reorder a ticket line, a zero-width character makes two names look alike. Such characters
have no place in a name or an address, so they are removed rather than refused.

    >>> clean_text("张\u202e小三")
    '张小三'
    >>> clean_text("\x1b[2J\x1b]0;pwned\x07SMITH, JOHN\x1b[0m")
    'SMITH, JOHN'
    >>> clean_text("示范路\n1号\u200b  ")
    '示范路1号'
    >>> clean_text("\ue000军")          # private use stays: cards carry rare hanzi (生僻字) there
    '\ue000军'
"""

from __future__ import annotations

import re
import unicodedata

# ECMA-48 sequences a terminal acts on, removed whole so that no "[31m" is left behind
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI: colours, cursor moves, erase
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC, DCS...: titles, links
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # the rest: ESC c (reset), ESC ( 0 (charset)
)
# Cc: C0 and C1 controls and DEL. Cf: format characters, among them the bidi embeddings and
# overrides (U+202A-202E), isolates (U+2066-2069), LRM, RLM and ALM, zero-width characters and
# the BOM. Zl, Zp: line and paragraph separators. An unterminated escape loses its ESC here.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})


def clean_text(text: str) -> str:
    """`text` without escape sequences and invisible characters, trimmed at both ends."""
    text = _ESCAPES.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE).strip()
