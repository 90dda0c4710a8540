"""`onewindow display`: the hall's big calling screen, with the voice (Kivy is imported only in main)."""

from __future__ import annotations

import argparse
import sys

from onewindow.apps import device_settings, size_arg
from onewindow.configreader import ConfigError

DEFAULT_SIZE = (1920, 1080)  # the hall's TV or LCD wall


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--size",
        type=size_arg,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="window size (default 1920x1080)",
    )
    p.add_argument("--fullscreen", action="store_true", help="fill the screen (production)")
    p.add_argument(
        "--voice",
        choices=("aplay", "silent", "none"),
        default="aplay",
        help="announcements: aplay (the sound card, default), silent (no speaker, "
        "the voice queue still runs: for tests), none (no voice); calls show at once",
    )
    p.add_argument(
        "--voice-pack",
        action="append",
        metavar="PACK",
        help="a voice pack, by name (/etc/onewindow/voice/NAME, else shipped) or folder; "
        "repeat for each language the hall announces in ([voice] languages); "
        "default: zh-espeak, the shipped Mandarin pack",
    )
    p.add_argument(
        "--voice-repeat",
        type=int,
        default=2,
        metavar="N",
        help="read each call N times (default 2)",
    )
    p.add_argument(
        "--voice-volume",
        type=int,
        default=100,
        metavar="0-200",
        help="loudness in percent of the clips' own (default 100)",
    )
    p.add_argument(
        "--voice-speed",
        type=int,
        default=150,
        metavar="WPM",
        help="espeak-ng's speed, in words a minute, for a clip a pack lacks (default 150)",
    )
    p.add_argument(
        "--voice-cache",
        metavar="DIR",
        help="where announcements and synthesised clips are kept "
        "(default ~/.cache/onewindow/voice)",
    )
    p.add_argument(
        "--flash-seconds",
        type=float,
        default=6.0,
        help="how long the newest call flashes (default 6)",
    )
    p.add_argument(
        "--ticker-fps",
        type=float,
        default=20.0,
        metavar="FPS",
        help="frames a second of the scrolling notice (default 20; 0: the notice "
        "stands still, for a PC without graphics acceleration)",
    )


def main(args) -> int:
    settings = device_settings(args)
    from onewindow.uikit import setup_kivy

    from .voice import default_cache_dir, make_announcer
    from .voicepack import load_packs

    # a pack that cannot be read stops the display before it opens, naming what is wrong
    try:
        packs = load_packs(args.voice_pack) if args.voice != "none" else []
    except ConfigError as exc:
        print(
            "onewindow display: the voice packs have problems; nothing was started:",
            file=sys.stderr,
        )
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    setup_kivy(*args.size, fullscreen=args.fullscreen, title="OneWindow 叫号屏")
    announcer = make_announcer(
        args.voice,
        args.voice_cache or default_cache_dir(),
        packs,
        repeat=args.voice_repeat,
        volume=args.voice_volume,
        speed=args.voice_speed,
    )
    from .display_app import DisplayApp

    try:
        DisplayApp(
            settings,
            announcer=announcer,
            flash_seconds=args.flash_seconds,
            ticker_fps=args.ticker_fps,
        ).run()
    finally:
        if announcer:
            announcer.close(timeout=0.5)
    return 0
