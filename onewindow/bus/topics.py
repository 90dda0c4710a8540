"""Topic names of the hall bus (protocol v1), in one place."""

from __future__ import annotations

from dataclasses import dataclass

EVENT_KINDS = ("call", "ticket", "window", "rating", "alert", "appointment")
CONTROLLER = "controller"  # the hall controller's own MQTT user and presence


@dataclass(frozen=True)
class Topics:
    hall_id: str

    @property
    def root(self) -> str:
        return f"ow/{self.hall_id}"

    def req(self, device_id: str) -> str:
        return f"{self.root}/req/{device_id}"

    def rep(self, device_id: str) -> str:
        return f"{self.root}/rep/{device_id}"

    def evt(self, kind: str) -> str:
        return f"{self.root}/evt/{kind}"

    def status(self, device_id: str) -> str:
        return f"{self.root}/dev/{device_id}/status"

    @property
    def state_hall(self) -> str:
        return f"{self.root}/state/hall"

    @property
    def state_queues(self) -> str:
        return f"{self.root}/state/queues"

    @property
    def state_alerts(self) -> str:
        return f"{self.root}/state/alerts"

    @property
    def probe(self) -> str:
        """The controller's own round trip through the broker (controller only)."""
        return f"{self.root}/dev/{CONTROLLER}/probe"

    def state_window(self, number: int) -> str:
        return f"{self.root}/state/windows/{number}"

    def device_of(self, topic: str, kind: str) -> str | None:
        """'req' topic -> device id; None for anything else (or a nested path)."""
        prefix = f"{self.root}/{kind}/"
        if not topic.startswith(prefix):
            return None
        rest = topic[len(prefix) :]
        return rest if rest and "/" not in rest else None
