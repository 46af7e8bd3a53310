"""A preheated kernel's page request, received from a stand-in for Voilà.

Voilà 0.5 sends a preheated kernel the request's details as one JSON message on
``voila/query/<kernel id>``. A websocket server on a free loopback port plays
Voilà's part here, so the test checks the requested path and what the page reads.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator

import pytest
from websockets.sync.server import serve

from apkit.widgets import common


class FakeVoila:
    """Send ``message`` on every connection and record the requested paths.

    ``dropped`` first connections are closed without a message, as when an idle
    kernel's connection is lost.
    """

    def __init__(self, message: str, dropped: int = 0) -> None:
        self.message = message
        self.dropped = dropped
        self.paths: list[str] = []
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handle(self, connection) -> None:
        self.paths.append(connection.request.path)
        if len(self.paths) > self.dropped:
            connection.send(self.message)


@pytest.fixture
def voila() -> Iterator[callable]:
    started: list[FakeVoila] = []

    def start(message: str, dropped: int = 0) -> FakeVoila:
        fake = FakeVoila(message, dropped)
        fake.thread.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.server.shutdown()
        fake.thread.join(5)


@pytest.fixture(autouse=True)
def fresh_request(monkeypatch):
    """Clear the cached request and restore the variables a request sets."""
    monkeypatch.setattr(common, "_REQUEST", {})
    for name in ("QUERY_STRING", "HTTP_X_FORWARDED_FOR", "SERVER_NAME"):
        monkeypatch.setenv(name, "before")


def preheated(port: int, **extra: str) -> dict[str, str]:
    return {
        "VOILA_PREHEAT": "True",
        "VOILA_APP_PORT": str(port),
        "VOILA_SERVER_URL": "/ap/",
        "VOILA_KERNEL_ID": "1c9d-kernel",
        **extra,
    }


def test_query_string_from_voila(voila):
    sent = {"QUERY_STRING": "code=AB-CD&x=1", "HTTP_X_FORWARDED_FOR": "192.0.2.4"}
    fake = voila(json.dumps(sent))
    environ = preheated(fake.port)
    assert common.query_params(environ) == {"code": "AB-CD", "x": "1"}
    assert fake.paths == ["/ap/voila/query/1c9d-kernel"]
    # The request's variables are where a kernel started for it would have them.
    assert os.environ["QUERY_STRING"] == "code=AB-CD&x=1"
    assert os.environ["HTTP_X_FORWARDED_FOR"] == "192.0.2.4"
    # Later calls reuse the cached request instead of waiting for a second one.
    fake.server.shutdown()
    assert common.query_params(environ) == {"code": "AB-CD", "x": "1"}
    assert fake.paths == ["/ap/voila/query/1c9d-kernel"]


def test_dropped_connection_tried_again(voila, monkeypatch, caplog):
    monkeypatch.setattr(common, "REQUEST_RETRY_S", 0.01)
    fake = voila(json.dumps({"QUERY_STRING": "code=AB-CD"}), dropped=2)
    with caplog.at_level(logging.WARNING, logger="apkit.widgets.common"):
        assert common.query_params(preheated(fake.port)) == {"code": "AB-CD"}
    assert len(fake.paths) == 3
    assert "attempt 2 of 30" in caplog.text


def test_connection_dropped_every_time(voila, monkeypatch, caplog):
    monkeypatch.setattr(common, "REQUEST_RETRY_S", 0.01)
    monkeypatch.setattr(common, "REQUEST_ATTEMPTS", 3)
    fake = voila(json.dumps({"QUERY_STRING": "code=AB-CD"}), dropped=5)
    with caplog.at_level(logging.WARNING, logger="apkit.widgets.common"):
        assert common.query_string(preheated(fake.port)) == ""
    assert len(fake.paths) == 3
    assert "after 3 attempts" in caplog.text


def test_websocket_prefix_over_server_url():
    environ = preheated(8866, VOILA_WS_BASE_URL="/proxy/", VOILA_APP_IP="::1")
    assert common.request_info_url(environ) == (
        "ws://[::1]:8866/proxy/voila/query/1c9d-kernel"
    )


@pytest.mark.parametrize("message", ["not json", "[1, 2]", '"code=AB-CD"'])
def test_garbled_request_empty_query(voila, message, caplog):
    fake = voila(message)
    with caplog.at_level(logging.ERROR, logger="apkit.widgets.common"):
        assert common.query_string(preheated(fake.port)) == ""
    assert os.environ["QUERY_STRING"] == "before"
    assert "page request from Voilà" in caplog.text


def test_unreachable_voila_empty_query(caplog):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with caplog.at_level(logging.ERROR, logger="apkit.widgets.common"):
        assert common.query_string(preheated(port)) == ""
    assert f"127.0.0.1:{port}" in caplog.text


def test_plain_kernel_reads_environment():
    assert common.query_string({"QUERY_STRING": "code=EF-GH"}) == "code=EF-GH"


def test_rejected_handshake_not_tried_again(caplog):
    # A 404 means a wrong address: trying again would only delay the refusal.
    requested = []

    def not_found(connection, request):
        requested.append(request.path)
        return connection.respond(404, "not found\n")

    with serve(
        lambda _connection: None, "127.0.0.1", 0, process_request=not_found
    ) as server:
        port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        with caplog.at_level(logging.WARNING, logger="apkit.widgets.common"):
            assert common.query_string(preheated(port)) == ""
        server.shutdown()
        thread.join(5)
    assert requested == ["/ap/voila/query/1c9d-kernel"]
    assert "interrupted" not in caplog.text
