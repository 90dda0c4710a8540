"""Devices coming and going (their retained `status` and last will): an alert for a registered
device gone offline, cleared when it is back; and one for an identity two devices fight over.

A device that drops off IDENTITY_DROPS times within IDENTITY_WINDOW_S is most likely fighting
another process for its identity: each new connection with the same id makes the broker close
the older one (and publish its will). A device whose connection the broker keeps closing for
what it sends looks the same from here, and the alert says both.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque

from ..controller import Controller
from .devices import CONTROLLER_ID, DeviceRegistry

log = logging.getLogger(__name__)

IDENTITY_DROPS = 3
IDENTITY_WINDOW_S = 60.0


class Presence:
    def __init__(self, controller: Controller, registry: DeviceRegistry):
        self.ctl = controller
        self.registry = registry
        self._online: dict[str, bool] = {}
        self._drops: dict[str, deque] = {}  # device -> when it last went offline

    def changed(self, device_id: str, payload: bytes) -> list:
        """A device's status message (`online`/`offline`, bare or as JSON); the alerts' events."""
        if device_id == CONTROLLER_ID:
            return []
        text = payload.decode("utf-8", "replace").strip().strip('"')
        if text.startswith("{"):
            try:
                text = str(json.loads(text).get("status", ""))
            except (ValueError, AttributeError):
                text = ""
        online = text == "online"
        if self._online.get(device_id) == online or text not in ("online", "offline"):
            return []
        self._online[device_id] = online
        known = self.registry.get(device_id) is not None
        return self.ctl.housekeeping(lambda alerts: self._alerts(alerts, device_id, online, known))

    def settle(self) -> list:
        """An identity alert ends once the device has stayed put for a whole window (or at start:
        this memory of drops does not outlive the process)."""
        now = time.monotonic()
        events: list = []
        for key in [k for k in self.ctl.alerts.keys() if k.startswith("identity:")]:
            drops = self._drops.get(key.split(":", 1)[1])
            if drops and now - drops[-1] <= IDENTITY_WINDOW_S:
                continue
            events += self.ctl.clear_alert(key)
        for device_id in [
            d for d, drops in self._drops.items() if now - drops[-1] > IDENTITY_WINDOW_S
        ]:
            del self._drops[device_id]
        return events

    def _alerts(self, alerts, device_id: str, online: bool, known: bool) -> None:
        if online:
            alerts.clear(f"offline:{device_id}")
            return
        if not known:
            return
        alerts.raise_(
            f"offline:{device_id}", "device", f"设备 {device_id} 已离线", device=device_id
        )
        drops = self._drops.setdefault(device_id, deque(maxlen=IDENTITY_DROPS))
        drops.append(time.monotonic())
        if len(drops) == IDENTITY_DROPS and drops[-1] - drops[0] <= IDENTITY_WINDOW_S:
            if f"identity:{device_id}" not in alerts:
                # the will says only that a connection ended: a takeover by a second box
                # and a device the broker keeps closing (its packets refused) look alike
                log.error(
                    "device %s dropped off %d times within a minute: two devices or "
                    "programs are probably using this one id, or the broker keeps closing "
                    "its connection (see the broker's log and the device's)",
                    device_id,
                    IDENTITY_DROPS,
                )
            alerts.raise_(
                f"identity:{device_id}",
                "device",
                f"设备 {device_id} 一分钟内断线 {IDENTITY_DROPS} 次以上：可能有两台设备在使用"
                f"同一设备编号，或该设备的连接被反复断开，请查看该设备",
                device=device_id,
            )
