"""The ``apkit`` command as a process: what it does when its reader goes away."""

from __future__ import annotations

import subprocess

from apkit.cli import EXIT_BROKEN_PIPE
from tests.conftest import ROOT, new_database_url


def test_closed_pipe_ends_quietly(tmp_path):
    apkit = ROOT / ".venv" / "bin" / "apkit"
    database = new_database_url(tmp_path)
    # The reader closes its end before apkit writes, as `apkit summary | head -0`.
    process = subprocess.Popen(
        [apkit, "--database", database, "summary"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert "Traceback" not in stderr
    assert stderr == ""
