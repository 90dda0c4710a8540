"""`onewindow voice`: check a voice pack against a hall, say a call, list and import a pack's
clips (docs/voice-packs.md).

    onewindow voice check zh-espeak --config /etc/onewindow/hall.toml
    onewindow voice say A012 3 --out call.wav
    onewindow voice clips zh-espeak > recording-list.tsv
    onewindow voice import ~/recordings /etc/onewindow/voice/zh-hall
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from onewindow.configreader import ConfigError

from . import voiceaudio as audio
from .voicepack import DEFAULT_PACK, KINDS, Pack, hall_clips, load_pack, load_packs, pack_folder

RECORDING_TYPES = (".wav", ".flac", ".ogg", ".aiff", ".aif")  # what sox reads here


def register(sub) -> None:
    p = sub.add_parser("voice", help="voice packs: check one against a hall, say a call")
    vsub = p.add_subparsers(dest="action", required=True)

    c = vsub.add_parser("check", help="list the clips a hall's calls need that PACK lacks")
    c.add_argument("pack", help="a pack's name (/etc/onewindow/voice/NAME, else shipped) or folder")
    c.add_argument("--config", help="the hall file (default /etc/onewindow/hall.toml)")
    c.set_defaults(func=_guarded(cmd_check))

    s = vsub.add_parser("say", help="say a call through the sound card, or write it (--out)")
    s.add_argument("ticket", help="the ticket number, e.g. A012")
    s.add_argument("window", type=int, help="the window number")
    s.add_argument("--kind", choices=KINDS, default="call", help="the phrase (default call)")
    s.add_argument(
        "--pack",
        action="append",
        help=f"a voice pack (repeat, one a language; default {DEFAULT_PACK})",
    )
    s.add_argument(
        "--lang",
        help="languages in order, e.g. zh,bo (default: the hall file's [voice] languages "
        "with --config, else the packs' languages in the order given)",
    )
    s.add_argument("--config", help="the hall file, for its [voice] languages")
    s.add_argument("--out", metavar="FILE.wav", help="write the WAV here instead of playing it")
    s.add_argument("--volume", type=int, default=100, help="percent of the clips' loudness")
    s.add_argument("--speed", type=int, default=150, help="espeak-ng words a minute, stand-ins")
    s.set_defaults(func=_guarded(cmd_say))

    li = vsub.add_parser("clips", help="the recording list of a pack: id, file, text")
    li.add_argument("pack")
    li.set_defaults(func=_guarded(cmd_clips))

    im = vsub.add_parser(
        "import",
        help="make a pack's clips out of recordings named like its files "
        "(16 kHz 16-bit mono, trimmed, loudness-normalised, faded)",
    )
    im.add_argument("recordings", help="a folder of recordings (WAV, FLAC...), one a clip")
    im.add_argument("pack", help="the pack's folder (its manifest.toml lists the clips)")
    im.set_defaults(func=_guarded(cmd_import))


def _guarded(command):
    """A pack's or the hall file's problems listed, as every command of onewindow does."""

    def run(args) -> int:
        try:
            return command(args)
        except ConfigError as exc:
            print("onewindow voice: problems; nothing was done:", file=sys.stderr)
            for line in exc.problems:
                print(f"  {line}", file=sys.stderr)
            return 2

    return run


def _fail(message: str, code: int = 2) -> int:
    print(f"onewindow voice: {message}", file=sys.stderr)
    return code


def _hall(config):
    from onewindow.hallconfig import load_file, resolve_config

    return load_file(resolve_config(config))[0]


def _stand_in(pack: Pack, clip_id: str) -> str:
    """What is heard instead of a missing clip."""
    source = pack.source(clip_id)
    if isinstance(source, Path):
        return f"the mid-number take ({source.name}) is used"
    if source is not None:
        voice, text = source
        return f"espeak-ng {voice} says {text!r}"
    return "nothing: left out of the call"


def cmd_check(args) -> int:
    pack = load_pack(args.pack)
    hall = _hall(args.config)
    prefixes = [s.prefix for s in hall.services] + [t.prefix for t in hall.themes]
    windows = [w.number for w in hall.windows]
    # what the displays say besides calls, as the hall's [voice] allows
    kinds = ("call", "recall") + ("pause",) * hall.voice_pause + ("missed",) * hall.voice_no_show
    needed = hall_clips(pack, prefixes, windows, kinds)
    print(
        f"voice pack {pack.name} ({pack.language}, {len(pack.clips)} clips, {pack.folder}) "
        f"for hall {hall.id}: its calls use {len(needed)} clips"
    )
    if pack.language not in hall.voice_languages:
        print(
            f"  note: the hall does not announce in {pack.language!r} "
            f"([voice] languages = {', '.join(hall.voice_languages)})"
        )
    missing, unusable = [], []
    for clip_id in needed:
        path = pack.path(clip_id)
        if path is None:
            missing.append(clip_id)
            continue
        try:
            audio.read_clip(path)
        except audio.AudioError as exc:
            unusable.append((clip_id, str(exc)))
    for clip_id in missing:
        clip = pack.clips.get(clip_id)
        what = f" ({clip.text})" if clip else ""
        print(f"missing {clip_id}{what}: {_stand_in(pack, clip_id)}")
    for clip_id, why in unusable:
        print(f"unusable {clip_id}: {why}")
    recorded = [n for n in windows if pack.path(f"window.{n}")]
    if pack.numbers != "clips":
        print(
            f"  window recordings (window.N): {len(recorded)} of {len(windows)}; "
            f"the others are read by number"
        )
    if missing or unusable:
        print(f"{len(missing)} missing, {len(unusable)} unusable")
        return 1
    print("OK: every clip the hall's calls use is recorded")
    return 0


def cmd_say(args) -> int:
    from .voice import AplayPlayer, PackVoice, VoiceError, wav_duration

    packs = load_packs(args.pack)
    if args.lang:
        languages = [x.strip() for x in args.lang.split(",") if x.strip()]
    elif args.config:
        languages = list(_hall(args.config).voice_languages)
    else:
        languages = [p.language for p in packs]
    without = [lang for lang in languages if lang not in {p.language for p in packs}]
    if without:
        return _fail(f"no voice pack for {', '.join(without)} (give --pack)")
    lacking = [p.name for p in packs if p.language in languages and args.kind not in p.phrases]
    if lacking:
        return _fail(f"voice pack {', '.join(lacking)} has no {args.kind!r} phrase")
    from .voicepack import Call

    with tempfile.TemporaryDirectory() as cache:
        voice = PackVoice(packs, cache, languages, volume=args.volume, speed=args.speed)
        try:
            wav = voice.wav_for(Call(args.ticket, args.window, args.kind))
        except (VoiceError, audio.AudioError) as exc:
            return _fail(str(exc), 3)
        seconds = wav_duration(wav)
        if args.out:
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(wav.read_bytes())
            print(f"wrote {out} ({seconds:.2f} s, {', '.join(languages)})")
            return 0
        error = AplayPlayer().play(wav)
    if error is not None:
        return _fail(f"cannot play it (aplay: {error}); --out FILE.wav writes it instead", 3)
    print(f"said {args.ticket} at window {args.window} ({seconds:.2f} s, {', '.join(languages)})")
    return 0


def cmd_clips(args) -> int:
    pack = load_pack(args.pack)
    print("id\tfile\ttext")
    for clip in pack.clips.values():
        print(f"{clip.id}\t{clip.file}\t{clip.text}")
    return 0


def cmd_import(args) -> int:
    src = Path(args.recordings)
    if not src.is_dir():
        return _fail(f"{src} is not a folder of recordings")
    pack = load_pack(str(pack_folder(args.pack)))
    done, absent, failed = 0, [], []
    for clip in pack.clips.values():
        stem = Path(clip.file).stem
        found = [
            src / f"{stem}{ext}" for ext in RECORDING_TYPES if (src / f"{stem}{ext}").is_file()
        ]
        if not found:
            absent.append(clip.id)
            continue
        try:
            seconds = audio.import_recording(found[0], pack.folder / clip.file)
        except audio.AudioError as exc:
            failed.append(str(exc))
            continue
        done += 1
        print(f"{clip.id}: {found[0].name} -> {clip.file} ({seconds:.2f} s)")
    for line in failed:
        print(f"not imported: {line}", file=sys.stderr)
    print(f"{done} imported, {len(absent)} without a recording, {len(failed)} failed")
    if absent:
        print(f"  without a recording: {', '.join(absent)}")
    return 1 if failed else 0


def main(argv=None) -> int:
    """For `python -m callers.voice_cmd` (the same as `onewindow voice`)."""
    p = argparse.ArgumentParser(prog="onewindow")
    register(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
