"""Serving with Voilà: the command line, a busy port, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apkit import access
from apkit.cli import main
from apkit.model import Role
from apkit.serve import (
    STUDENT_POOL_SIZE,
    ServeError,
    VoilaServer,
    free_port,
    normalize_base_url,
    port_is_open,
    voila_command,
)
from apkit.store import Store
from tests.conftest import new_database_url


def test_voila_command_options():
    command = voila_command(port=9100, base_url="ap")
    assert command[0].endswith("voila") or command[1:3] == ["-m", "voila"]
    for option in [
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        "--Voila.port=9100",
        "--Voila.port_retries=0",
        "--Voila.base_url=/ap/",
        "--show_tracebacks=False",
        "--MappingKernelManager.cull_idle_timeout=900",
        "--MappingKernelManager.cull_interval=60",
        "--KernelManager.transport=ipc",
    ]:
        assert option in command
    assert "--preheat_kernel=True" in command
    pools = next(p for p in command if "kernel_pools_config=" in p)
    assert json.loads(pools.split("=", 1)[1]) == {
        "inscription.ipynb": {"pool_size": STUDENT_POOL_SIZE},
        "default": {"pool_size": 0},
    }


def test_voila_command_without_pool():
    command = voila_command(student_pool=0)
    assert not any("preheat" in part or "pool" in part for part in command)


@pytest.mark.parametrize(
    ("host", "reached_at"),
    [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("192.0.2.7", "192.0.2.7")],
)
def test_kernels_told_where_voila_listens(host, reached_at):
    environment = VoilaServer(host=host)._environment()
    assert environment["VOILA_APP_IP"] == reached_at


@pytest.mark.parametrize(
    ("given", "expected"), [("", "/"), ("/", "/"), ("ap", "/ap/"), ("/ap/x/", "/ap/x/")]
)
def test_normalize_base_url(given, expected):
    assert normalize_base_url(given) == expected


def test_codes_generate_administration(tmp_path, capsys):
    url = new_database_url(tmp_path)
    out = tmp_path / "codes.csv"
    argv = ["--database", url, "codes", "generate", "--administration"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "1 code créé et écrit dans" in capsys.readouterr().out
    issued = access.read_codes_csv(out)
    assert [(item.role, item.label) for item in issued] == [
        (Role.ADMINISTRATION, "Administration")
    ]
    store = Store(url)
    try:
        identity = access.authenticate(store, issued[0].code)
    finally:
        store.dispose()
    assert identity.role is Role.ADMINISTRATION and not identity.is_staff


def test_codes_generate_needs_a_choice(tmp_path):
    argv = ["--database", new_database_url(tmp_path), "codes", "generate"]
    with pytest.raises(SystemExit, match="--coordinator ou --administration"):
        main(argv)


def test_busy_port_rejected(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = VoilaServer(port=port, log_path=tmp_path / "voila.log")
        with pytest.raises(ServeError, match=f"Le port {port} est déjà utilisé"):
            server.start()
        assert server.process is None


@pytest.mark.slow
def test_apkit_serve_stops_on_sigterm(tmp_path):
    port = free_port()
    database = new_database_url(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "apkit", "--database", database, "serve",
         "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not port_is_open("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert port_is_open("127.0.0.1", port)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}/voila/render/accueil.ipynb" in output
    assert not port_is_open("127.0.0.1", port)


def _kernel_connection(server: VoilaServer, timeout: float = 60) -> dict:
    """Return the connection file of the first kernel Voilà starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                words = cmdline.read_bytes().decode().split("\0")
                parent = int(Path(cmdline.parent, "stat").read_text().split()[3])
            except (OSError, ValueError, IndexError):
                continue
            if parent == server.process.pid and "-f" in words:
                return json.loads(Path(words[words.index("-f") + 1]).read_text())
        time.sleep(0.2)
    raise AssertionError("Voilà started no kernel")


@pytest.mark.slow
def test_kernels_use_unix_sockets(tmp_path):
    # Kernels on TCP ports could take a port another kernel had just been given
    # when a class opens the page at once, and that page then never loaded.
    server = VoilaServer(
        database_url=new_database_url(tmp_path),
        port=free_port(),
        student_pool=1,
        log_path=tmp_path / "voila.log",
    )
    with server:
        connection = _kernel_connection(server)
        sockets = Path(connection["ip"]).parent
        assert sockets.is_dir()
    assert connection["transport"] == "ipc"
    # Stopping the server removes the folder of socket files.
    assert not sockets.exists()
