"""Serving the dashboards folder with Voilà, as one child process.

:class:`VoilaServer` starts the ``voila`` program itself (never a shell) on the
loopback interface by default, waits until its port accepts connections and stops
it with SIGTERM, which lets Voilà shut its kernels down. The options are chosen
for a school's server (measured with Voilà 0.5.13):

- ``--Voila.port_retries=0``: fail when the port is busy instead of silently
  taking another one, so the printed address is the real one;
- ``--show_tracebacks=False``: cell errors stay in the server log;
- idle kernels are culled after 15 minutes, because closing a page does not free
  its kernel in this Voilà version;
- kernels talk to Voilà over Unix sockets (``--KernelManager.transport=ipc``),
  not loopback TCP ports. When 40 pages opened at once, a kernel sometimes
  failed to bind a port that had been chosen for it ("Address already in
  use"), and that student's page never finished loading;
- preheated kernels for the student page only: a pool of
  :data:`STUDENT_POOL_SIZE` kernels has already run ``inscription.ipynb`` up to
  the moment it needs the student's code, so the first visitors of a computer
  room get their page at once. Preheated kernels receive the query string over
  a websocket (:func:`apkit.widgets.common.wait_for_request`), not through
  ``voila.utils``, whose import costs 1.5 s in every kernel. The other pages
  start a kernel per visit: they are opened one at a time and their pools would
  hold pandas and matplotlib in memory all day;
- ``X-Forwarded-For`` is passed to the kernels as ``HTTP_X_FORWARDED_FOR`` so the
  sign-in throttling can tell clients apart behind a reverse proxy;
- the ``apkit`` page template (``apkit/share/voila/templates/apkit``), Voilà's
  ``lab`` template without its links to a public CDN, in a page marked as
  French.

Every kernel inherits the server's environment, so ``APKIT_DATABASE_URL`` set
here is the database every page opens.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from apkit.errors import ApkitError
from apkit.store import ENV_URL, PROJECT_ROOT

log = logging.getLogger(__name__)

DASHBOARDS = PROJECT_ROOT / "dashboards"
# Jupyter data folder that contains apkit's page template (share/voila/templates/apkit).
TEMPLATES_ROOT = Path(__file__).resolve().parent / "share"
TEMPLATE = "apkit"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
CULL_IDLE_TIMEOUT_S = 900
CULL_INTERVAL_S = 60
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
HOME_PAGE = "accueil.ipynb"
STUDENT_PAGE = "inscription.ipynb"
# Idle kernels kept ready for the student page, about 85 MB each.
STUDENT_POOL_SIZE = 4


class ServeError(ApkitError, OSError):
    """The Voilà server could not start or stopped on its own."""


def normalize_base_url(base_url: str) -> str:
    """Return ``base_url`` with one leading and one trailing slash (``/ap/``)."""
    stripped = base_url.strip().strip("/")
    return f"/{stripped}/" if stripped else "/"


def voila_program() -> list[str]:
    """Return the command that runs Voilà from this Python environment."""
    beside = Path(sys.executable).with_name("voila")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("voila")
    if found:
        return [found]
    return [sys.executable, "-m", "voila"]


def voila_command(
    *,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    base_url: str = "/",
    dashboards: Path = DASHBOARDS,
    student_pool: int = STUDENT_POOL_SIZE,
) -> list[str]:
    """Return Voilà's command line for serving ``dashboards``.

    ``student_pool`` is the number of preheated kernels kept for the student
    page; 0 turns preheating off.
    """
    preheat = []
    if student_pool > 0:
        pools = {STUDENT_PAGE: {"pool_size": student_pool}, "default": {"pool_size": 0}}
        preheat = [
            "--preheat_kernel=True",
            f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}",
        ]
    return [
        *voila_program(),
        str(dashboards),
        "--no-browser",
        f"--Voila.ip={host}",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.base_url={normalize_base_url(base_url)}",
        "--show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT_S}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}",
        "--KernelManager.transport=ipc",
        "--VoilaConfiguration.http_header_envs=X-Forwarded-For",
        f"--VoilaConfiguration.template={TEMPLATE}",
        "--VoilaExporter.language_code=fr",
        *preheat,
    ]


def port_is_open(host: str, port: int) -> bool:
    """Return whether something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def free_port(host: str = DEFAULT_HOST) -> int:
    """Return a TCP port the system considers free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class VoilaServer:
    """A Voilà process serving the dashboards, started by :meth:`start`.

    Parameters
    ----------
    database_url
        Passed to every kernel as ``APKIT_DATABASE_URL``; ``None`` keeps the
        current environment's.
    port, host, base_url, dashboards
        Where to listen, the URL prefix (for a reverse proxy) and the folder.
    log_path
        File that receives Voilà's output; ``None`` leaves it on this terminal.
    """

    def __init__(
        self,
        *,
        database_url: str | None = None,
        port: int = DEFAULT_PORT,
        host: str = DEFAULT_HOST,
        base_url: str = "/",
        dashboards: Path = DASHBOARDS,
        log_path: Path | None = None,
        student_pool: int = STUDENT_POOL_SIZE,
    ) -> None:
        self.database_url = database_url
        self.port = port
        self.host = host
        self.base_url = normalize_base_url(base_url)
        self.dashboards = Path(dashboards)
        self.log_path = log_path
        self.student_pool = student_pool
        self.process: subprocess.Popen | None = None
        self._log_file = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.base_url}"

    def page_url(self, notebook: str, query: str = "") -> str:
        """Return the address of one dashboard, with an optional query string."""
        suffix = f"?{query}" if query else ""
        return f"{self.root_url}voila/render/{notebook}{suffix}"

    def _environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        if self.database_url:
            environment[ENV_URL] = self.database_url
        # Let the kernels import apkit from this checkout even when not installed.
        paths = [str(PROJECT_ROOT), environment.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        jupyter_paths = [str(TEMPLATES_ROOT), environment.get("JUPYTER_PATH", "")]
        environment["JUPYTER_PATH"] = os.pathsep.join(p for p in jupyter_paths if p)
        # The address where a preheated kernel reaches Voilà for its request.
        # Voilà passes the port, and the kernel assumes 127.0.0.1 without this.
        wildcard = self.host in ("", "0.0.0.0", "::")
        environment["VOILA_APP_IP"] = "127.0.0.1" if wildcard else self.host
        return environment

    def start(self, timeout: float = START_TIMEOUT_S) -> VoilaServer:
        """Start Voilà and wait until its port is open.

        Raises
        ------
        ServeError
            If the port is already taken, or Voilà exits or does not open its
            port within ``timeout`` seconds.
        """
        if port_is_open(self.host, self.port):
            raise ServeError(
                f"Le port {self.port} est déjà utilisé sur {self.host} ; arrêtez "
                "l'autre serveur ou choisissez un autre port avec --port"
            )
        command = voila_command(
            port=self.port,
            host=self.host,
            base_url=self.base_url,
            dashboards=self.dashboards,
            student_pool=self.student_pool,
        )
        output = None
        if self.log_path is not None:
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - kept open
            output = self._log_file
        self.process = subprocess.Popen(
            command,
            cwd=self.dashboards,
            env=self._environment(),
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )
        log.info("voila started, pid %d, port %d", self.process.pid, self.port)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise ServeError(
                    f"Voilà s'est arrêté au démarrage (code {code}) ; lisez ses "
                    "messages ci-dessus ou dans son journal"
                )
            if port_is_open(self.host, self.port):
                return
            time.sleep(0.2)
        self.stop()
        raise ServeError(
            f"Voilà n'a pas ouvert le port {self.port} en {timeout:.0f} s ; "
            "le serveur est peut-être surchargé, réessayez"
        )

    def stop(self) -> None:
        """Stop Voilà with SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT_S`."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning(
                    "voila did not stop on SIGTERM, killing pid %d", process.pid
                )
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_S)
            log.info("voila stopped, pid %d", process.pid)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> VoilaServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def serve_forever(self) -> int:
        """Start, then wait until Voilà exits or SIGTERM/Ctrl-C stops it.

        Returns Voilà's exit code, or 0 after a requested stop.

        Raises
        ------
        ServeError
            If Voilà cannot start.
        """
        stopping = False

        def request_stop(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True
            log.info("signal %d received, stopping voila", signum)

        previous = {
            sig: signal.signal(sig, request_stop)
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.start()
            while not stopping and self.process.poll() is None:
                time.sleep(0.5)
            code = 0 if stopping else self.process.returncode
            return code
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
