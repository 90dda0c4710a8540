"""The uplink over Mosquitto's own bridge: the hall's section (`broker-config --uplink`, `hall
--uplink`), and the city's central broker with one client certificate per hall (`city-broker`).

The hall's Mosquitto forwards `ow/<hall>/up/#` out, `ow/<hall>/ack` and the provincial platform's
appointments (`ow/<hall>/down/appointments`) in, nothing else; it
keeps a persistent session at the city (cleansession false) and queues while the link is down,
up to a size, while the hall goes on alone. What the queue cannot hold the controller sends
again from its outbox (bus/outbox.py). The central broker knows each hall by its certificate's
CN (= hall id) and lets it write only `ow/<hall id>/up/#` and read only its own `ack` and
`down/appointments`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .devices import BRIDGE_CLIENT_PREFIX, BRIDGE_USER
from .url import BusUrl, BusUrlError, parse_bus_url

QUEUE_MESSAGES = 100_000  # what the bridge queues while the city is unreachable (~a busy
QUEUE_BYTES = 256 * 1024 * 1024  # hall's week); beyond it the outbox sends again on reconnect
DOWN_APPOINTMENTS = "down/appointments"  # the platform's bookings, to the hall (ops_platform.py)


@dataclass(frozen=True)
class Uplink:
    """Where and how a hall's broker reaches the city."""

    url: BusUrl
    cafile: str  # the city CA, to check the central broker
    certfile: str  # this hall's client certificate (CN = hall id)
    keyfile: str
    queue: int = QUEUE_MESSAGES

    @classmethod
    def from_args(
        cls,
        url: str,
        ca: Optional[str],
        cert: Optional[str],
        key: Optional[str],
        queue: int = QUEUE_MESSAGES,
    ) -> "Uplink":
        parsed = parse_bus_url(url)
        if parsed.scheme != "mqtts":
            raise BusUrlError(f"{url!r}: the uplink leaves the hall: mqtts://CENTRAL:8883 only")
        missing = [
            name
            for name, value in (
                ("--uplink-ca", ca or parsed.ca),
                ("--uplink-cert", cert),
                ("--uplink-key", key),
            )
            if not value or not Path(value).is_file()
        ]
        if missing:
            raise BusUrlError(
                f"the uplink needs {', '.join(missing)} (files from the city's "
                f"`onewindow city-broker`: ca.crt, HALL.crt, HALL.key)"
            )
        assert cert and key and (ca or parsed.ca)  # checked just above
        return cls(
            parsed,
            str(Path(ca or parsed.ca or "").resolve()),
            str(Path(cert).resolve()),
            str(Path(key).resolve()),
            queue,
        )


def bridge_section(hall_id: str, up: Uplink) -> list[str]:
    """mosquitto.conf lines of the hall's bridge to the city."""
    root = f"ow/{hall_id}/"
    return [
        "# the uplink to the city (onewindow: docs/city.md)",
        f"max_queued_messages {up.queue}",
        f"max_queued_bytes {QUEUE_BYTES}",
        f"connection ow-{hall_id}",
        f"address {up.url.host}:{up.url.port}",
        "bridge_protocol_version mqttv311",
        "try_private false",  # plain MQTT 3.1.1 at the other end: EMQX and others too
        "cleansession false",  # the city keeps our session (and its acks) across cuts
        f"remote_clientid ow-hall-{hall_id}",
        f"local_clientid {BRIDGE_CLIENT_PREFIX}{hall_id}",
        f"local_username {BRIDGE_USER}",
        "start_type automatic",
        "restart_timeout 1 15",  # back within seconds of the link, at most 15 s after
        "keepalive_interval 20",
        "notifications true",
        "notifications_local_only true",
        f"notification_topic {root}uplink/state",
        f"topic up/# out 1 {root} {root}",
        f"topic ack in 1 {root} {root}",
        f"topic {DOWN_APPOINTMENTS} in 1 {root} {root}",
        f"bridge_cafile {up.cafile}",
        f"bridge_certfile {up.certfile}",
        f"bridge_keyfile {up.keyfile}",
        "bridge_tls_version tlsv1.2",
        "",
    ]


def bridge_acl(hall_id: str) -> list[str]:
    """The bridge's lines in the hall's ACL: it reads what goes up, writes what comes back."""
    root = f"ow/{hall_id}"
    return [
        f"user {BRIDGE_USER}",
        f"topic read {root}/up/#",
        f"topic write {root}/ack",
        f"topic write {root}/{DOWN_APPOINTMENTS}",
        f"topic write {root}/uplink/state",
        "",
    ]
