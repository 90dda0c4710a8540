"""Why a device cannot reach its broker, in one line an installer can act on.

paho reports a failed connection without its cause. When a device keeps failing, this looks at
the broker's address itself: nothing listening, no route, a TLS port spoken to in plain MQTT (or
the reverse), a certificate the given CA did not sign.
"""

from __future__ import annotations

import socket
import ssl

from .url import BusUrl

TIMEOUT_S = 3.0


def diagnose(url: BusUrl) -> str:
    where = f"{url.host}:{url.port}"
    try:
        sock = socket.create_connection((url.host, url.port), TIMEOUT_S)
    except ConnectionRefusedError:
        return f"nothing listens at {where}: is the hall running there, and is this its port?"
    except socket.gaierror:
        return f"{url.host} is not a known host name: give the hall's address"
    except OSError as exc:
        return f"{where} cannot be reached ({exc.strerror or exc}): check the network and address"
    with sock:
        speaks_tls = _speaks_tls(sock, url)
    if url.tls:
        if speaks_tls is None:
            return (
                f"{where} does not speak TLS: use mqtt://{where} if it is the hall's plain "
                f"port, or the hall's TLS port"
            )
        return speaks_tls or ""
    if speaks_tls is not None:
        return (
            f"{where} speaks TLS: use mqtts://{where}?ca=/etc/onewindow/ca.crt with a copy "
            f"of the hall's CA (DATA_DIR/mosquitto/tls/ca.crt)"
        )
    return ""


def _speaks_tls(sock: socket.socket, url: BusUrl):
    """None: no TLS answer. "": TLS, and the certificate checks out. Else why it does not."""
    ctx = ssl.create_default_context(cafile=url.ca) if url.tls else ssl._create_unverified_context()
    sock.settimeout(TIMEOUT_S)
    try:
        with ctx.wrap_socket(sock, server_hostname=url.host, do_handshake_on_connect=False) as tls:
            tls.do_handshake()
        return ""
    except ssl.SSLCertVerificationError as exc:
        if url.ca is None:
            return (
                f"{url.host}:{url.port}'s certificate is not trusted by this box: give the "
                f"hall's CA, mqtts://{url.host}:{url.port}?ca=/etc/onewindow/ca.crt"
            )
        return (
            f"{url.host}:{url.port}'s certificate does not check out against {url.ca} "
            f"({exc.verify_message}): copy the hall's current ca.crt, and connect by the "
            f"address the broker's certificate was made for"
        )
    except (ssl.SSLError, ConnectionResetError, socket.timeout, OSError):
        return None
