"""Fixtures shared by test modules (tests never import each other's)."""
from __future__ import annotations

import pytest

from onewindow.demo import always_open_copy
from onewindow.web import serve

from busutil import REPO, Hall


@pytest.fixture
def site(tmp_path):
    """The QR pages (`onewindow web`) against a real hall on a real bus: (hall, base URL)."""
    (tmp_path / "cfg").mkdir()
    hall = Hall(tmp_path, "embedded", config=always_open_copy(REPO / "config" / "hall.toml", tmp_path / "cfg"))
    for dev, role, windows in (("kiosk-1", "kiosk", ()), ("caller-4", "caller", (4,)), ("web-1", "web", ())):
        hall.add(dev, role, windows)
    hall.start()
    web = hall.client("web-1")
    # a 1 s idle timeout (10 s in a hall) so that dropping half-sent requests is seen in seconds
    server = serve(web, "127.0.0.1", 0, idle_timeout_s=1, cleanup_s=1).start()
    yield hall, f"http://127.0.0.1:{server.port}"
    server.shutdown()
    hall.close()
