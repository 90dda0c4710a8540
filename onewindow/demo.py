"""`onewindow demo`: a whole hall in one command (controller, embedded broker, devices, a crowd)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import tomllib
from datetime import date
from pathlib import Path


def register(sub) -> None:
    from .hallconfig import default_config_path

    p = sub.add_parser("demo", help="a whole simulated hall in one command")
    p.add_argument(
        "--config",
        default=str(default_config_path()),
        help="the hall file (TOML) to demonstrate (default: the shipped sample hall, "
        "config/hall.toml); opened around the clock unless --keep-hours",
    )
    p.add_argument(
        "--data-dir",
        help="keep the demo's hall here (default: a fresh folder each run, "
        "so today's figures are this run's, removed when the demo stops)",
    )
    p.add_argument(
        "--mqtt",
        default="embedded://127.0.0.1:0",
        help="embedded://HOST:PORT (port 0 = any free port) or mqtt://HOST:PORT",
    )
    p.add_argument("--headless", action="store_true", help="no windows: print what happens")
    p.add_argument(
        "--duration",
        type=float,
        default=0,
        help="stop after this many seconds (0 = run until Ctrl-C)",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=10.0,
        help="how much faster than life the hall's day goes (default 10: a minute in 6 s)",
    )
    p.add_argument("--windows", type=int, default=4, help="windows staffed by the simulated crowd")
    p.add_argument(
        "--profile",
        default="synthetic",
        help="the crowd's day: 'synthetic' (a made-up day: morning peak, lunch, a late "
        "Wednesday) or a hall's data dir, whose last four weeks of today's weekday it replays",
    )
    p.add_argument(
        "--per-day",
        type=float,
        default=DEFAULT_PER_DAY,
        help=f"citizens in a synthetic day (default {DEFAULT_PER_DAY:g})",
    )
    p.add_argument("--pin", default="1234", help="the manager console's PIN in the demo")
    p.add_argument(
        "--keep-hours",
        action="store_true",
        help="keep the hall's real opening hours (default: open around the clock for the demo)",
    )
    p.set_defaults(func=run)


DEFAULT_PER_DAY = 200  # four windows of the crowd: a queue at the morning peak, none at 16:00


def crowd_demand(args, config: Path):
    """The crowd's day (today's weekday, or the next the hall opens): a synthetic profile at the
    hall file's real hours (the demo's controller may be open around the clock), or the
    recorded history of a data dir."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from .demohistory import synthetic_demand
    from .hallconfig import load_file
    from .planning import WEEKDAYS_ZH, history_demand

    hall, _raw = load_file(config)
    today = datetime.now(ZoneInfo(hall.timezone)).date()
    weekday = next(
        (d for d in (today.weekday() + i for i in range(7)) if hall.hours.week[d % 7]), None
    )
    if weekday is None:
        raise SystemExit(f"{config}: the hall opens on no day of the week: no day to play")
    weekday %= 7
    if args.profile == "synthetic":
        demand = synthetic_demand(hall, weekday, args.per_day)
        what = f"合成的一天（{args.per_day:g} 人）"
    else:
        from .planning import NoHistory
        from .store import StoreError

        until = today - timedelta(days=1)
        try:
            _hall, demand = history_demand(
                args.profile, until - timedelta(days=27), until, weekday, config
            )
        except NoHistory as exc:
            raise SystemExit(f"onewindow demo --profile: {exc.args[0]} ({exc.args[1]})") from None
        except StoreError as exc:
            raise SystemExit(f"onewindow demo --profile: {exc}") from None
        what = f"{args.profile} 的记录（{len(demand.days)} 个{WEEKDAYS_ZH[weekday]}）"
    print(f"  crowd: {WEEKDAYS_ZH[weekday]}，{what}", flush=True)
    return demand


def always_open_copy(src: Path, data_dir: Path) -> Path:
    """The same hall, open around the clock: a demo or a test works at any hour of any day."""
    from .hallconfig import always_open, dump

    raw = always_open(tomllib.loads(src.read_text(encoding="utf-8")))
    out = data_dir / "demo-hall.toml"
    text = dump(raw)
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return out


def _can_show() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# where each app sits on a 1920x1080 screen: (command, extra args, size, position)
LAYOUT = [
    ("kiosk", ["--simulate"], "540x960", "0,0"),
    ("display", ["--voice", "none"], "760x520", "545,0"),
    ("manager", [], "610x520", "1310,0"),
    ("caller", [], "685x520", "545,545"),
    ("caller", [], "685x520", "1235,545"),
]


def start_apps(bus: str, hall_id: str, registry, data_dir: Path, ui_windows: list[int]) -> list:
    """The hall's screens as their own processes, exactly as they run on real devices."""
    import importlib.util
    import json
    import os

    modules = {
        "kiosk": "kiosk.kiosk_cmd",
        "display": "callers.display_cmd",
        "caller": "callers.caller_cmd",
        "manager": "manager.manager_cmd",
    }
    available = {name for name, module in modules.items() if importlib.util.find_spec(module)}
    apps = []
    callers = iter(ui_windows)
    for command, extra, size, pos in LAYOUT:
        if command not in available:
            continue
        if command == "kiosk":
            extra = extra + ["--preview-dir", str(data_dir / "ticket-previews")]
        if command == "caller":
            window = next(callers, None)
            if window is None:
                continue
            device, role, windows = f"caller-ui-{window}", "caller", [window]
            extra = extra + ["--window", str(window)]
        else:
            device, role, windows = f"{command}-ui", command, []
        cfg = {
            "mqtt": bus,
            "device": device,
            "secret": registry.add(device, role, windows),
            "hall": hall_id,
        }
        cfg_path = data_dir / f"{device}.json"
        cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
        cfg_path.chmod(0o600)
        log_file = open(data_dir / f"{device}.log", "wb")
        env = {**os.environ, "ONEWINDOW_WINDOW_POS": pos}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "onewindow.cli",
                "--log-level",
                "WARNING",
                command,
                "--device-config",
                str(cfg_path),
                "--size",
                size,
                *extra,
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        log_file.close()
        apps.append((f"{command} {device}", proc))
    return apps


def start_web(client, status_url: str):
    """The pages behind the tickets' QR codes, where the hall file says they are."""
    from urllib.parse import urlsplit

    from .web import serve

    parts = urlsplit(status_url or "http://127.0.0.1:8080/t/{ticket_id}")
    try:
        server = serve(client, parts.hostname or "127.0.0.1", parts.port or 80).start()
    except OSError as exc:
        print(f"  ticket status pages not served ({parts.netloc}: {exc.strerror})", flush=True)
        return None
    print(f"  ticket status pages (the QR codes): http://{parts.netloc}/t/<ticket>", flush=True)
    return server


def watch_apps(apps: list, stopping: threading.Event, duration: float) -> None:
    deadline = time.monotonic() + duration if duration else None
    reported = set()
    while not stopping.wait(0.5):
        if deadline and time.monotonic() >= deadline:
            return
        for name, proc in apps:
            if proc.poll() is not None and name not in reported:
                reported.add(name)
                print(
                    f"  the {name} window closed (exit {proc.returncode}); the hall goes on",
                    flush=True,
                )


def run(args) -> int:
    """The demo; a data dir it made for itself (no --data-dir) is removed when it stops: it
    holds the demo's keys and citizens' test data, which nobody needs afterwards."""
    import shutil
    import tempfile

    made = None if args.data_dir else tempfile.mkdtemp(prefix="onewindow-demo-")
    try:
        return _run(args, Path(made or args.data_dir))
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _run(args, data_dir: Path) -> int:
    # from the start: a Ctrl-C while the hall comes up still stops it in order
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    from .bus.client import DeviceClient
    from .bus.devices import DeviceRegistry, controller_secret
    from .bus.service import HallService
    from .bus.url import parse_bus_url
    from .crowd import Crowd
    from .ops_plan import HISTORY_DAYS
    from .startup import DB_FILE, open_hall

    demand = crowd_demand(args, Path(args.config))  # (a bad --profile stops before anything runs)
    data_dir.mkdir(parents=True, exist_ok=True)
    config = Path(args.config) if args.keep_hours else always_open_copy(Path(args.config), data_dir)
    if not (data_dir / DB_FILE).exists():
        # a new demo hall gets four weeks of made-up past days: 排班建议 has a history to use
        from datetime import timedelta

        from .demohistory import write_history

        first = date.today() - timedelta(days=HISTORY_DAYS)
        n = write_history(config, data_dir, first, HISTORY_DAYS, int(args.per_day) * 20)
        print(f"  history: {n} made-up tickets of the four weeks before today", flush=True)
    ctl = open_hall(config, data_dir)
    hall = ctl.hall
    registry = DeviceRegistry(data_dir)
    from .managerpin import set_pin

    set_pin(data_dir, args.pin)  # the hall's manager PIN, as `onewindow pin set` does
    for entry in registry.list():  # fresh demo identities every run
        registry.remove(entry.id)
    all_windows = [w.number for w in hall.windows]
    show = not args.headless and _can_show()
    ui_windows = all_windows[:2] if show else []  # staffed by you, in caller windows
    windows = [n for n in all_windows if n not in ui_windows][: args.windows]
    secrets = {
        "kiosk-1": registry.add("kiosk-1", "kiosk"),
        "display-1": registry.add("display-1", "display"),
        "manager-1": registry.add("manager-1", "manager"),
        "web-1": registry.add("web-1", "web"),
    }
    for n in windows:
        secrets[f"caller-{n}"] = registry.add(f"caller-{n}", "caller", [n])
    service = HallService(ctl, parse_bus_url(args.mqtt), registry, controller_secret(data_dir))
    service.start()
    bus = f"mqtt://{service.url.host}:{service.port}"
    print(f"OneWindow demo: {hall.name} ({hall.id}) on {bus}", flush=True)
    print(f"  devices: {', '.join(secrets)}; data in {data_dir}", flush=True)

    def client(device_id):
        return DeviceClient(bus, device_id, secrets[device_id], hall.id).start(wait=5)

    web_server = start_web(client("web-1"), hall.status_url)
    kiosk = client("kiosk-1")
    display = client("display-1")
    display.on_event(
        "call",
        lambda e: print(
            f"[display] {'再次呼叫 ' if e.get('recall') else ''}请 {e['ticket']} 号到 {e['window_name']} 办理",
            flush=True,
        ),
    )
    callers = {n: client(f"caller-{n}") for n in windows}
    crowd = Crowd(
        kiosk,
        callers,
        demand,
        speed=args.speed,
        say=lambda text: print(text, flush=True),
    )
    crowd.start()

    apps = []
    if show:
        apps = start_apps(bus, hall.id, registry, data_dir, ui_windows)
        print(
            f"  windows: {', '.join(name for name, _ in apps)} (manager PIN {args.pin}); "
            f"close this with Ctrl-C",
            flush=True,
        )
    elif not args.headless:
        print("  no screen here (DISPLAY is not set): running headless", flush=True)
    watch_apps(apps, stopping, args.duration)
    for _name, proc in apps:
        proc.terminate()
    for _name, proc in apps:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    crowd.stop()
    if web_server is not None:
        web_server.shutdown()
        web_server.server_close()
    for c in [kiosk, display, *callers.values()]:
        c.stop()
    service.stop()
    print(
        f"OneWindow demo stopped: {crowd.issued} tickets issued, {crowd.served} served", flush=True
    )
    return 0
