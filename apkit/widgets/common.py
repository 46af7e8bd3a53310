"""Pieces every dashboard shares: status area, guarded callbacks, query string.

Voilà hides cell tracebacks, but a widget callback that raises still sends its
traceback to the browser over the websocket (Voilà 0.5.13). So every callback
goes through :func:`action`, which catches everything: an
:class:`~apkit.errors.ApkitError` becomes its French message in the page's
:class:`StatusArea`, anything else is logged with its traceback and shown as an
apology with a reference the user can quote.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs

import ipywidgets as widgets
from sqlalchemy.orm import configure_mappers

from apkit.errors import ApkitError
from apkit.store import Store

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

UNEXPECTED = (
    "Désolé, une erreur inattendue s'est produite. Réessayez ; si elle revient, "
    "signalez-la avec la référence {reference}."
)

STYLE = """
<style>
.apkit-status { padding: 0.4em 0.7em; border-radius: 4px; margin: 0.3em 0; }
.apkit-status-error { background: #fdecea; color: #8a1c12; }
.apkit-status-ok { background: #e7f5ea; color: #175c2c; }
.apkit-status-info { background: #eef3fb; color: #1d3f72; }
.apkit-card { border: 1px solid #ccd; border-radius: 6px; padding: 0.5em 0.7em;
  margin: 0.3em 0; max-width: 100%; box-sizing: border-box; }
.apkit-card h4 { margin: 0 0 0.2em 0; }
.apkit-muted { color: #555; font-size: 90%; }
.apkit-page { max-width: 760px; width: 100%; box-sizing: border-box; }
.apkit-page .widget-button, .apkit-page .widget-text, .apkit-page .widget-dropdown
  { max-width: 100%; }
.apkit-page .widget-html-content { white-space: normal; overflow-wrap: anywhere; }
.apkit-page .widget-hbox { flex-wrap: wrap; }
.apkit-page .widget-checkbox { height: auto; width: auto; max-width: 100%; }
.apkit-page .widget-checkbox span { white-space: normal; }
.apkit-page .widget-tab-bar, .apkit-page .widget-tab-bar .lm-TabBar-content
  { height: auto; min-height: 26px; flex-wrap: wrap; }
.apkit-page .widget-tab-bar .lm-TabBar-tab { flex: 0 0 auto; }
.apkit-page a { color: #1a56a8; text-decoration: underline; }
.apkit-page table { border-collapse: collapse; }
.apkit-page th, .apkit-page td { padding: 2px 10px 2px 0; text-align: left; }
</style>
"""


def escape(text: object) -> str:
    """Return ``text`` as HTML-safe text (``<script>`` shows as typed)."""
    return html.escape("" if text is None else str(text), quote=True)


def style_sheet() -> widgets.HTML:
    """Return the CSS the dashboards share, to display once at the top of a page."""
    return widgets.HTML(STYLE)


def open_store(url: str | None = None) -> Store:
    """Open the school's store for a page, without migrating it.

    ``apkit serve`` migrates the database once before starting Voilà, so each
    kernel skips Alembic. The model's mappers are configured and a first
    connection is opened here, which a preheated kernel does before its visitor
    arrives rather than after.
    """
    store = Store(url, upgrade=False)
    configure_mappers()
    with store.engine.connect():
        pass
    return store


class StatusArea:
    """A one-line message under a page's controls: error, success or information."""

    def __init__(self) -> None:
        self.widget = widgets.HTML(value="")
        self.kind = ""
        self.message = ""

    def _show(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        text = escape(message).replace("\n", "<br>")
        self.widget.value = (
            f'<div class="apkit-status apkit-status-{kind}" role="status">{text}</div>'
        )

    def error(self, message: str) -> None:
        self._show("error", message)

    def success(self, message: str) -> None:
        self._show("ok", message)

    def info(self, message: str) -> None:
        self._show("info", message)

    def clear(self) -> None:
        self.kind = ""
        self.message = ""
        self.widget.value = ""


def report_unexpected(status: StatusArea, where: str) -> str:
    """Log the current exception with a new reference, show the apology, return it."""
    reference = secrets.token_hex(4).upper()
    log.exception("unexpected error in %s, reference %s", where, reference)
    status.error(UNEXPECTED.format(reference=reference))
    return reference


def action(method: F) -> F:
    """Decorate a page's callback so it acts once and never raises.

    The page object must have a ``status`` attribute (:class:`StatusArea`). When
    the first argument is a button, it is disabled during the call and a click
    arriving while the call runs is ignored. The action itself must still be
    idempotent, because a second click queued before the button was disabled
    runs once the first call has ended.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        button = args[0] if args and isinstance(args[0], widgets.Button) else None
        if button is not None:
            if getattr(button, "_apkit_busy", False):
                return None
            button._apkit_busy = True
            was_disabled = button.disabled
            button.disabled = True
        try:
            return method(self, *args, **kwargs)
        except ApkitError as exc:
            log.info("%s refused: %s", method.__qualname__, type(exc).__name__)
            self.status.error(str(exc))
        except Exception:  # noqa: BLE001 - a callback must never send a traceback
            report_unexpected(self.status, method.__qualname__)
        finally:
            if button is not None:
                button._apkit_busy = False
                button.disabled = was_disabled
        return None

    return wrapper  # type: ignore[return-value]


def query_string(environ: Mapping[str, str] | None = None) -> str:
    """Return the page's query string inside a Voilà kernel, or ``""`` elsewhere.

    Without preheating, Voilà puts it in ``QUERY_STRING``. A preheated kernel is
    started before the page is requested, so it waits here for Voilà to send
    the request's details (:func:`wait_for_request`).
    """
    environ = os.environ if environ is None else environ
    if environ.get("VOILA_PREHEAT") == "True":
        return wait_for_request(environ).get("QUERY_STRING", "")
    return environ.get("QUERY_STRING", "")


_REQUEST: dict[str, str] = {}
REQUEST_TIMEOUT_S = 10.0
REQUEST_ATTEMPTS = 30
REQUEST_RETRY_S = 1.0


def request_info_url(environ: Mapping[str, str]) -> str:
    """Return the websocket address where Voilà sends a preheated kernel its request.

    Voilà 0.5 serves it at ``voila/query/<kernel id>`` under its server URL, and
    gives the kernel the pieces in its environment.
    """
    protocol = environ.get("VOILA_WS_PROTOCOL", "ws")
    host = environ.get("VOILA_APP_IP", "127.0.0.1")
    host = f"[{host}]" if ":" in host else host
    port = environ.get("VOILA_APP_PORT", "8866")
    prefix = environ.get("VOILA_WS_BASE_URL") or environ.get("VOILA_SERVER_URL", "/")
    kernel = environ.get("VOILA_KERNEL_ID", "")
    return f"{protocol}://{host}:{port}{prefix}voila/query/{kernel}"


def wait_for_request(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Block until Voilà gives this preheated kernel its page request; return it.

    The request's details (``QUERY_STRING``, forwarded headers) arrive as one
    JSON message on :func:`request_info_url` and are copied into ``os.environ``,
    as a kernel started for the request would have them. This replaces
    ``voila.utils.get_query_string()``: importing ``voila.utils`` costs about
    1.5 s of CPU and 60 MB in every kernel, the ``websockets`` client 0.07 s.
    The request is cached, so later calls return at once. When the server cannot be
    reached the request is empty and the page refuses, as for a missing code.
    """
    if _REQUEST:
        return _REQUEST
    environ = os.environ if environ is None else environ
    url = request_info_url(environ)
    message = _receive_request(url)
    if message is None:
        return {}
    try:
        received = json.loads(message)
    except ValueError as exc:
        log.error("invalid page request from Voilà at %s: %s", url, exc)
        return {}
    if not isinstance(received, dict):
        log.error("invalid page request from Voilà at %s: not a JSON object", url)
        return {}
    info = {str(k): str(v) for k, v in received.items() if isinstance(v, str)}
    os.environ.update(info)
    _REQUEST.update(info)
    return _REQUEST


def _receive_request(url: str) -> str | None:
    """Return the one message Voilà sends on ``url``, or ``None`` if it cannot.

    A closed connection or a timed-out opening is tried again, up to
    :data:`REQUEST_ATTEMPTS` times in a row: an idle kernel's connection can be
    dropped, and Voilà keeps a request that arrives while no kernel is connected
    until its next connection. A
    refused connection or a rejected handshake means Voilà is gone or the
    address is wrong, so it is not tried again.
    """
    from websockets.exceptions import ConnectionClosed, WebSocketException
    from websockets.sync.client import connect

    for attempt in range(1, REQUEST_ATTEMPTS + 1):
        try:
            with connect(url, open_timeout=REQUEST_TIMEOUT_S) as socket:
                return str(socket.recv())
        except (ConnectionClosed, TimeoutError) as exc:
            log.warning(
                "page request from Voilà at %s interrupted (attempt %d of %d): %s",
                url,
                attempt,
                REQUEST_ATTEMPTS,
                exc,
            )
            time.sleep(REQUEST_RETRY_S)
        except (OSError, WebSocketException) as exc:
            log.error(
                "failed to receive the page request from Voilà at %s: %s", url, exc
            )
            return None
    log.error(
        "no page request from Voilà at %s after %d attempts", url, REQUEST_ATTEMPTS
    )
    return None


def query_params(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the query string's parameters, the last value of each name."""
    parsed = parse_qs(query_string(environ), keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


TRUSTED_PROXY_ENV = "APKIT_TRUSTED_PROXY"


def client_address(environ: Mapping[str, str] | None = None) -> str:
    """Return the browser's address forwarded by a trusted reverse proxy, or ``""``.

    ``apkit serve`` has Voilà pass ``X-Forwarded-For`` to kernels, and Voilà 0.5
    passes nothing else about the client (not the socket's peer address). The
    header is used only when ``APKIT_TRUSTED_PROXY=1`` says a proxy sets it;
    without a proxy the browser could write any value there, so the address is
    ``""`` and only the school-wide delay on wrong codes applies.
    """
    environ = os.environ if environ is None else environ
    if environ.get(TRUSTED_PROXY_ENV, "").strip() != "1":
        return ""
    forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[-1].strip()[:64]


def page_box(*children: widgets.Widget) -> widgets.VBox:
    """Return a page's outer box with the shared style sheet first."""
    box = widgets.VBox([style_sheet(), *children])
    box.add_class("apkit-page")
    return box
