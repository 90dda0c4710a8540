"""The embedded broker against real clients: paho for the common paths, raw sockets for abuse."""
from __future__ import annotations

import socket
import struct
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from onewindow.bus.broker import Broker, BrokerError

from busutil import wait_for


# -- a raw client, so tests can send what paho never would ------------------------------------------

def _len(n):
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id, user=None, password=None, keepalive=60, clean=True, will=None):
    flags = (0x02 if clean else 0) | (0x80 if user is not None else 0) | (0x40 if password is not None else 0)
    payload = _s(client_id)
    if will:
        flags |= 0x04 | 0x20 | (1 << 3)
        payload += _s(will[0]) + _s(will[1])
    if user is not None:
        payload += _s(user)
    if password is not None:
        payload += _s(password)
    body = _s("MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive) + payload
    return b"\x10" + _len(len(body)) + body


def raw(port, client_id, **kw):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(connect_packet(client_id, **kw))
    connack = s.recv(4)
    return s, connack


def closed_by_peer(s, timeout=3.0) -> bool:
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class Paho:
    def __init__(self, port, client_id, user=None, password=None, clean=True, will=None):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.granted = None
        self.rc = None
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
        if user:
            self.c.username_pw_set(user, password)
        if will:
            self.c.will_set(*will, qos=1, retain=True)
        self.c.on_connect = lambda c, u, f, rc, p=None: setattr(self, "rc", rc)
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, m.retain))
        self.c.on_subscribe = lambda c, u, mid, codes, p=None: setattr(self, "granted", codes)
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        wait_for(lambda: self.rc is not None, 5)

    def sub(self, *filters):
        self.granted = None
        self.c.subscribe([(f, 1) for f in filters])
        wait_for(lambda: self.granted is not None, 5)
        return [g.value for g in self.granted]

    def pub(self, topic, payload, retain=False, qos=1):
        self.c.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def topics(self):
        return [t for t, _, _ in self.messages]

    def close(self, clean=True):
        if clean:
            self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def broker():
    b = Broker("127.0.0.1", 0)
    b.start()
    yield b
    b.stop()


def test_publish_reaches_wildcard_subscribers_but_not_dollar_topics(broker):
    a = Paho(broker.port, "a")
    assert a.sub("hall/+/evt/#") == [1]
    b = Paho(broker.port, "b")
    b.pub("hall/x/evt/call", b"A001")
    b.pub("hall/x/evt", b"parent of #")      # "a/#" matches "a" too
    b.pub("hall/x/state/queues", b"not for a")
    b.pub("$SYS/hall/x/evt/call", b"system")
    wait_for(lambda: len(a.messages) >= 2, 3)
    time.sleep(0.2)
    assert a.topics() == ["hall/x/evt/call", "hall/x/evt"]
    a.close(); b.close()


def test_retained_message_is_delivered_to_late_subscribers_and_can_be_cleared(broker):
    pub = Paho(broker.port, "pub")
    pub.pub("hall/state/window/3", b'{"status":"serving"}', retain=True)
    late = Paho(broker.port, "late")
    late.sub("hall/state/#")
    wait_for(lambda: late.messages, 3)
    assert late.messages == [("hall/state/window/3", b'{"status":"serving"}', True)]
    pub.pub("hall/state/window/3", b"", retain=True)
    later = Paho(broker.port, "later")
    later.sub("hall/state/#")
    time.sleep(0.3)
    assert later.messages == []
    for c in (pub, late, later):
        c.close()


def test_will_is_published_when_a_device_vanishes_not_when_it_says_goodbye(broker):
    watcher = Paho(broker.port, "watcher")
    watcher.sub("dev/+/status")
    s, connack = raw(broker.port, "kiosk-1", will=("dev/kiosk-1/status", "offline"))
    assert connack == b"\x20\x02\x00\x00"
    s.close()                                    # power cut: no DISCONNECT
    wait_for(lambda: watcher.messages, 3)
    assert watcher.messages[0][:2] == ("dev/kiosk-1/status", b"offline")

    watcher.messages.clear()
    s, _ = raw(broker.port, "kiosk-2", will=("dev/kiosk-2/status", "offline"))
    s.sendall(b"\xe0\x00")                       # DISCONNECT
    s.close()
    time.sleep(0.4)
    assert watcher.messages == []
    watcher.close()


def test_silent_client_is_cut_off_after_its_keepalive(broker):
    watcher = Paho(broker.port, "watcher")
    watcher.sub("dev/+/status")
    s, _ = raw(broker.port, "caller-3", keepalive=1, will=("dev/caller-3/status", "offline"))
    wait_for(lambda: watcher.messages, 5)
    assert closed_by_peer(s, 1)
    s.close()
    watcher.close()


def test_same_client_id_takes_over_without_publishing_the_ghosts_will(broker):
    watcher = Paho(broker.port, "watcher")
    watcher.sub("dev/+/status")
    old, _ = raw(broker.port, "display-1", will=("dev/display-1/status", "offline"))
    new, connack = raw(broker.port, "display-1", will=("dev/display-1/status", "offline"))
    assert connack[3] == 0
    assert closed_by_peer(old)
    old.close()
    time.sleep(0.3)
    assert watcher.messages == []
    new.close()
    watcher.close()


def test_persistent_session_gets_what_it_missed(broker):
    c = Paho(broker.port, "led-1", clean=False)
    c.sub("hall/evt/#")
    c.close()
    p = Paho(broker.port, "pub")
    p.pub("hall/evt/call", b"A001 to 3")
    p.pub("hall/evt/call", b"A002 to 4")
    c2 = Paho(broker.port, "led-1", clean=False)
    wait_for(lambda: len(c2.messages) == 2, 3)
    assert [m[1] for m in c2.messages] == [b"A001 to 3", b"A002 to 4"]
    c2.close(); p.close()


def test_garbage_closes_that_connection_only(broker):
    good = Paho(broker.port, "good")
    good.sub("t")
    s = socket.create_connection(("127.0.0.1", broker.port), timeout=3)
    s.sendall(b"\x30\x05\x00\x01abc")            # PUBLISH before CONNECT
    assert closed_by_peer(s)
    s.close()
    s, _ = raw(broker.port, "bad")
    s.sendall(b"\x30\xff\xff\xff\xff\x01")        # a length no packet can have
    assert closed_by_peer(s)
    s.close()
    s, _ = raw(broker.port, "bad2")
    s.sendall(b"\x32\x04\x00\x02a+")              # PUBLISH to a wildcard, QoS 1, cut short
    s.sendall(b"\x00\x01")
    assert closed_by_peer(s)
    s.close()
    p = Paho(broker.port, "p")
    p.pub("t", b"still working")
    wait_for(lambda: good.messages, 3)
    good.close(); p.close()


def test_hooks_refuse_strangers_and_fence_topics():
    secrets = {"kiosk-1": b"s3cret", "display-1": b"d1"}

    def authenticate(cid, user, password):
        return user in secrets and secrets[user] == password

    def authorize(user, action, topic):
        if action == "publish":
            return topic == f"req/{user}"
        return topic in (f"rep/{user}", "req/#") if user == "display-1" else topic == f"rep/{user}"

    with Broker("127.0.0.1", 0, authenticate=authenticate, authorize=authorize) as b:
        s, connack = raw(b.port, "x", user="kiosk-1", password="wrong")
        assert connack == b"\x20\x02\x00\x04"
        assert closed_by_peer(s)
        s.close()
        s, connack = raw(b.port, "x")
        assert connack == b"\x20\x02\x00\x05"
        s.close()
        spy = Paho(b.port, "display-1", "display-1", "d1")
        assert spy.sub("req/#", "rep/kiosk-1") == [1, 128]
        k = Paho(b.port, "kiosk-1", "kiosk-1", "s3cret")
        assert k.rc == 0
        k.pub("req/kiosk-1", b"mine")
        k.pub("req/display-1", b"forged")        # acknowledged, never delivered
        wait_for(lambda: spy.messages, 3)
        time.sleep(0.3)
        assert [m[1] for m in spy.messages] == [b"mine"]
        spy.close(); k.close()


def test_port_in_use_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        with pytest.raises(BrokerError, match=f"127.0.0.1:{port} is already in use"):
            Broker("127.0.0.1", port).start()


def test_many_clients_at_once(broker):
    sub = Paho(broker.port, "sub")
    sub.sub("load/#")
    clients = [Paho(broker.port, f"c{i}") for i in range(40)]
    threads = [threading.Thread(target=lambda c=c: [c.pub(f"load/{c.c._client_id.decode()}", b"x")
                                                     for _ in range(25)]) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: len(sub.messages) == 1000, 10)
    for c in clients:
        c.close()
    sub.close()


def test_a_device_cannot_take_over_anothers_client_id():
    secrets = {"controller": b"c", "display-1": b"d"}

    def authenticate(cid, user, password):
        return secrets.get(user) == password
    with Broker("127.0.0.1", 0, authenticate=authenticate, username_as_client_id=True) as b:
        ctl = Paho(b.port, "controller", "controller", "c")
        ctl.sub("t")
        spoof = Paho(b.port, "controller", "display-1", "d")     # its own login, another's id
        assert spoof.rc == 0
        spoof.pub("t", b"from the display")
        wait_for(lambda: ctl.messages, 3)
        assert ctl.c.is_connected()                  # the real controller was not kicked
        spoof.close(); ctl.close()
    with Broker("127.0.0.1", 0, authenticate=authenticate) as b:    # without the option
        ctl = Paho(b.port, "controller", "controller", "c")
        s, connack = raw(b.port, "controller", user="display-1", password="d")
        assert connack == b"\x20\x02\x00\x02"         # identifier rejected
        s.close()
        assert ctl.c.is_connected()
        ctl.close()


def test_a_client_that_never_acknowledges_is_cut_off_not_the_publisher(broker):
    s = socket.create_connection(("127.0.0.1", broker.port), timeout=3)
    s.sendall(connect_packet("stuck", clean=False))
    assert s.recv(4)[3] == 0
    body = struct.pack("!H", 1) + _s("load") + b"\x01"
    s.sendall(b"\x82" + _len(len(body)) + body)          # SUBSCRIBE load QoS 1, then never PUBACK
    s.recv(5)
    reader = Paho(broker.port, "reader")
    reader.sub("load")
    pub = Paho(broker.port, "pub")
    for i in range(1100):
        pub.c.publish("load", b"x", qos=1)
    pub.pub("load", b"last")
    wait_for(lambda: len(reader.messages) == 1101, 10)
    assert pub.c.is_connected()
    assert closed_by_peer(s, 3)
    s.close()
    reader.close(); pub.close()
