"""Subcommands of the device programs (kiosk, display, caller, ...): registered here as they land."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def size_arg(text: str) -> tuple[int, int]:
    """`--size WxH` of every app window, checked the same way everywhere."""
    w, sep, h = text.lower().partition("x")
    try:
        if not sep:
            raise ValueError
        size = int(w), int(h)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size must look like 1920x1080, not {text!r}") from None
    if min(size) < 200:
        raise argparse.ArgumentTypeError("--size is too small (at least 200 pixels each way)")
    return size


def add_device_options(p: argparse.ArgumentParser) -> None:
    """The same connection options for every device program."""
    p.add_argument(
        "--mqtt", default="mqtt://127.0.0.1:1883", help="mqtt://HOST:PORT of the hall bus"
    )
    p.add_argument("--device", help="this device's id (as registered with `onewindow devices add`)")
    p.add_argument("--secret", help="this device's secret")
    p.add_argument("--hall", help="the hall id ([hall] id of the hall file)")
    p.add_argument("--device-config", help="a JSON file with mqtt, device, secret, hall")


def read_device_config(path: str) -> dict:
    """The device's JSON file (mqtt, device, secret, hall, and app extras); a clear exit if bad."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SystemExit(f"onewindow: device config {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"onewindow: cannot read device config {path}: {exc}") from None
    except ValueError as exc:
        raise SystemExit(f"onewindow: device config {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SystemExit(f"onewindow: device config {path} must be a JSON object") from None
    return data


def device_settings(args) -> dict:
    settings = {}
    if getattr(args, "device_config", None):
        settings.update(read_device_config(args.device_config))
    for key in ("mqtt", "device", "secret", "hall"):
        value = getattr(args, key, None)
        if value is not None and (
            key != "mqtt" or "mqtt" not in settings or value != "mqtt://127.0.0.1:1883"
        ):
            settings[key] = value
    missing = [k for k in ("device", "secret", "hall") if not settings.get(k)]
    if missing:
        why = (
            " (the hall id, [hall] id in the hall file: a device never guesses its hall)"
            if "hall" in missing
            else ""
        )
        where = (
            f"{args.device_config} has no {', '.join(repr(k) for k in missing)}"
            if getattr(args, "device_config", None)
            else f"missing --{' and --'.join(missing)} (or --device-config)"
        )
        print(f"onewindow: {where}{why}", file=sys.stderr)
        raise SystemExit(2)
    settings.setdefault("mqtt", "mqtt://127.0.0.1:1883")
    return settings


def register_command(sub, name: str, module_name: str, help_text: str) -> None:
    """One device program: `module_name` has add_arguments(parser) and main(args), and imports
    Kivy only inside main. Skipped quietly when that module is not installed on this box."""
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return
    p = sub.add_parser(name, help=help_text)
    add_device_options(p)
    module.add_arguments(p)
    p.set_defaults(func=module.main)


# each module has register(subparsers) adding its commands; heavy imports (Kivy) happen only
# when a command runs
APP_MODULES = (
    "onewindow.demo",
    "onewindow.web",
    "onewindow.notifier",
    "kiosk.cli",
    "callers.cli",
    "manager.cli",
)


def register_apps(sub) -> None:
    import importlib

    for name in APP_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # that part of OneWindow is not installed here
        module.register(sub)
