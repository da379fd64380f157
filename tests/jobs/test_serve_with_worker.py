"""`govshare serve --with-worker` (what `make demo` runs): a worker beside the server, stopped with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from govshare.core.db import Database
from govshare.models import Job

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ran_periodic_jobs(db: Database) -> bool:
    with db.transaction(readonly=True) as session:
        return session.query(Job).filter(Job.state == "succeeded").count() > 0


@pytest.mark.sqlite_only
@pytest.mark.usefixtures("cli_env")
def test_serve_with_worker_runs_the_worker_and_stops_it_on_sigterm(db: Database) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "govshare", "serve", "--with-worker", "--port", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _ran_periodic_jobs(db):  # the worker's scheduler queued and ran the periodic jobs
            assert server.poll() is None, "govshare serve exited"
            assert time.monotonic() < deadline, "no job ran"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200
        workers = [p for p in psutil.Process(server.pid).children() if "worker" in p.cmdline()]
        assert len(workers) == 1
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=90) == 0
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [] and len(gone) == 1
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
