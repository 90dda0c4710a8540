"""Run by scripts/test-deb-clean-root inside the clean Debian root, with the package's own Python:
a kiosk connects to the installed hall over its bus and takes a ticket; prints the ticket as JSON.
    debtest_kiosk.py MQTT_URL HALL_ID DEVICE_ID SECRET"""

import json
import sys
import time

from onewindow.bus.client import DeviceClient

url, hall, device, secret = sys.argv[1:5]
with DeviceClient(url, device, secret, hall) as kiosk:
    kiosk.start(wait=20)
    deadline = time.monotonic() + 20
    while not kiosk.state["hall"] and time.monotonic() < deadline:
        time.sleep(0.1)
    if not kiosk.state["hall"]:
        sys.exit("the kiosk saw no hall state in 20 s")
    reply = kiosk.request("ticket.issue", {"service": "A", "channel": "kiosk"})
    print(json.dumps(reply["ticket"], ensure_ascii=False))
