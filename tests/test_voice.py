"""The hall's voice: a call built from a voice pack's clips with its pauses, espeak-ng standing
in for a missing clip, the languages one after the other, `onewindow voice check` and `say`,
and one queue that never talks over itself (played by a recording player: no sound card here)."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import threading
import time
import wave
from itertools import pairwise

import pytest

from busutil import REPO
from callers import voiceaudio as audio
from callers.voice import LANGUAGE_GAP_S, Announcer, PackVoice, VoiceError, wav_duration
from callers.voicepack import Call, Pause, load_pack, plan, zh_number
from onewindow.configreader import ConfigError
from onewindow.hallconfig import parse
from voiceutil import TONES, make_pack

SHIPPED = REPO / "assets" / "voice" / "zh-espeak"


# -- what is said ------------------------------------------------------------------------------


def test_the_mandarin_pack_reads_the_ticket_digit_by_digit_and_the_window_as_a_number():
    pack = load_pack("zh-espeak")
    clips = [s for s in plan(pack, Call("A012", 3)) if isinstance(s, str)]
    assert clips == [
        "qing",
        "letter.A",
        "digit.0",
        "digit.1",
        "digit.2.final",  # the take said before 号
        "hao",
        "dao",
        "digit.3.final",
        "hao",
        "chuangkou",
        "banli",
    ]
    recall = [s for s in plan(pack, Call("B105", 112, "recall")) if isinstance(s, str)]
    assert recall[:2] == ["zaicihujiao", "qing"]
    # 一百一十二号窗口
    assert recall[7:] == ["dao", "digit.1", "hundred", "digit.1", "ten", "digit.2.final", "hao"] + [
        "chuangkou",
        "banli",
    ]
    assert [zh_number(n) for n in (1, 10, 11, 19, 20, 99, 100, 105, 112)] == [
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
    assert Pause(pack.comma_pause) in plan(pack, Call("A012", 3))  # 号，到


def test_a_call_lasts_its_clips_plus_its_pauses_and_holds_them_in_order(tmp_path):
    pack = make_pack(tmp_path / "tones", clips=TONES)
    voice = PackVoice([pack], tmp_path / "cache")
    wav = voice.wav_for(Call("A012", 3))
    # please A 0 1 2(final) , window 3(final): five word pauses and a comma
    clips = ["please", "letter.A", "digit.0", "digit.1", "digit.2.final", "window", "digit.3.final"]
    expected = sum(TONES[c] for c in clips) + 0.3 + 5 * 0.05
    assert wav_duration(wav) == pytest.approx(expected, abs=2 / audio.RATE)
    # and it is those clips: the first is `please` sample for sample, then a word pause
    got = audio.read_clip(wav)
    please = audio.read_clip(pack.path("please"))
    assert got[: len(please)] == please
    assert not any(got[len(please) : len(please) + int(0.05 * audio.RATE)])
    # the real pack: its own clips' lengths plus its pauses
    zh = load_pack("zh-espeak")
    steps = plan(zh, Call("A012", 3))
    expected = sum(
        s.seconds if isinstance(s, Pause) else audio.duration(audio.read_clip(zh.path(s)))
        for s in steps
    )
    real = PackVoice([zh], tmp_path / "cache").wav_for(Call("A012", 3))
    assert wav_duration(real) == pytest.approx(expected, abs=2 / audio.RATE)
    assert 3.0 < expected < 7.0  # about a dozen syllables: seconds, not a click, not a minute


def test_each_language_follows_the_other_in_the_halls_order(tmp_path):
    zh = load_pack("zh-espeak")
    bo = make_pack(tmp_path / "bo-test", language="bo", clips=TONES)
    call = Call("A012", 3)
    one = {
        lang: wav_duration(PackVoice([zh, bo], tmp_path / lang, [lang]).wav_for(call))
        for lang in ("zh", "bo")
    }
    voice = PackVoice([zh, bo], tmp_path / "cache", ["zh", "bo"])
    both = voice.wav_for(call)
    assert wav_duration(both) == pytest.approx(one["zh"] + LANGUAGE_GAP_S + one["bo"], abs=0.001)
    voice.set_languages(["bo", "zh"])
    samples = audio.read_clip(voice.wav_for(call))
    assert (
        samples[: int(0.3 * audio.RATE)]
        == audio.read_clip(bo.path("please"))[: int(0.3 * audio.RATE)]
    )
    # a language without a pack on this display is left out (and logged), the rest is said
    voice.set_languages(["zh", "en"])
    assert wav_duration(voice.wav_for(call)) == pytest.approx(one["zh"], abs=0.001)


def test_a_pause_and_a_no_show_are_said_in_each_language_whose_pack_has_the_phrase(
    tmp_path, caplog
):
    zh = load_pack("zh-espeak")
    bo = make_pack(
        tmp_path / "bo-test",
        language="bo",
        clips={**TONES, "stop": 0.40},
        extra='pause = ["{window}", "stop"]\n',
    )
    voice = PackVoice([zh, bo], tmp_path / "cache", ["zh", "bo"])
    # 三号窗口暂停办理: the shipped pack's pause phrase, clip for clip
    pause = Call("", 3, "pause")
    assert [s for s in plan(zh, pause) if isinstance(s, str)] == [
        "digit.3.final",
        "hao",
        "chuangkou",
        "zanting",
        "banli",
    ]
    zh_alone = wav_duration(PackVoice([zh], tmp_path / "zh").wav_for(pause))
    # the test pack: window, 3 (final), stop, with two word pauses
    bo_alone = 0.25 + 0.23 + 0.40 + 2 * 0.05
    assert wav_duration(voice.wav_for(pause)) == pytest.approx(
        zh_alone + LANGUAGE_GAP_S + bo_alone, abs=0.001
    )
    # A012号，已过号: the test pack has no `missed` phrase, so only Mandarin says it (logged)
    missed = Call("A012", 3, "missed")
    assert [s for s in plan(zh, missed) if isinstance(s, str)][-3:] == ["hao", "yi", "guohao"]
    zh_missed = PackVoice([zh], tmp_path / "zh").wav_for(missed)
    assert voice.wav_for(missed).read_bytes() == zh_missed.read_bytes()
    assert "voice pack bo-test has no 'missed' phrase: not said in 'bo'" in caplog.text
    # a display whose only pack lacks the phrase has nothing to say: an error, not a silence
    with pytest.raises(VoiceError):
        PackVoice([bo], tmp_path / "bo").wav_for(missed)


def test_a_missing_clip_is_said_by_espeak_and_kept_in_the_cache(tmp_path):
    folder = tmp_path / "zh-hall"
    shutil.copytree(SHIPPED, folder)
    (folder / "qing.wav").unlink()  # 请 not recorded
    (folder / "letter-A.wav").unlink()
    (folder / "digit-2-final.wav").unlink()  # the final take: the mid take stands in
    pack = load_pack(str(folder))
    voice = PackVoice([pack], tmp_path / "cache")
    wav = voice.wav_for(Call("A012", 3))
    qing = audio.espeak_clip("cmn-latn-pinyin", "qing3")
    letter = audio.espeak_clip("en", "A")
    steps = plan(pack, Call("A012", 3))
    lengths = {
        "qing": qing,
        "letter.A": letter,
        "digit.2.final": audio.read_clip(folder / "digit-2.wav"),
    }
    expected = sum(
        s.seconds
        if isinstance(s, Pause)
        else audio.duration(lengths.get(s) or audio.read_clip(pack.path(s)))
        for s in steps
    )
    assert wav_duration(wav) == pytest.approx(expected, abs=2 / audio.RATE)
    assert audio.read_clip(wav)[: len(qing)] == qing  # espeak-ng's 请 opens the call
    assert len(list((tmp_path / "cache" / "tts").glob("*.wav"))) == 2  # 请 and A, made once


def test_a_clip_nothing_can_say_is_left_out_with_one_pause_in_its_place(tmp_path, caplog):
    clips = dict(TONES, **{"letter.A": None})  # declared, not recorded, no TTS (as for Tibetan)
    pack = make_pack(tmp_path / "bo-gap", language="bo", clips=clips)
    wav = PackVoice([pack], tmp_path / "cache", ["bo"]).wav_for(Call("A012", 3))
    kept = ["please", "digit.0", "digit.1", "digit.2.final", "window", "digit.3.final"]
    assert wav_duration(wav) == pytest.approx(
        sum(TONES[c] for c in kept) + 0.3 + 4 * 0.05, abs=2 / audio.RATE
    )
    assert "has no clip 'letter.A'" in caplog.text


def test_a_broken_manifest_names_every_problem(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "manifest.toml").write_text(
        '[pack]\nname = "bad"\nlanguage = "Chinese"\nnumbers = "roman"\n'
        '[phrases]\ncall = ["qing", "{tiket}"]\nwindow = ["{number}"]\n'
        '[clips]\nqing = { file = "../qing.wav", text = "请" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_pack(str(folder))
    text = "\n".join(err.value.problems)
    for words in ("language", "'roman' is not allowed", "{tiket}", "recall", "inside the pack"):
        assert words in text, text


# -- the hall file --------------------------------------------------------------------------------


def test_the_hall_file_says_which_languages_are_announced():
    import tomllib

    raw = tomllib.loads((REPO / "config" / "hall.toml").read_text(encoding="utf-8"))
    assert parse(raw).voice_languages == ("zh",)
    assert parse({**raw, "voice": {"languages": ["zh", "bo"]}}).voice_languages == ("zh", "bo")
    # a window's pause is announced, a 过号 not, unless the hall says otherwise
    assert (parse(raw).voice_pause, parse(raw).voice_no_show) == (True, False)
    told = parse({**raw, "voice": {"announce_pause": False, "announce_no_show": True}})
    assert (told.voice_pause, told.voice_no_show) == (False, True)
    with pytest.raises(ConfigError) as err:
        parse({**raw, "voice": {"announce_no_show": "yes"}})
    assert any("announce_no_show" in p for p in err.value.problems)
    with pytest.raises(ConfigError) as err:
        parse({**raw, "voice": {"languages": ["zh", "zh"], "speed": 3}})
    assert any("'zh' is listed twice" in p for p in err.value.problems)
    assert any("speed: unknown option" in p for p in err.value.problems)


def test_config_get_carries_the_voice_languages(tmp_path):
    from ctlutil import KIOSK, MONDAY_10
    from ctlutil import Hall as ControllerHall

    def bilingual(raw):
        raw["voice"] = {"languages": ["zh", "bo"], "announce_no_show": True}

    for edit, languages, no_show in ((None, ["zh"], False), (bilingual, ["zh", "bo"], True)):
        (tmp_path / "+".join(languages)).mkdir()
        hall = ControllerHall(tmp_path / "+".join(languages), MONDAY_10, edit=edit)
        try:
            assert hall.ok(KIOSK, "config.get")["voice"] == {
                "languages": languages,
                "pause": True,
                "no_show": no_show,
            }
        finally:
            hall.ctl.store.close()


# -- the command ------------------------------------------------------------------------------------


def onewindow(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "onewindow.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_voice_check_lists_the_clips_a_halls_calls_lack(tmp_path):
    hall = REPO / "config" / "hall.toml"
    ok = onewindow("voice", "check", "zh-espeak", "--config", str(hall))
    assert ok.returncode == 0, ok.stderr
    assert "OK: every clip the hall's calls use is recorded" in ok.stdout
    folder = tmp_path / "zh-hall"
    shutil.copytree(SHIPPED, folder)
    (folder / "letter-A.wav").unlink()
    (folder / "digit-3-final.wav").unlink()
    (folder / "ten.wav").unlink()
    (folder / "letter-G.wav").unlink()  # no service of this hall starts with G: not listed
    (folder / "zanting.wav").unlink()  # the hall announces a window's pause (the default)
    (folder / "guohao.wav").unlink()  # but not a 过号 (the default): not listed
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "44100",
            "-b",
            "16",
            "-c",
            "2",
            str(folder / "hao.wav"),
            "trim",
            "0",
            "0.2",
        ],
        check=True,
    )
    out = onewindow("voice", "check", str(folder), "--config", str(hall))
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert "missing letter.A (A): espeak-ng en says 'A'" in lines
    assert "missing digit.3.final (三): the mid-number take (digit-3.wav) is used" in lines
    assert "missing ten (十): espeak-ng cmn-latn-pinyin says 'shi2'" in lines  # windows 10-13
    assert "missing zanting (暂停): espeak-ng cmn-latn-pinyin says 'zan4 ting2'" in lines
    assert not any("letter.G" in line or "guohao" in line for line in lines)
    assert any(line.startswith("unusable hao: ") and "44100 Hz" in line for line in lines)
    assert lines[-1] == "4 missing, 1 unusable"
    bad = onewindow("voice", "check", str(tmp_path / "nowhere"), "--config", str(hall))
    assert bad.returncode == 2 and "manifest.toml" in bad.stderr


def test_voice_say_writes_a_valid_wav_of_the_call(tmp_path):
    out = tmp_path / "call.wav"
    done = onewindow("voice", "say", "A012", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with wave.open(str(out), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        seconds = w.getnframes() / w.getframerate()
    same = PackVoice([load_pack("zh-espeak")], tmp_path / "cache").wav_for(Call("A012", 3))
    assert out.read_bytes() == same.read_bytes()
    assert done.stdout.strip() == f"wrote {out} ({seconds:.2f} s, zh)"
    missing = onewindow("voice", "say", "A012", "3", "--lang", "zh,bo", "--out", str(out))
    assert missing.returncode == 2 and "no voice pack for bo" in missing.stderr


def test_the_generator_makes_the_shipped_pack_again(tmp_path):
    out = tmp_path / "zh-espeak"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make-voice-pack"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (out / "manifest.toml").read_text() == (SHIPPED / "manifest.toml").read_text()
    for clip in SHIPPED.glob("*.wav"):
        assert wav_duration(out / clip.name) == pytest.approx(wav_duration(clip), rel=0.1), (
            clip.name
        )
    size = sum(f.stat().st_size for f in SHIPPED.iterdir())
    assert size < 1024 * 1024, size  # shipped in every .deb: kept small


# -- the queue ------------------------------------------------------------------------------------


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


@pytest.fixture
def quick_voice(tmp_path):
    """Short tones keep the queue tests short."""
    pack = make_pack(tmp_path / "quick", clips={k: v / 4 for k, v in TONES.items()})
    return PackVoice([pack], tmp_path / "cache")


def test_a_burst_of_five_calls_is_read_in_order_without_overlap(quick_voice):
    player = RecordingPlayer()
    announcer = Announcer(quick_voice, player, repeat=1, gap_s=0.05, busy_queue=10)
    started: list[tuple[Call, float]] = []
    calls = [Call(f"A00{i}", i + 1) for i in range(1, 6)]
    try:
        for call in calls:
            announcer.announce(call, lambda call=call: started.append((call, time.monotonic())))
        deadline = time.monotonic() + 40
        while len(player.plays) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        announcer.close()
    assert [p[0] for p in player.plays] == [quick_voice.cache_path(c) for c in calls]
    assert [s[0] for s in started] == calls  # the screen is told in the same order
    assert player.max_playing == 1
    for (_, _, end), (_, start, _) in pairwise(player.plays):
        assert start >= end  # each starts after the previous ended
    for (_, at), (_, start, _) in zip(started, player.plays, strict=True):
        assert abs(start - at) < 0.2  # shown as its voice starts
    for path, start, end in player.plays:
        assert end - start == pytest.approx(wav_duration(path), abs=0.1)


def test_repeat_count_is_honoured(quick_voice):
    player = RecordingPlayer()
    announcer = Announcer(quick_voice, player, repeat=3, gap_s=0.05)
    first, second = Call("A001", 1), Call("B002", 2, "recall")
    try:
        announcer.announce(first)
        announcer.announce(second)
        deadline = time.monotonic() + 40
        while len(player.plays) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        announcer.close()
    assert [p[0] for p in player.plays] == [quick_voice.cache_path(first)] * 3 + [
        quick_voice.cache_path(second)
    ] * 3
    assert player.max_playing == 1


def test_a_call_with_nothing_to_say_is_still_shown(tmp_path):
    pack = make_pack(tmp_path / "empty", clips={k: None for k in TONES})  # nothing recorded
    player = RecordingPlayer()
    announcer = Announcer(PackVoice([pack], tmp_path / "cache"), player)
    shown = threading.Event()
    try:
        announcer.announce(Call("A001", 1), shown.set)
        assert shown.wait(5)
    finally:
        announcer.close()
    assert player.plays == []


def test_voice_import_makes_a_recording_a_clip(tmp_path):
    """A hall's take at 44.1 kHz, 24-bit stereo, quiet, with silence around it becomes a clip:
    16 kHz 16-bit mono, trimmed, loudness-normalised, starting and ending at zero."""
    folder = tmp_path / "zh-hall"
    shutil.copytree(SHIPPED, folder)
    takes = tmp_path / "takes"
    takes.mkdir()
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-b", "24", "-c", "2", str(takes / "qing.wav")]
        + ["synth", "0.4", "sine", "300", "gain", "-30", "pad", "0.5", "0.7"],
        check=True,
    )
    done = onewindow("voice", "import", str(takes), str(folder))
    assert done.returncode == 0, done.stderr
    assert "qing: qing.wav -> qing.wav" in done.stdout
    assert "1 imported, 56 without a recording, 0 failed" in done.stdout
    clip = audio.read_clip(folder / "qing.wav")  # the pack format, or it raises
    assert audio.duration(clip) == pytest.approx(0.4 + 2 * audio.MARGIN_S, abs=0.02)
    rms = math.sqrt(sum(s * s for s in clip) / len(clip))
    assert 20 * math.log10(rms / audio.FULL) == pytest.approx(audio.TARGET_DBFS, abs=1.5)
    assert clip[0] == 0 and abs(clip[-1]) < 50
    assert load_pack(str(folder)).path("digit.0") is not None  # the others kept
