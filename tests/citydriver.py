"""Tickets flowing through one hall, as its kiosk and a window's caller make them: run as a
process (also inside a network namespace, next to its hall). Prints what it did as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from onewindow.bus.client import BusError, DeviceClient  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--hall", required=True)
    p.add_argument("--secret", required=True, help="the desk-1's and caller-4's secret")
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--interval", type=float, default=0.2, help="seconds between tickets")
    a = p.parse_args()
    url = f"mqtt://127.0.0.1:{a.port}"
    # the numbers come as fast as a whole hall's kiosks make them: issued, on the kiosk channel,
    # by the duty desk's identity (one kiosk's takes a busy hour's numbers at once, bus/budget.py)
    kiosk = DeviceClient(url, "desk-1", a.secret, a.hall, events=()).start(wait=10)
    caller = DeviceClient(url, "caller-4", a.secret, a.hall, events=()).start(wait=10)
    caller.request("window.open", {"window": 4})
    done = {"issued": 0, "finished": 0, "errors": 0}
    end = time.monotonic() + a.duration
    n = 0
    while time.monotonic() < end:
        n += 1
        try:
            kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
            done["issued"] += 1
            if n % 2 == 0:
                if caller.request("window.call_next", {"window": 4})["ticket"]:
                    caller.request("window.finish", {"window": 4})
                    done["finished"] += 1
        except BusError:
            done["errors"] += 1
        time.sleep(a.interval)
    kiosk.stop()
    caller.stop()
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
