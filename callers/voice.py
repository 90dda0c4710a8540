"""The hall's voice: a call read from voice-pack clips in each language the hall announces in,
and one queue that reads announcements in order without ever talking over itself.

    voice = PackVoice([load_pack("zh-espeak")], cache_dir)
    voice.wav_for(Call("A012", 3))   -> a WAV: 请 A 零 一 二 号，到 三 号 窗口 办理

Clips are joined with the pack's pauses (voicepack.plan). A clip the pack lacks is
synthesised with espeak-ng from what its manifest says it says, shaped like a recorded clip
and kept in the cache; a clip nothing can stand in for is left out and logged. The languages
are read one after the other, LANGUAGE_GAP_S apart, in the order the hall gives them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import subprocess
import threading
import time
import wave
from array import array
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import voiceaudio as audio
from .voicepack import Call, Pack, Pause, plan

log = logging.getLogger(__name__)

LANGUAGE_GAP_S = 0.8  # between the languages of one announcement


class VoiceError(Exception):
    pass


def wav_duration(path: str | os.PathLike) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class PackVoice:
    """Call -> WAV file, from the packs of the languages announced; cached by what it holds.

    `volume` is a percentage of the clips' own loudness (100 = as recorded); `speed` the
    espeak-ng words a minute of a synthesised stand-in for a missing clip.
    """

    def __init__(
        self,
        packs: Sequence[Pack],
        cache_dir: str | os.PathLike,
        languages: Optional[Sequence[str]] = None,
        volume: int = 100,
        speed: int = 150,
        espeak: str = "espeak-ng",
    ):
        self.packs = {p.language: p for p in packs}
        self.cache_dir = Path(cache_dir)
        self.volume = max(0, min(200, int(volume)))
        self.speed = int(speed)
        self.espeak = espeak
        self.languages: list[str] = list(languages or [p.language for p in packs][:1])
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def set_languages(self, languages: Sequence[str]) -> None:
        """The hall's languages, in the order they are read (from its `[voice]` settings)."""
        self.languages = list(languages)

    def spoken(self, call: Call) -> list[str]:
        """The languages `call` is said in: those with a pack that has its phrase (a pack
        may leave out `pause` and `missed`)."""
        return [
            lang
            for lang in self.languages
            if lang in self.packs and call.kind in self.packs[lang].phrases
        ]

    def cache_path(self, call: Call) -> Path:
        langs = self.spoken(call)
        key = json.dumps(
            [call.ticket, call.window, call.kind, langs, self.volume, self.speed]
            + [self._signature(self.packs[lang], call) for lang in langs]
        )
        return self.cache_dir / f"{hashlib.sha1(key.encode()).hexdigest()[:20]}.wav"

    def wav_for(self, call: Call) -> Path:
        with self._lock:
            path = self.cache_path(call)
            if path.exists():
                return path
            parts = []
            for lang in self.languages:
                pack = self.packs.get(lang)
                if pack is None:
                    self._warn_once(
                        lang, f"no voice pack for language {lang!r}: not announced in it"
                    )
                    continue
                if call.kind not in pack.phrases:
                    self._warn_once(
                        f"{pack.name}/{call.kind}",
                        f"voice pack {pack.name} has no {call.kind!r} phrase: not said in {lang!r}",
                    )
                    continue
                samples = self.render(pack, call)
                if samples:
                    parts += [audio.silence(LANGUAGE_GAP_S)] if parts else []
                    parts.append(samples)
            if not parts:
                raise VoiceError(f"nothing to say for {call.ticket} in {self.languages}")
            audio.write_clip(path, audio.gain(audio.join(parts), self.volume / 100))
            return path

    def render(self, pack: Pack, call: Call) -> array:
        """One language's announcement: the clips and pauses of the pack's phrase. Where a clip
        was left out, the pauses around it become one (the longer)."""
        items: list = []
        for step in plan(pack, call):
            if isinstance(step, Pause):
                if items and isinstance(items[-1], Pause):
                    items[-1] = Pause(max(items[-1].seconds, step.seconds))
                elif items:
                    items.append(step)
            else:
                clip = self.clip(pack, step)
                if clip:
                    items.append(clip)
        if items and isinstance(items[-1], Pause):
            items.pop()
        return audio.join(audio.silence(i.seconds) if isinstance(i, Pause) else i for i in items)

    def clip(self, pack: Pack, clip_id: str) -> Optional[array]:
        source = pack.source(clip_id)
        try:
            if isinstance(source, Path):
                return audio.read_clip(source)
            if source is not None:
                return self._tts(*source)
        except audio.AudioError as exc:
            self._warn_once(f"{pack.name}/{clip_id}", f"voice pack {pack.name}: {exc}")
            if isinstance(source, Path) and pack.tts(clip_id):
                return self.clip_tts(pack, clip_id)
            return None
        self._warn_once(
            f"{pack.name}/{clip_id}",
            f"voice pack {pack.name} has no clip {clip_id!r} and nothing to synthesise it "
            f"with: left out",
        )
        return None

    def clip_tts(self, pack: Pack, clip_id: str) -> Optional[array]:
        voice_text = pack.tts(clip_id)
        try:
            return self._tts(*voice_text) if voice_text else None
        except audio.AudioError as exc:
            self._warn_once(f"tts/{clip_id}", str(exc))
            return None

    def _tts(self, voice: str, text: str) -> array:
        key = hashlib.sha1(f"{voice}|{text}|{self.speed}".encode()).hexdigest()[:20]
        path = self.cache_dir / "tts" / f"{key}.wav"
        if path.exists():
            return audio.read_clip(path)
        samples = audio.espeak_clip(voice, text, self.speed, self.espeak)
        audio.write_clip(path, samples)
        return samples

    def _signature(self, pack: Pack, call: Call) -> list:
        """What the sound depends on besides the call: the clip files' dates and sizes, so a
        clip re-recorded in place is heard at the next call."""
        sig: list = [pack.name, str(pack.folder)]
        for step in plan(pack, call):
            if isinstance(step, str):
                source = pack.source(step)
                if isinstance(source, Path):
                    st = source.stat()
                    sig.append([step, st.st_mtime_ns, st.st_size])
                else:
                    sig.append([step, source])
        return sig

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.error("%s", message)


# -- playback ------------------------------------------------------------------------------------------


class AplayPlayer:
    """Plays through ALSA's aplay and returns when the sound has ended."""

    def __init__(self, device: Optional[str] = None):
        self.device = device
        self._warned = False

    def __call__(self, path: Path) -> None:
        err = self.play(path)
        if err is not None and not self._warned:
            self._warned = True  # a box without a sound card would otherwise log every call
            log.error(
                "cannot play announcements (aplay: %s); the screen goes on without voice", err
            )

    def play(self, path: Path) -> Optional[str]:
        """None when played to the end, else what went wrong."""
        cmd = ["aplay", "-q"] + (["-D", self.device] if self.device else []) + [str(path)]
        try:
            result = subprocess.run(cmd, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            return str(exc)
        if result.returncode != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            return lines[-1] if lines else f"exit {result.returncode}"  # ALSA's last word
        return None


class SilentPlayer:
    """'Plays' by waiting the sound's length: keeps screen timing where no speaker is fitted."""

    def __call__(self, path: Path) -> None:
        time.sleep(wav_duration(path))


class Announcer:
    """One worker reads queued announcements in order; announcements never overlap.

    `announce(call, on_start)`: on_start() runs (on the worker) right before the first
    playback, so a screen can show the call as it is heard. When synthesis fails the call is
    still shown (on_start runs) and the error logged: the screen matters more than the voice.
    With more than `busy_queue` announcements waiting, each is read once, so a burst of calls
    is not heard minutes late.
    """

    def __init__(
        self,
        synth: PackVoice,
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

    def announce(self, call: Call, on_start: Optional[Callable[[], None]] = None) -> None:
        self._queue.put((call, on_start))

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
            call, on_start = item
            try:
                wav = self.synth.wav_for(call)
            except Exception as exc:
                log.error("announcement of %s not made: %s", call, exc)
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
    kind: str,
    cache_dir: str | os.PathLike,
    packs: Sequence[Pack],
    repeat: int = 2,
    volume: int = 100,
    speed: int = 150,
) -> Optional[Announcer]:
    """`kind`: aplay (default), silent (no speaker: wait the sound's length), none (no voice)."""
    if kind == "none":
        return None
    player = SilentPlayer() if kind == "silent" else AplayPlayer()
    voice = PackVoice(packs, cache_dir, volume=volume, speed=speed)
    return Announcer(voice, player, repeat=repeat)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "onewindow" / "voice"
