"""A voice pack: a folder of recorded clips and the manifest saying what each clip says and in
which order a call is read (docs/voice-packs.md). Pure planning; the sound is voiceaudio's.

    plan(pack, Call("A012", 3)) ->
        ["qing", "letter.A", "digit.0", "digit.1", "digit.2.final", "hao", PAUSE,
         "dao", "digit.3.final", "hao", "chuangkou", "banli"]        (a Mandarin pack)

Ticket numbers are read letter by letter and digit by digit (people compare what they hear
with the slip in their hand); the last digit in its "final" take, the one said before 号, so
the number does not end on a mid-sentence pitch. A window is the pack's recording of that
window (`window.N`) if it has one, else its number said as the pack's `numbers` says.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from onewindow.configreader import ConfigError, Table
from onewindow.shipped import shipped

SYSTEM_PACKS = Path("/etc/onewindow/voice")  # a hall's own packs
SHIPPED_PACKS = "assets/voice"
DEFAULT_PACK = "zh-espeak"  # the Mandarin pack shipped with OneWindow
MANIFEST = "manifest.toml"
ZH_DIGITS = "零一二三四五六七八九"
KINDS = ("call", "recall", "pause", "missed")  # the phrases a pack may define
REQUIRED_PHRASES = ("call", "recall", "window")
NUMBER_MODES = ("zh", "digits", "clips")
CLIP_ID = r"[A-Za-z0-9_.-]{1,40}"
LANGUAGE = r"[a-z]{2,3}"


@dataclass(frozen=True)
class Pause:
    """Silence in a plan, in seconds."""

    seconds: float


Step = Union[str, Pause]


@dataclass(frozen=True)
class Call:
    """What is announced: a call (or recall) of `ticket` to `window`; `pause` (the window stops
    serving) and `missed` (过号) are phrases a pack may also define."""

    ticket: str
    window: int
    kind: str = "call"


@dataclass(frozen=True)
class Clip:
    id: str
    file: str  # relative to the pack folder
    text: str  # what it says, in the pack's language (for people: the recording list)
    say: str = ""  # what espeak-ng is given for it when the file is missing ("" = nothing)
    voice: str = ""  # espeak-ng voice for `say` when not the pack's


@dataclass(frozen=True)
class Pack:
    name: str
    language: str
    folder: Path
    description: str
    numbers: str
    tts_voice: str  # espeak-ng voice for a missing clip; "" = none (no TTS for the language)
    letters_voice: str  # espeak-ng voice that spells a letter the pack has no clip for
    word_pause: float
    comma_pause: float
    phrases: dict[str, tuple[str, ...]]
    clips: dict[str, Clip] = field(default_factory=dict)

    def path(self, clip_id: str) -> Optional[Path]:
        """The clip's file if the pack has it."""
        clip = self.clips.get(clip_id)
        if clip is None:
            return None
        path = self.folder / clip.file
        return path if path.is_file() else None

    def source(self, clip_id: str) -> Optional[Union[Path, tuple[str, str]]]:
        """Where a clip's sound comes from: its file; for a final take not recorded, the mid
        take's file; else (espeak-ng voice, text) to synthesise; None: nothing to say."""
        final = clip_id.endswith(".final")
        mid = clip_id[: -len(".final")] if final else ""
        return (
            self.path(clip_id)
            or (self.path(mid) if final else None)
            or self.tts(clip_id)
            or (self.tts(mid) if final else None)
        )

    def tts(self, clip_id: str) -> Optional[tuple[str, str]]:
        """(espeak-ng voice, text) standing in for a missing clip, or None."""
        clip = self.clips.get(clip_id)
        if clip is not None and clip.say:
            voice = clip.voice or self.tts_voice
            return (voice, clip.say) if voice else None
        if clip_id.startswith("letter.") and self.letters_voice:
            return self.letters_voice, clip_id[len("letter.") :]
        return None


# -- finding and reading a pack ------------------------------------------------------------------


def pack_folder(name_or_path: str) -> Path:
    """A folder given as a path, else a name: /etc/onewindow/voice/NAME, then the shipped one."""
    given = Path(name_or_path)
    if os.sep in name_or_path or given.is_dir():
        return given
    own = SYSTEM_PACKS / name_or_path
    return own if own.is_dir() else shipped(f"{SHIPPED_PACKS}/{name_or_path}")


def load_pack(name_or_path: str) -> Pack:
    """The pack, its manifest checked whole; ConfigError listing every problem."""
    folder = pack_folder(name_or_path)
    file = folder / MANIFEST
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        where = (
            str(folder)
            if folder == Path(name_or_path)
            else f"{SYSTEM_PACKS / name_or_path} nor {folder}"
        )
        raise ConfigError(
            [f"voice pack {name_or_path!r} not found: no {MANIFEST} in {where}"]
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([f"{file}: cannot be read: {exc}"]) from None
    return parse_manifest(raw, folder, str(file))


def load_packs(names: Optional[list[str]]) -> list[Pack]:
    """The packs a display speaks with (default: the shipped Mandarin one), one a language."""
    packs = [load_pack(n) for n in names or [DEFAULT_PACK]]
    languages = [p.language for p in packs]
    twice = sorted({lang for lang in languages if languages.count(lang) > 1})
    if twice:
        raise ConfigError([f"two voice packs for language {lang!r}: give one" for lang in twice])
    return packs


def parse_manifest(raw: dict, folder: Path, file: str) -> Pack:
    problems: list[str] = []
    # the pack's problems are in English only: the installer reads them, no manager does
    top = Table(file, "", raw, problems, english_only=True)
    p = top.table("pack", required=True) or Table(file, "pack", {}, problems, english_only=True)
    name = p.get("name", str, pattern=CLIP_ID)
    language = p.get("language", str, pattern=LANGUAGE)
    description = p.get("description", str, "")
    numbers = p.get("numbers", str, "digits", choices=NUMBER_MODES)
    tts_voice = p.get("tts_voice", str, "")
    letters_voice = p.get("letters_voice", str, "")
    p.check_unused()
    pauses = top.table("pauses") or Table(file, "pauses", {}, problems, english_only=True)
    word_pause = pauses.get("word", (int, float), 0.05, minval=0, maxval=2)
    comma_pause = pauses.get("comma", (int, float), 0.25, minval=0, maxval=5)
    pauses.check_unused()
    clips: dict[str, Clip] = {}
    ct = top.table("clips", required=True) or Table(file, "clips", {}, problems, english_only=True)
    for clip_id in list(ct.data):
        t = ct.table(clip_id)
        if t is None:
            continue
        if not _valid_id(clip_id):
            ct.fail(clip_id, f"a clip id is letters, digits and . _ - ({CLIP_ID})")
        c = Clip(
            clip_id,
            t.get("file", str, f"{clip_id}.wav"),
            t.get("text", str),
            t.get("say", str, ""),
            t.get("voice", str, ""),
        )
        t.check_unused()
        if c.file and (Path(c.file).is_absolute() or ".." in Path(c.file).parts):
            t.fail("file", "must be a file inside the pack's folder")
        clips[clip_id] = c
    phrases: dict[str, tuple[str, ...]] = {}
    pt = top.table("phrases", required=True) or Table(
        file, "phrases", {}, problems, english_only=True
    )
    for kind in (*KINDS, "window"):
        required = kind in REQUIRED_PHRASES
        words = pt.str_list(kind) if required or kind in pt.data else ()
        if required and not words:
            pt.fail(kind, "is required (a list of clip ids and placeholders)")
        placeholders = {"window": ("{number}",)}.get(kind, ("{ticket}", "{window}"))
        for word in words:
            if word.startswith("{") and word not in placeholders:
                pt.fail(kind, f"{word} is not one of {', '.join(placeholders)}")
            elif not word.startswith("{") and word != "," and word not in clips:
                pt.fail(kind, f"{word!r} is not a clip of [clips]")
        if words:
            phrases[kind] = tuple(words)
    pt.check_unused()
    top.check_unused()
    if problems:
        raise ConfigError(problems)
    return Pack(
        name=name,
        language=language,
        folder=folder,
        description=description,
        numbers=numbers,
        tts_voice=tts_voice,
        letters_voice=letters_voice,
        word_pause=float(word_pause),
        comma_pause=float(comma_pause),
        phrases=phrases,
        clips=clips,
    )


def _valid_id(clip_id: str) -> bool:
    return re.fullmatch(CLIP_ID, clip_id) is not None


# -- what is said ------------------------------------------------------------------------------


def zh_number(n: int) -> str:
    """3 -> 三, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五 (window numbers, 1..999)."""
    if not 0 <= n <= 999:
        raise ValueError(f"window numbers are 1..999, not {n}")
    if n < 10:
        return ZH_DIGITS[n]
    if n < 20:
        return "十" + (ZH_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return ZH_DIGITS[n // 10] + "十" + (ZH_DIGITS[n % 10] if n % 10 else "")
    rest, head = n % 100, ZH_DIGITS[n // 100] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + ZH_DIGITS[rest]
    # inside a larger number 十 is said 一十: 一百一十二
    return head + ZH_DIGITS[rest // 10] + "十" + (ZH_DIGITS[rest % 10] if rest % 10 else "")


def _final(ids: list[str]) -> list[str]:
    """The last digit in its final take (said before 号)."""
    if ids and ids[-1].startswith("digit."):
        ids[-1] += ".final"
    return ids


def ticket_clips(ticket: str) -> list[str]:
    """A012 -> letter.A digit.0 digit.1 digit.2.final."""
    ids = [
        f"digit.{ch}" if ch.isdigit() else f"letter.{ch.upper()}"
        for ch in ticket
        if ch.isascii() and ch.isalnum()
    ]
    return _final(ids)


def number_clips(pack: Pack, n: int) -> list[str]:
    """A window number as the pack says numbers: zh 十二 -> ten digit.2.final; digits: 1, 2."""
    if pack.numbers == "zh":
        names = {"十": "ten", "百": "hundred"}
        return _final([names.get(ch) or f"digit.{ZH_DIGITS.index(ch)}" for ch in zh_number(n)])
    return _final([f"digit.{d}" for d in str(n)])


def window_clips(pack: Pack, n: int) -> list[Step]:
    """`window.N` if recorded (or the pack reads windows only from clips), else the `window`
    phrase with the number in it."""
    own = f"window.{n}"
    if pack.path(own) is not None or pack.numbers == "clips":
        return [own]
    return _expand(pack, pack.phrases["window"], {"{number}": number_clips(pack, n)})


def _expand(pack: Pack, words: tuple[str, ...], values: dict[str, list]) -> list[Step]:
    out: list[Step] = []
    for word in words:
        if word == ",":
            out.append(Pause(pack.comma_pause))
        elif word in values:
            out.extend(values[word])
        else:
            out.append(word)
    return out


def plan(pack: Pack, call: Call) -> list[Step]:
    """Clip ids and pauses, in order. KeyError for a phrase the pack does not define."""
    words = pack.phrases[call.kind]
    values: dict[str, list] = {
        "{ticket}": ticket_clips(call.ticket),
        "{window}": window_clips(pack, call.window),
    }
    steps = _expand(pack, words, values)
    # between two clips, the pack's word pause (a written pause replaces it)
    out: list[Step] = []
    for step in steps:
        if out and isinstance(step, str) and isinstance(out[-1], str) and pack.word_pause:
            out.append(Pause(pack.word_pause))
        out.append(step)
    return out


def hall_clips(
    pack: Pack, prefixes: list[str], windows: list[int], kinds: tuple[str, ...] = ("call", "recall")
) -> list[str]:
    """Every clip a hall's announcements (`kinds`, those the pack has) can use, in a stable
    order: its prefixes' letters, all ten digits in both takes (any number can come up), its
    windows."""
    seen: dict[str, None] = {}
    numbers = [f"digit.{d}" for d in range(10)] + [f"digit.{d}.final" for d in range(10)]
    letters = sorted({f"letter.{ch}" for p in prefixes for ch in p.upper() if ch.isalpha()})
    for kind in (k for k in kinds if k in pack.phrases):
        for step in plan(pack, Call("", windows[0] if windows else 1, kind)):
            if isinstance(step, str):
                seen.setdefault(step)
    for n in windows:
        for step in window_clips(pack, n):
            if isinstance(step, str):
                seen.setdefault(step)
    for clip_id in (*letters, *numbers):
        seen.setdefault(clip_id)
    return list(seen)
