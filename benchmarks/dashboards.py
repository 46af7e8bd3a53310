"""Measure the student page against a real Voilà server and print a table.

Usage::

    .venv/bin/python benchmarks/dashboards.py [--pages 20] [--room 40] [--gap 5]
        [--pool 4]

Three parts, each on a fresh server (``apkit.serve.VoilaServer``, the options of
``apkit serve``, with ``--pool`` preheated kernels for the student page, 0 for
none) over a temporary SQLite copy of the sample school, with block A's period 1
campaign open in live mode. Each part waits 10 s for the pool to fill first:

0. A reference: the same openings as in part 1 of a notebook that shows one
   "S'inscrire" button and nothing else, which is what Voilà and Chromium cost
   by themselves.
1. Time to interactive, in headless Chromium (``/usr/bin/chromium`` through
   Playwright): ``--pages`` openings one after the other, each in a new browser
   context, from ``goto`` until a "S'inscrire" button is visible, and until the
   page's HTML had arrived (the kernel's share). Each opening waits ``--gap``
   seconds first, so that it finds the server idle with its pool refilled, as a
   single visitor would. With 0, each page shares the cores with the kernel
   started to replace the previous one. Then the memory per kernel: the
   summed RSS of the kernels (from ``/proc``), idle pool included, divided by
   their number.
2. A computer room: ``--room`` students open the page at once and, when all are
   ready, click "S'inscrire" on the same activity (capacity reduced to 12)
   within one second. Each page is a real Voilà page request, for which Voilà
   hands over a preheated kernel or starts one and runs the notebook. Then the
   client opens the kernel websocket as a browser does, requests the widget
   states as ipywidgets' front end does, and sends the click as the button's
   comm message. Only the browser's drawing is left out, which a 2-core machine
   could not do for 40 pages at once (about 122 s for 30 pages in measurements
   with Voilà 0.5.13). "Interactive" is the moment the widget states arrive.

Pass criteria printed in the table: all room pages interactive within 40 s,
kernels and server under 5 GB together, never an overfilled group.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median

from sqlalchemy import func, select
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apkit.access import generate_codes  # noqa: E402
from apkit.campaigns import open_campaign  # noqa: E402
from apkit.model import Activity, Campaign, CampaignMode, Enrolment, Preference  # noqa: E402
from apkit.sample import ensure_sample_school  # noqa: E402
from apkit.serve import STUDENT_POOL_SIZE, VoilaServer, free_port  # noqa: E402
from apkit.store import Store  # noqa: E402

BLOCK = "A"
# The widget control protocol ipywidgets 8 speaks (request_states).
CONTROL_PROTOCOL = "1.0.0"
TARGET_CODE = "P1-A01"
TARGET_CAPACITY = 12
# Seconds given to the preheated pool to fill after the server starts.
POOL_FILL_S = 10
CLASSES = ("2de1", "2de2")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


# -- set-up -------------------------------------------------------------------------


def prepare_school(folder: Path) -> tuple[str, list[str], int, str]:
    """Load the sample school, open block A live; return URL, codes, target, title."""
    url = f"sqlite:///{folder / 'apkit.sqlite'}"
    store = Store(url)
    ensure_sample_school(store)
    with store.write() as session:
        campaign = session.scalars(select(Campaign)).all()
        live = next(c for c in campaign if c.block.name == BLOCK)
        live.mode = CampaignMode.LIVE
        session.execute(
            Preference.__table__.delete().where(Preference.campaign_id == live.id)
        )
        target = session.scalar(
            select(Activity).where(
                Activity.campaign_id == live.id, Activity.code == TARGET_CODE
            )
        )
        target.capacity = TARGET_CAPACITY
        campaign_id, target_id, title = live.id, target.id, target.title
    open_campaign(store, campaign_id, actor="benchmark", allow_shortfall=True)
    codes = [c.code for c in generate_codes(store, class_names=CLASSES)]
    store.dispose()
    return url, codes, target_id, title


def enrolled(url: str, activity_id: int) -> int:
    store = Store(url, upgrade=False)
    with store.read() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.activity_id == activity_id)
        )
    store.dispose()
    return int(count or 0)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            found += [child, *_children(child)]
    return found


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """Return the user and system CPU time a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory(server: VoilaServer) -> tuple[int, int, int]:
    """Return (kernel count, kernels' RSS, server's RSS) in bytes."""
    pid = server.process.pid
    kernels = [p for p in _children(pid) if p != pid]
    total = 0
    for kernel in kernels:
        try:
            total += rss_bytes(kernel)
        except OSError:
            pass
    return len(kernels), total, rss_bytes(pid)


# -- part 1: one page at a time in Chromium -----------------------------------------


def time_to_interactive(
    server: VoilaServer, codes: list[str], pages: int, gap: float
) -> tuple[list[float], list[float]]:
    """Open the page ``pages`` times, ``gap`` seconds apart.

    Return the times to interactive and to the page's HTML.
    """
    from playwright.sync_api import sync_playwright

    timings, html_times = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        for code in codes[:pages]:
            time.sleep(gap)
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.route(
                "**/*",
                lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort(),
            )
            page = context.new_page()
            start = time.perf_counter()
            page.goto(server.page_url("inscription.ipynb", f"code={code}"))
            page.get_by_role("button", name="S'inscrire").first.wait_for(
                timeout=120_000
            )
            timings.append(time.perf_counter() - start)
            # When the page's HTML had arrived: the kernel's part is done by then.
            html_ms = page.evaluate(
                "performance.getEntriesByType('navigation')[0].responseEnd"
            )
            html_times.append(html_ms / 1000)
            context.close()
        browser.close()
    return timings, html_times


# -- part 2: a computer room through Voilà's page and websocket ---------------------


def _message(msg_type: str, content: dict, session: str, metadata: dict) -> str:
    return json.dumps(
        {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "msg_type": msg_type,
                "username": "bench",
                "session": session,
                "date": "",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": metadata,
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
    )


class RoomPage:
    """One student's page: the Voilà request, then the kernel's websocket."""

    def __init__(self, server: VoilaServer, code: str, title: str) -> None:
        self.server, self.code, self.title = server, code, title
        self.session = uuid.uuid4().hex
        self.ready_after: float | None = None
        self.stage = "not started"
        self.button: str | None = None
        self.outcome = ""

    async def open(self, start: float) -> None:
        client = AsyncHTTPClient()
        url = self.server.page_url("inscription.ipynb", f"code={self.code}")
        self.stage = "page request"
        response = await client.fetch(HTTPRequest(url, request_timeout=300))
        html = response.body.decode()
        kernel = re.search(r'"kernelId": "([0-9a-f-]+)"', html).group(1)
        ws_url = (
            f"ws://{self.server.host}:{self.server.port}{self.server.base_url}"
            f"api/kernels/{kernel}/channels?session_id={self.session}"
        )
        self.stage = "kernel websocket"
        self.socket = await websocket_connect(ws_url)
        self.stage = "kernel info"
        # Like the browser, wait for the kernel's reply before opening comms, because
        # the first messages can be lost while the server connects to the kernel.
        await self._kernel_info()
        control = uuid.uuid4().hex
        await self._send(
            "comm_open",
            {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
            {"version": CONTROL_PROTOCOL},
        )
        await self._send(
            "comm_msg", {"comm_id": control, "data": {"method": "request_states"}}
        )
        self.stage = "widget states"
        states = await self._receive_states()
        self.ready_after = time.perf_counter() - start
        wanted = f"S'inscrire à « {self.title} »"
        buttons = [
            model_id
            for model_id, model in states.items()
            if model["state"].get("tooltip") == wanted
        ]
        if buttons:
            self.button = buttons[0]
            return
        statuses = [
            str(model["state"].get("value", ""))
            for model in states.values()
            if "apkit-status" in str(model["state"].get("value", ""))
        ]
        self.outcome = "no button: " + (re.sub("<[^>]+>", "", statuses[0]) if statuses
                                        else f"{len(states)} widgets")  # fmt: skip

    async def _send(self, msg_type: str, content: dict, metadata=None) -> str:
        text = _message(msg_type, content, self.session, metadata or {})
        await self.socket.write_message(text)
        return json.loads(text)["header"]["msg_id"]

    async def _kernel_info(self) -> None:
        for _attempt in range(20):
            await self._send("kernel_info_request", {})
            try:
                while True:
                    message = json.loads(
                        await asyncio.wait_for(self.socket.read_message(), 1.0)
                    )
                    if message["msg_type"] == "kernel_info_reply":
                        return
            except TimeoutError:
                continue
        raise TimeoutError("no kernel_info_reply after 20 requests")

    async def _receive_states(self) -> dict:
        while True:
            message = json.loads(await self.socket.read_message())
            data = message.get("content", {}).get("data", {})
            if (
                message["msg_type"] == "comm_msg"
                and data.get("method") == "update_states"
            ):
                return data["states"]

    async def click(self) -> None:
        if self.button is None:
            return
        content = {"comm_id": self.button, "data": {"method": "custom",
                   "content": {"event": "click"}}}  # fmt: skip
        msg_id = await self._send("comm_msg", content)
        while True:
            message = json.loads(await self.socket.read_message())
            if message["msg_type"] == "comm_msg":
                state = message["content"]["data"].get("state", {})
                value = str(state.get("value", ""))
                if "apkit-status-ok" in value:
                    self.outcome = "inscrit"
                elif "apkit-status-error" in value:
                    self.outcome = "refusé"
            parent = message.get("parent_header", {}).get("msg_id")
            if message["msg_type"] == "status" and parent == msg_id:
                if message["content"]["execution_state"] == "idle":
                    return

    def close(self) -> None:
        self.socket.close()


async def computer_room(server: VoilaServer, codes: list[str], title: str) -> dict:
    AsyncHTTPClient.configure(None, max_clients=len(codes))
    pages = [RoomPage(server, code, title) for code in codes]
    server_cpu = cpu_seconds(server.process.pid)
    start = time.perf_counter()
    try:
        await asyncio.gather(*(asyncio.wait_for(p.open(start), 300) for p in pages))
    except TimeoutError:
        stuck = Counter(page.stage for page in pages if page.ready_after is None)
        raise SystemExit(f"pages still opening after 300 s: {dict(stuck)}") from None
    server_cpu = cpu_seconds(server.process.pid) - server_cpu
    kernels, kernel_rss, server_rss = memory(server)
    kernel_cpu = sum(cpu_seconds(pid) for pid in _children(server.process.pid))
    click_start = time.perf_counter()
    await asyncio.gather(*(asyncio.wait_for(p.click(), 120) for p in pages))
    click_seconds = time.perf_counter() - click_start
    for page in pages:
        page.close()
    ready = [page.ready_after for page in pages]
    return {
        "ready": ready,
        "kernels": kernels,
        "kernel_rss": kernel_rss,
        "server_rss": server_rss,
        "click_seconds": click_seconds,
        "signed_up": sum(page.outcome == "inscrit" for page in pages),
        "refused": sum(page.outcome == "refusé" for page in pages),
        "broken": [page.outcome for page in pages if page.button is None],
        "server_cpu": server_cpu,
        "kernel_cpu": kernel_cpu,
    }


# -- report -------------------------------------------------------------------------


@contextmanager
def serving(url: str | None, log_path: Path, pool: int, **options) -> Iterator:
    """Start a Voilà server and yield it once its preheated pool has filled.

    The pool has long been full by the time a class arrives, so no part
    measures its first filling.
    """
    server = VoilaServer(
        database_url=url,
        port=free_port(),
        log_path=log_path,
        student_pool=pool,
        **options,
    )
    with server:
        time.sleep(POOL_FILL_S if pool else 0)
        yield server


def reference_notebook(folder: Path) -> Path:
    """Write a one-button notebook named like the student page; return its folder.

    Served the same way, it measures what Voilà and Chromium cost by themselves
    on this machine, below which no page can go.
    """
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            'import ipywidgets\nipywidgets.Button(description="S\'inscrire")'
        )
    ]
    reference = folder / "reference"
    reference.mkdir()
    nbformat.write(notebook, reference / "inscription.ipynb")
    return reference


def part_zero(folder: Path, codes: list[str], pages: int, gap: float, pool: int):
    reference = reference_notebook(folder)
    with serving(None, folder / "voila0.log", pool, dashboards=reference) as server:
        timings, _ = time_to_interactive(server, codes, pages, gap)
    return [
        ("one-button notebook interactive, median", f"{median(timings):.2f} s"),
    ]


def part_one(url, codes: list[str], pages: int, gap: float, log_path, pool: int):
    with serving(url, log_path, pool) as server:
        timings, html_times = time_to_interactive(server, codes, pages, gap)
        kernels, kernel_rss, _ = memory(server)
    per_page = kernel_rss / max(kernels, 1) / 2**20
    return [
        ("student page interactive, median (Chromium)", f"{median(timings):.2f} s"),
        (f"student page interactive, worst of {len(timings)}", f"{max(timings):.2f} s"),
        ("student page HTML received, median", f"{median(html_times):.2f} s"),
        ("memory per kernel (RSS)", f"{per_page:.0f} MB"),
    ]


def part_two(url, codes: list[str], target: int, title: str, log_path, pool: int):
    with serving(url, log_path, pool) as server:
        room = asyncio.run(computer_room(server, codes, title))
    total = room["kernel_rss"] + room["server_rss"]
    in_group = enrolled(url, target)
    worst = max(room["ready"])
    passed = (
        worst <= 40
        and total < 5 * 2**30
        and in_group <= TARGET_CAPACITY
        and not room["broken"]
    )
    n = len(codes)
    return [
        (f"{n} pages at once: all interactive after", f"{worst:.1f} s"),
        (f"{n} pages at once: median interactive", f"{median(room['ready']):.1f} s"),
        (f"{n} pages: kernels + server memory", f"{total / 2**30:.2f} GB"),
        (f"{n} pages: kernels running", str(room["kernels"])),
        (f"{n} pages: Voilà server CPU while opening", f"{room['server_cpu']:.1f} s"),
        (f"{n} pages: kernels' CPU, all together", f"{room['kernel_cpu']:.1f} s"),
        (f"{n} clicks on one activity, all answered in",
         f"{room['click_seconds']:.1f} s"),
        (f"signed up / refused ({TARGET_CAPACITY} places)",
         f"{room['signed_up']} / {room['refused']}"),
        ("enrolled in the activity afterwards", str(in_group)),
        ("pages without the button", f"{len(room['broken'])} {room['broken'][:3]}"),
        ("pass: within 40 s, under 5 GB, not overfilled", str(passed)),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="sequential openings")
    parser.add_argument("--room", type=int, default=40, help="simultaneous pages")
    parser.add_argument(
        "--gap",
        type=float,
        default=5.0,
        help="seconds before each sequential opening (0: back to back)",
    )
    parser.add_argument(
        "--pool",
        type=int,
        default=STUDENT_POOL_SIZE,
        help="preheated kernels for the student page (0: none)",
    )
    args = parser.parse_args()
    # Let a SIGTERM unwind the "with" blocks, so Voila and its kernels stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    with tempfile.TemporaryDirectory(prefix="apkit-bench-") as folder:
        folder = Path(folder)
        url, codes, target, title = prepare_school(folder)
        rows = part_zero(folder, codes, args.pages, args.gap, args.pool)
        rows += part_one(
            url, codes, args.pages, args.gap, folder / "voila1.log", args.pool
        )
        rows += part_two(
            url, codes[: args.room], target, title, folder / "voila2.log", args.pool
        )
    rows[:0] = [
        ("preheated kernels for the student page", str(args.pool)),
        ("pause before each sequential opening", f"{args.gap:g} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
