"""The hall's voice: what is said for a call, how it is synthesised offline, and one queue that
reads announcements in order without ever talking over itself.

    announcement_text("A012", 3)               -> "请 A零一二 号到 三号窗口办理"
    announcement_text("A012", 12, recall=True) -> "再次呼叫，请 A零一二 号到 十二号窗口办理"

Ticket numbers are read letter by letter and digit by digit (people compare them with the slip
in their hand: "A零一二", never "A十二"); window numbers are read as numbers (十二号窗口), as
they are written over the windows.

Synthesis is espeak-ng, offline: its `cmn-latn-pinyin` voice is fed the pinyin of the few fixed
words an announcement uses, and letters are spelled by its English voice (the pinyin voice would
read "A" as a syllable). The pieces are joined into one WAV, cached by text, so a ticket number
is synthesised once a day at most.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Callable, Optional

log = logging.getLogger(__name__)

ZH_DIGITS = "零一二三四五六七八九"

# hanzi -> pinyin (tone numbers) for every character an announcement can contain
PINYIN = {
    "请": "qing3",
    "号": "hao4",
    "到": "dao4",
    "窗": "chuang1",
    "口": "kou3",
    "办": "ban4",
    "理": "li3",
    "再": "zai4",
    "次": "ci4",
    "呼": "hu1",
    "叫": "jiao4",
    "零": "ling2",
    "一": "yi1",
    "二": "er4",
    "三": "san1",
    "四": "si4",
    "五": "wu3",
    "六": "liu4",
    "七": "qi1",
    "八": "ba1",
    "九": "jiu3",
    "十": "shi2",
    "百": "bai3",
}
PAUSES = {"，": ",", ",": ",", "。": ".", "、": ","}


# -- the words -------------------------------------------------------------------------------------


def ticket_words(number: str) -> str:
    """A012 -> A零一二: letters stay letters, each digit is read on its own."""
    return "".join(
        ZH_DIGITS[int(ch)] if ch.isdigit() else ch.upper() for ch in str(number) if ch.isalnum()
    )


def number_words(n: int) -> str:
    """3 -> 三, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五 (window numbers, 0..999)."""
    n = int(n)
    if not 0 <= n <= 999:
        return "".join(ZH_DIGITS[int(d)] for d in str(abs(n)))
    if n < 10:
        return ZH_DIGITS[n]
    if n < 20:
        return "十" + (ZH_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return ZH_DIGITS[n // 10] + "十" + (ZH_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    head = ZH_DIGITS[n // 100] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + ZH_DIGITS[rest]
    # inside a larger number 十 is said 一十: 一百一十二
    return head + (ZH_DIGITS[rest // 10] + "十" + (ZH_DIGITS[rest % 10] if rest % 10 else ""))


def announcement_text(ticket: str, window: int, recall: bool = False) -> str:
    text = f"请 {ticket_words(ticket)} 号到 {number_words(window)}号窗口办理"
    return f"再次呼叫，{text}" if recall else text


def speech_segments(text: str) -> list[tuple[str, str]]:
    """[(voice, words)]: runs of pinyin for the Mandarin voice, letters for the English one."""
    segments: list[tuple[str, str]] = []

    def add(voice: str, word: str) -> None:
        if segments and segments[-1][0] == voice:
            segments[-1] = (voice, f"{segments[-1][1]} {word}")
        else:
            segments.append((voice, word))

    for ch in text:
        if ch.isspace():
            continue
        if ch in PINYIN:
            add("pinyin", PINYIN[ch])
        elif ch in PAUSES:
            if segments and segments[-1][0] == "pinyin":
                segments[-1] = ("pinyin", segments[-1][1] + PAUSES[ch])
        elif ch.isascii() and ch.isalpha():
            add("en", ch.upper())
        elif ch.isascii() and ch.isdigit():
            add("pinyin", PINYIN[ZH_DIGITS[int(ch)]])
        else:
            log.warning("no pinyin for %r: left out of the announcement", ch)
    return segments


# -- synthesis ---------------------------------------------------------------------------------------

ESPEAK_VOICES = {"pinyin": "cmn-latn-pinyin", "en": "en"}


class VoiceError(Exception):
    pass


def wav_duration(path: str | os.PathLike) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class Synthesizer:
    """Text -> WAV file with espeak-ng, cached by text and voice settings in `cache_dir`."""

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        volume: int = 100,
        speed: int = 150,
        espeak: str = "espeak-ng",
    ):
        self.cache_dir = Path(cache_dir)
        self.volume = max(0, min(200, int(volume)))  # espeak-ng amplitude, 100 = normal
        self.speed = int(speed)  # words per minute
        self.espeak = shutil.which(espeak) or espeak
        self._lock = threading.Lock()

    def cache_path(self, text: str) -> Path:
        key = hashlib.sha1(f"{text}|{self.volume}|{self.speed}".encode("utf-8")).hexdigest()[:20]
        return self.cache_dir / f"{key}.wav"

    def wav_for(self, text: str) -> Path:
        path = self.cache_path(text)
        if path.exists():
            return path
        with self._lock:
            if path.exists():
                return path
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            segments = speech_segments(text)
            if not segments:
                raise VoiceError(f"nothing to say in {text!r}")
            with tempfile.TemporaryDirectory(dir=self.cache_dir) as tmp:
                parts = []
                for i, (voice, words) in enumerate(segments):
                    part = Path(tmp) / f"{i}.wav"
                    self._espeak(ESPEAK_VOICES[voice], words, part)
                    parts.append(part)
                joined = Path(tmp) / "joined.wav"
                _join_wavs(parts, joined)
                os.replace(joined, path)  # a reader never sees half a file
        return path

    def _espeak(self, voice: str, words: str, out: Path) -> None:
        cmd = [
            self.espeak,
            "-v",
            voice,
            "-a",
            str(self.volume),
            "-s",
            str(self.speed),
            "-w",
            str(out),
            words,
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=20)
        except (OSError, subprocess.SubprocessError) as exc:
            raise VoiceError(f"espeak-ng failed ({exc})") from exc


def _join_wavs(parts: list[Path], out: Path) -> None:
    params = None
    with wave.open(str(out), "wb") as dst:
        for part in parts:
            with wave.open(str(part), "rb") as src:
                if params is None:
                    params = src.getparams()
                    dst.setparams(params)
                elif (src.getframerate(), src.getnchannels(), src.getsampwidth()) != (
                    params.framerate,
                    params.nchannels,
                    params.sampwidth,
                ):
                    raise VoiceError("espeak-ng voices gave different WAV formats")
                dst.writeframes(src.readframes(src.getnframes()))


# -- playback ------------------------------------------------------------------------------------------


class AplayPlayer:
    """Plays through ALSA's aplay and returns when the sound has ended."""

    def __init__(self, device: Optional[str] = None):
        self.device = device
        self._warned = False

    def __call__(self, path: Path) -> None:
        cmd = ["aplay", "-q"] + (["-D", self.device] if self.device else []) + [str(path)]
        try:
            result = subprocess.run(cmd, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            result = None
            err = str(exc)
        else:
            err = result.stderr.decode("utf-8", "replace").strip()
        if (result is None or result.returncode != 0) and not self._warned:
            self._warned = True  # a box without a sound card would otherwise log every call
            log.error(
                "cannot play announcements (aplay: %s); the screen goes on without voice", err
            )


class SilentPlayer:
    """'Plays' by waiting the sound's length: keeps screen timing where no speaker is fitted."""

    def __call__(self, path: Path) -> None:
        time.sleep(wav_duration(path))


class Announcer:
    """One worker reads queued announcements in order; announcements never overlap.

    `announce(text, on_start)`: on_start() runs (on the worker) right before the first
    playback, so a screen can show the call as it is heard. When synthesis fails the call is
    still shown (on_start runs) and the error logged: the screen matters more than the voice.
    With more than `busy_queue` announcements waiting, each is read once, so a burst of calls
    is not heard minutes late.
    """

    def __init__(
        self,
        synth: Synthesizer,
        player: Callable[[Path], None],
        repeat: int = 2,
        gap_s: float = 0.6,
        busy_queue: int = 3,
    ):
        self.synth = synth
        self.player = player
        self.repeat = max(1, int(repeat))
        self.gap_s = gap_s
        self.busy_queue = busy_queue
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()

    def announce(self, text: str, on_start: Optional[Callable[[], None]] = None) -> None:
        self._queue.put((text, on_start))

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float = 2.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            text, on_start = item
            try:
                wav = self.synth.wav_for(text)
            except Exception as exc:
                log.error("announcement %r not synthesised: %s", text, exc)
                wav = None
            if on_start:
                try:
                    on_start()
                except Exception:
                    log.exception("announcement start listener failed")
            if wav is None:
                continue
            times = 1 if self._queue.qsize() > self.busy_queue else self.repeat
            for i in range(times):
                if i:
                    time.sleep(self.gap_s)
                try:
                    self.player(wav)
                except Exception:
                    log.exception("player failed")


def make_announcer(
    kind: str, cache_dir: str | os.PathLike, repeat: int = 2, volume: int = 100, speed: int = 150
) -> Optional[Announcer]:
    """`kind`: aplay (default), silent (no speaker: wait the sound's length), none (no voice)."""
    if kind == "none":
        return None
    player = SilentPlayer() if kind == "silent" else AplayPlayer()
    return Announcer(Synthesizer(cache_dir, volume=volume, speed=speed), player, repeat=repeat)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "onewindow" / "voice"
