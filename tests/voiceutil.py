"""Voice packs for tests: pure tones of known lengths instead of speech."""

from __future__ import annotations

import math
from array import array

from callers import voiceaudio as audio
from callers.voicepack import load_pack


def tone(seconds: float, hz: float = 440.0) -> array:
    n = round(seconds * audio.RATE)
    return array("h", (int(8000 * math.sin(2 * math.pi * hz * i / audio.RATE)) for i in range(n)))


def make_pack(folder, language="xx", clips=None, numbers="digits", tts_voice="", extra=""):
    """A pack of pure tones of known lengths: {clip id: seconds} (None: declared, no file)."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = clips or {}
    lines = [
        f'[pack]\nname = "{folder.name}"\nlanguage = "{language}"\nnumbers = "{numbers}"\n'
        f'tts_voice = "{tts_voice}"\n',
        "[pauses]\nword = 0.05\ncomma = 0.3\n",
        '[phrases]\ncall = ["please", "{ticket}", ",", "{window}"]\n'
        'recall = ["again", ",", "please", "{ticket}", ",", "{window}"]\n'
        'window = ["window", "{number}"]\n' + extra,
        "[clips]\n",
    ]
    for i, (clip_id, seconds) in enumerate(clips.items()):
        say = f', say = "{clip_id}"' if tts_voice else ""
        lines.append(f'"{clip_id}" = {{ file = "{clip_id}.wav", text = "{clip_id}"{say} }}\n')
        if seconds is not None:
            audio.write_clip(folder / f"{clip_id}.wav", tone(seconds, 300 + 40 * i))
    (folder / "manifest.toml").write_text("".join(lines), encoding="utf-8")
    return load_pack(str(folder))


TONES = {
    "please": 0.30,
    "again": 0.50,
    "window": 0.25,
    **{f"digit.{d}": 0.10 + 0.01 * d for d in range(10)},
    **{f"digit.{d}.final": 0.20 + 0.01 * d for d in range(10)},
    "letter.A": 0.15,
}
