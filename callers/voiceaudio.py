"""Sound for the voice: the clip format (16 kHz, 16-bit, mono), silences, joining, and making
a clip out of a recording or out of espeak-ng, the same way for a shipped pack, a hall's own
recordings and a clip the announcer has to synthesise because a pack lacks it.

A clip is an `array("h")` of samples at RATE. Sound files go through the standard `wave`
module; format conversion (sample rate, channels, depth) is sox's (a Debian dependency), and
the rest (trim, loudness, fades, gain) is plain arithmetic on the samples:

    trim(samples)       leading and trailing silence cut, 10 ms of margin kept
    loudness(samples)   the voiced part brought to TARGET_DBFS (RMS), peaks kept under PEAK_DBFS
    fades(samples)      5 ms in, 15 ms out, so a cut never clicks
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from pathlib import Path
from typing import Iterable

RATE = 16000  # samples a second: telephone-band speech is clear, and a pack stays small
WIDTH = 2  # bytes a sample (16-bit)
FRAME_S = 0.01  # the trimmer's and the loudness meter's frame (10 ms)
SILENCE_DBFS = -45.0  # a frame quieter than this is silence
MARGIN_S = 0.01  # kept before and after the voice when trimming
TARGET_DBFS = -20.0  # RMS of the voiced frames after loudness normalisation
PEAK_DBFS = -1.0  # no sample louder than this
FADE_IN_S = 0.005
FADE_OUT_S = 0.015
FULL = 32767


class AudioError(Exception):
    """A sound file that cannot be used, or a tool that failed; the message names which."""


def _swap_if_big_endian(samples: array) -> array:
    if sys.byteorder == "big":  # WAV data is little-endian
        samples.byteswap()
    return samples


def read_clip(path: str | os.PathLike) -> array:
    """The samples of a pack-format WAV; AudioError naming the file and what is wrong."""
    try:
        with wave.open(str(path), "rb") as w:
            fmt = (w.getframerate(), w.getsampwidth(), w.getnchannels())
            data = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(
            f"{path}: not a plain PCM WAV file ({exc}); `onewindow voice import` converts "
            f"recordings"
        ) from exc
    if fmt != (RATE, WIDTH, 1):
        rate, width, channels = fmt
        raise AudioError(
            f"{path}: {rate} Hz, {8 * width}-bit, {channels} channel(s); a clip must be "
            f"{RATE} Hz, 16-bit, mono (`onewindow voice import` converts recordings)"
        )
    samples = array("h")
    samples.frombytes(data[: len(data) - len(data) % WIDTH])
    return _swap_if_big_endian(samples)


def write_clip(path: str | os.PathLike, samples: array) -> None:
    """Written whole to a temporary name, then renamed: a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = array("h", samples)
    _swap_if_big_endian(out)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(WIDTH)
            w.setframerate(RATE)
            w.writeframes(out.tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def duration(samples: array) -> float:
    return len(samples) / RATE


def silence(seconds: float) -> array:
    return array("h", bytes(WIDTH * round(max(0.0, seconds) * RATE)))


def join(parts: Iterable[array]) -> array:
    out = array("h")
    for part in parts:
        out.extend(part)
    return out


def gain(samples: array, factor: float) -> array:
    """Louder or quieter; samples beyond full scale are clipped, not wrapped."""
    if factor == 1.0:
        return array("h", samples)
    return array("h", (max(-FULL, min(FULL, round(s * factor))) for s in samples))


# -- shaping a clip ----------------------------------------------------------------------------


def _dbfs(rms: float) -> float:
    return 20 * math.log10(rms / FULL) if rms > 0 else -120.0


def _frames(samples: array) -> list[float]:
    """RMS of each FRAME_S frame."""
    n = int(FRAME_S * RATE)
    out = []
    for start in range(0, len(samples), n):
        chunk = samples[start : start + n]
        out.append(math.sqrt(sum(s * s for s in chunk) / len(chunk)))
    return out


def trim(samples: array) -> array:
    """Leading and trailing silence cut (frames under SILENCE_DBFS), MARGIN_S kept each side."""
    voiced = [i for i, rms in enumerate(_frames(samples)) if _dbfs(rms) > SILENCE_DBFS]
    if not voiced:
        return array("h")
    n = int(FRAME_S * RATE)
    margin = int(MARGIN_S * RATE)
    start = max(0, voiced[0] * n - margin)
    end = min(len(samples), (voiced[-1] + 1) * n + margin)
    return samples[start:end]


def loudness(samples: array) -> array:
    """The voiced frames' RMS brought to TARGET_DBFS, unless that pushes a peak over PEAK_DBFS.

    Every clip of a pack at one loudness: a digit never sounds nearer than the word after it.
    """
    voiced = [rms for rms in _frames(samples) if _dbfs(rms) > SILENCE_DBFS]
    if not voiced:
        return array("h", samples)
    rms = math.sqrt(sum(r * r for r in voiced) / len(voiced))
    peak = max(abs(s) for s in samples) or 1
    factor = min(10 ** ((TARGET_DBFS - _dbfs(rms)) / 20), FULL * 10 ** (PEAK_DBFS / 20) / peak)
    return gain(samples, factor)


def fades(samples: array) -> array:
    """Linear fade in and out, so a clip cut from a longer recording starts and ends at zero."""
    out = array("h", samples)
    n_in = min(len(out), int(FADE_IN_S * RATE))
    n_out = min(len(out), int(FADE_OUT_S * RATE))
    for i in range(n_in):
        out[i] = int(out[i] * i / n_in)
    for i in range(n_out):
        out[len(out) - 1 - i] = int(out[len(out) - 1 - i] * i / n_out)
    return out


def shape(samples: array) -> array:
    """What every clip goes through: trimmed, loudness-normalised, faded."""
    return fades(loudness(trim(samples)))


# -- from other sound files ------------------------------------------------------------------------


def convert(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Any sound file sox reads (WAV of any rate and depth, stereo, FLAC...) -> the clip format."""
    sox = shutil.which("sox")
    if sox is None:
        raise AudioError("sox is not installed (Debian package sox)")
    # -R: dither seeded the same each run, so a pack made twice is the same bytes
    cmd = [sox, "-R", str(src), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]
    cmd += [str(dst), "dither"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    except subprocess.CalledProcessError as exc:
        why = exc.stderr.decode("utf-8", "replace").strip()
        raise AudioError(f"{src}: sox could not convert it ({why})") from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise AudioError(f"{src}: sox failed ({exc})") from exc


def import_recording(src: str | os.PathLike, dst: str | os.PathLike) -> float:
    """A recording -> a pack clip (converted, trimmed, normalised, faded); its length in s."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        convert(src, raw)
        samples = shape(read_clip(raw))
    if not samples:
        raise AudioError(f"{src}: nothing but silence")
    write_clip(dst, samples)
    return duration(samples)


def espeak_clip(voice: str, text: str, speed: int = 150, espeak: str = "espeak-ng") -> array:
    """espeak-ng says `text` with `voice`, shaped like any clip. Offline, about 50 ms."""
    exe = shutil.which(espeak) or espeak
    with tempfile.TemporaryDirectory() as tmp:
        raw, clip = Path(tmp) / "espeak.wav", Path(tmp) / "clip.wav"
        cmd = [exe, "-v", voice, "-s", str(int(speed)), "-w", str(raw), text]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=20)
        except (OSError, subprocess.SubprocessError) as exc:
            raise AudioError(f"espeak-ng failed on {text!r} ({exc})") from exc
        convert(raw, clip)
        samples = shape(read_clip(clip))
    if not samples:
        raise AudioError(f"espeak-ng said nothing for {text!r} (voice {voice})")
    return samples
