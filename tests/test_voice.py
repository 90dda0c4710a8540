"""The hall's voice: the words of a call, real espeak-ng synthesis, and one queue that never
talks over itself (played by a recording player: there is no sound card here)."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest

from callers.voice import (
    Announcer,
    Synthesizer,
    announcement_text,
    number_words,
    speech_segments,
    ticket_words,
    wav_duration,
)


@pytest.mark.parametrize(
    "ticket, window, recall, text",
    [
        ("A012", 3, False, "请 A零一二 号到 三号窗口办理"),
        ("A012", 10, False, "请 A零一二 号到 十号窗口办理"),
        ("B105", 12, False, "请 B一零五 号到 十二号窗口办理"),
        ("F020", 20, False, "请 F零二零 号到 二十号窗口办理"),
        ("T1003", 21, False, "请 T一零零三 号到 二十一号窗口办理"),
        ("A012", 3, True, "再次呼叫，请 A零一二 号到 三号窗口办理"),
    ],
)
def test_announcement_text(ticket, window, recall, text):
    assert announcement_text(ticket, window, recall) == text


def test_ticket_digits_are_read_one_by_one_and_windows_as_numbers():
    assert ticket_words("a100") == "A一零零"
    assert [number_words(n) for n in (1, 10, 11, 19, 20, 99, 100, 105, 112)] == [
        "一",
        "十",
        "十一",
        "十九",
        "二十",
        "九十九",
        "一百",
        "一百零五",
        "一百一十二",
    ]


def test_pinyin_segments_spell_letters_in_english():
    assert speech_segments(announcement_text("A012", 12, recall=True)) == [
        ("pinyin", "zai4 ci4 hu1 jiao4, qing3"),
        ("en", "A"),
        ("pinyin", "ling2 yi1 er4 hao4 dao4 shi2 er4 hao4 chuang1 kou3 ban4 li3"),
    ]


def test_espeak_synthesis_gives_a_plausible_wav_cached_by_text(tmp_path):
    synth = Synthesizer(tmp_path / "cache")
    text = announcement_text("A012", 3)
    wav = synth.wav_for(text)
    # about twelve syllables and a letter: a few seconds, not a click and not a minute
    assert 1.5 < wav_duration(wav) < 10
    assert wav.stat().st_size > 20000
    mtime = wav.stat().st_mtime_ns
    assert synth.wav_for(text) == wav and wav.stat().st_mtime_ns == mtime  # from the cache
    recall = synth.wav_for(announcement_text("A012", 3, recall=True))
    assert recall != wav and wav_duration(recall) > wav_duration(wav)
    louder = Synthesizer(tmp_path / "cache", volume=180).wav_for(text)
    assert louder != wav  # the volume is part of the sound, so of the cache key


class RecordingPlayer:
    """Plays by sleeping the WAV's real length and records when each playback started and ended."""

    def __init__(self):
        self.plays: list[tuple] = []
        self.lock = threading.Lock()
        self.playing = 0
        self.max_playing = 0

    def __call__(self, path):
        with self.lock:
            self.playing += 1
            self.max_playing = max(self.max_playing, self.playing)
        start = time.monotonic()
        time.sleep(wav_duration(path))
        end = time.monotonic()
        with self.lock:
            self.playing -= 1
            self.plays.append((path, start, end))


def test_a_burst_of_five_calls_is_read_in_order_without_overlap(tmp_path):
    synth = Synthesizer(tmp_path / "cache", speed=320)  # quick speech keeps the test short
    player = RecordingPlayer()
    announcer = Announcer(synth, player, repeat=1, gap_s=0.05, busy_queue=10)
    started: list[tuple[str, float]] = []
    texts = [announcement_text(f"A00{i}", i + 1) for i in range(1, 6)]
    try:
        for text in texts:
            announcer.announce(text, lambda text=text: started.append((text, time.monotonic())))
        deadline = time.monotonic() + 40
        while len(player.plays) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        announcer.close()
    assert [p[0] for p in player.plays] == [synth.cache_path(t) for t in texts]
    assert [s[0] for s in started] == texts  # the screen is told in the same order
    assert player.max_playing == 1
    for (_, _, end), (_, start, _) in pairwise(player.plays):
        assert start >= end  # each starts after the previous ended
    for (_, at), (_, start, _) in zip(started, player.plays, strict=True):
        assert abs(start - at) < 0.2  # shown as its voice starts
    for path, start, end in player.plays:
        assert end - start == pytest.approx(wav_duration(path), abs=0.1)


def test_repeat_count_is_honoured(tmp_path):
    synth = Synthesizer(tmp_path / "cache", speed=320)
    player = RecordingPlayer()
    announcer = Announcer(synth, player, repeat=3, gap_s=0.05)
    first, second = announcement_text("A001", 1), announcement_text("B002", 2, recall=True)
    try:
        announcer.announce(first)
        announcer.announce(second)
        deadline = time.monotonic() + 40
        while len(player.plays) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        announcer.close()
    assert [p[0] for p in player.plays] == [synth.cache_path(first)] * 3 + [
        synth.cache_path(second)
    ] * 3
    assert player.max_playing == 1


def test_synthesis_failure_still_shows_the_call(tmp_path):
    synth = Synthesizer(tmp_path / "cache", espeak="/nonexistent/espeak-ng")
    player = RecordingPlayer()
    announcer = Announcer(synth, player)
    shown = threading.Event()
    try:
        announcer.announce(announcement_text("A001", 1), shown.set)
        assert shown.wait(5)
    finally:
        announcer.close()
    assert player.plays == []
