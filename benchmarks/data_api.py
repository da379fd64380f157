"""Key lookups through the data API's full stack against Datasette, on SQLite and PostgreSQL.

Builds a node the real way (the demo catalog, then `collection_ingest.phase_ours`: the 2,000,000-row
人口基本信息 file ingested with the demo mapping), creates an application with a key and subscribes it to the
resource's 无条件 items (公民身份号码 and 姓名 masked), then serves the node with `govshare serve` and drives
`GET /api/v1/data/{code}/records/{公民身份号码}` — key check, live grant, quota, masking, and the audit
entry, subject index row and usage counter committed with every call — from a separate load generator
with N keep-alive connections, each request a random key of a pre-drawn list.

In the same run, the baseline: Datasette serving a keyed single-row lookup from a copy of the same SQLite
table (immutable mode), with the same load generator and the same keys:
`/baseline/rs_N.json?gmsfhm=K&_valid_to__isnull=1&_shape=array&_nocount=1&_nofacet=1&_nosuggest=1`
(the current version of the record, answered from the table's unique partial index on the key), and its
row page by primary key `/baseline/rs_N/{_sid}.json?_shape=array`.

The load generator is wrk (one thread, a Lua script picking the key) when it is on PATH, else a Python
asyncio generator in its own process. Prints requests, requests/s, p50 and p99 per target and concurrency,
the non-2xx responses and socket errors, and the throughput ratio govshare/Datasette. After each backend,
where the time goes: the same call in process, one at a time, timed part by part (`--calls`), with its SQL
statements counted; with `--profile DIR` and py-spy (on PATH or PY_SPY), also py-spy's raw stacks of the
single-process server under load at 1 and the highest number of clients. Not a test: nothing here asserts
on time.

    .venv/bin/python benchmarks/data_api.py [--records 2000000] [--duration 20] [--warmup 5]
        [--clients 8,32] [--workers 1,2] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--skip-pg] [--loadgen auto|wrk|python] [--calls 3000] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from collection_ingest import phase_ours  # benchmarks/ is the script's directory, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESOURCE_NAME = "人口基本信息"
APPLICATION = "bench-data"
PURPOSE, OPERATOR = "数据接口基准测试 BENCH-0001", "基准测试经办人"
# The node's secrets: the build and the server must share the audit key (the chain's key check).
SECRETS = {
    "GOVSHARE_SECRET_KEY": "benchmark-secret-key-" + "s" * 32,
    "GOVSHARE_AUDIT_KEY": "benchmark-audit-key-" + "a" * 32,
}
QUOTAS = {  # a subscription's daily quotas and the per-application rate must not throttle the run
    "GOVSHARE_SUBSCRIPTION_REQUESTS_PER_DAY": "1000000000",
    "GOVSHARE_SUBSCRIPTION_ROWS_PER_DAY": "1000000000",
    "GOVSHARE_DATA_RATE_PER_SECOND": "100000",
}
KEYS_DRAWN = 50_000
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
math.randomseed(tonumber(os.getenv("BENCH_SEED")))
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%f,"p50_ms":%f,"p99_ms":%f,"max_ms":%f,' ..
    '"non_2xx":%d,"socket_errors":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


# --- the node ---------------------------------------------------------------------------------------------


def population_file(rows: int) -> Path:
    """The generated file `collection_ingest.py` uses (same path, same seed): made once, then reused."""
    path = Path(tempfile.gettempdir()) / f"govshare-population-{rows}.csv"
    if not path.exists():
        maker = [sys.executable, str(ROOT / "benchmarks" / "make_population.py"), str(path)]
        maker += ["--rows", str(rows), "--seed", "2026", "--sex-coding", "ga"]
        subprocess.run(maker, check=True, capture_output=True)  # noqa: S603
        print(f"generated {path}", flush=True)
    return path


def phase_build(path: Path, work: Path, database_url: str | None) -> dict[str, Any]:
    """In a child process: the demo node with the file ingested, then an application subscribed to the
    resource's 无条件 items. Returns the key, the resource code and the record table."""
    from sqlalchemy import select

    from govshare.applications import service as applications
    from govshare.applications.schemas import ApplicationCreate
    from govshare.auth.actor import Actor
    from govshare.core.db import Database
    from govshare.models import RecordTable, Resource, ResourceVersion
    from govshare.settings import Settings
    from govshare.sharing import service as sharing
    from govshare.sharing.schemas import SubscribeIn

    os.environ.update({**SECRETS, **QUOTAS})
    started = time.perf_counter()
    ingest = phase_ours(path, work, database_url)
    os.environ["GOVSHARE_ENV"] = "production"
    db = Database.from_settings(Settings())
    actor = Actor.system("benchmark")
    with db.transaction() as session:
        code = session.scalars(
            select(Resource.code)
            .join(ResourceVersion)
            .where(ResourceVersion.name == RESOURCE_NAME, ResourceVersion.state == "published")
        ).one()
        resource_id = session.scalars(select(Resource.id).where(Resource.code == code)).one()
        table = session.get_one(RecordTable, resource_id).table_name
        applications.create_application(
            session,
            actor,
            ApplicationCreate(code=APPLICATION, name="数据接口基准测试", department_code="MZ"),
        )
        secret = applications.issue_key(session, actor, APPLICATION).secret
        grant = sharing.subscribe(
            session,
            actor,
            SubscribeIn.model_validate(
                {
                    "application": APPLICATION,
                    "resource": code,
                    "purpose_kind": "work_reference",
                    "purpose": PURPOSE,
                }
            ),
        )
        items = list(grant.items)
    db.dispose()
    return {
        "key": secret,
        "code": code,
        "table": table,
        "items": items,
        "ingest": ingest["counts"],
        "build_seconds": time.perf_counter() - started,
    }


def run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[:2]} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def draw_keys(db_file: Path, table: str, n: int) -> list[tuple[int, str]]:
    """(_sid, 公民身份号码) of n random current records."""
    con = sqlite3.connect(db_file)
    try:
        rows = con.execute(
            f"SELECT _sid, gmsfhm FROM {table} WHERE _valid_to IS NULL ORDER BY random() LIMIT ?", (n,)
        ).fetchall()
    finally:
        con.close()
    return [(int(sid), str(key)) for sid, key in rows]


def baseline_copy(db_file: Path, out: Path) -> Path:
    """Datasette's file: a copy of the node's database, rolled out of WAL mode (it is opened immutable)."""
    con = sqlite3.connect(db_file)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(db_file, out)
    con = sqlite3.connect(out)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return out


def query_plan(db_file: Path, table: str, key: str) -> str:
    con = sqlite3.connect(db_file)
    try:
        plan = con.execute(
            f'EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE "gmsfhm" = ? AND "_valid_to" IS NULL', (key,)
        ).fetchall()
    finally:
        con.close()
    return "; ".join(str(row[-1]) for row in plan)


# display order (indented parts are inside the one above) -> the functions timed, first one found wins:
# other work on the data service moves helpers between modules, so each part names its candidates
SPLIT_PARTS: dict[str, list[str]] = {
    "authenticate_key (first statement: BEGIN)": [],
    "data_service.get_record": [],
    "  open_access (resource, live grant, table)": ["govshare.sharing.access:open_access"],
    "  check_quota (usage today)": ["govshare.sharing.access:check_quota"],
    "  record query (by key)": ["govshare.sharing.records:by_key", "govshare.sharing.data_service:_by_key"],
    "  finish (audit + subjects + usage)": ["govshare.sharing.access:finish"],
    "    audit.record": ["govshare.audit.service:record"],
    "      lock_head": ["govshare.audit.repository:AuditRepository.lock_head"],
    "    add_subjects": ["govshare.sharing.repository:SharingRepository.add_subjects"],
    "    count_usage": ["govshare.sharing.repository:SharingRepository.count_usage"],
    "  masking": ["govshare.sharing.records:mask_record", "govshare.sharing.data_service:mask_record"],
    "commit": [],
}


def phase_split(keys_file: Path, secret: str, code: str, calls: int) -> dict[str, Any]:
    """In a child process with the served node's environment: the same work as one API call, in process and
    one call at a time (no HTTP, no threads), with a timer around each part. The parts are the functions
    the endpoint calls, wrapped here; `data_service.get_record` runs unchanged."""
    import importlib
    from collections import defaultdict
    from dataclasses import replace

    from sqlalchemy import event

    from govshare.applications import service as applications
    from govshare.core.db import Database
    from govshare.settings import Settings
    from govshare.sharing import data_service

    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    for name, candidates in SPLIT_PARTS.items():
        for candidate in candidates:
            module_name, _, path = candidate.partition(":")
            try:
                owner: Any = importlib.import_module(module_name)
            except ImportError:
                continue
            *parents, attribute = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            if hasattr(owner, attribute):
                setattr(owner, attribute, timed(name, getattr(owner, attribute)))
                break
    db = Database.from_settings(Settings())
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _u, sql, *_: statements.append(sql))
    keys = keys_file.read_text(encoding="utf-8").split()
    totals: list[float] = []
    for i in range(calls + 200):
        if i == 200:  # warm-up done
            spent.clear()
            totals.clear()
            statements.clear()
        started = time.perf_counter()
        session = db.session()
        try:
            t = time.perf_counter()
            actor = applications.authenticate_key(session, secret)
            assert actor is not None
            actor = replace(actor.with_request(request_id="bench", client_addr="127.0.0.1"), purpose=PURPOSE)
            spent["authenticate_key (first statement: BEGIN)"] += time.perf_counter() - t
            t = time.perf_counter()
            data_service.get_record(session, actor, code, keys[i % len(keys)], operator=OPERATOR)
            spent["data_service.get_record"] += time.perf_counter() - t
            t = time.perf_counter()
            session.commit()
            spent["commit"] += time.perf_counter() - t
        finally:
            session.close()
        totals.append(time.perf_counter() - started)
    db.dispose()
    return {
        "calls": calls,
        "total_ms": 1000 * statistics.mean(totals),
        "p50_ms": 1000 * statistics.median(totals),
        "parts_ms": {name: 1000 * spent[name] / calls for name in SPLIT_PARTS if name in spent},
        "statements": len(statements) / calls,
        "statement_kinds": _statement_kinds(statements, calls),
    }


def _statement_kinds(statements: list[str], calls: int) -> dict[str, float]:
    """'SELECT api_key' and the like: the verb and the first table, per call."""
    import re

    kinds: dict[str, int] = {}
    for sql in statements:
        verb = sql.split(None, 1)[0].upper()
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", sql, re.IGNORECASE)
        kind = f"{verb} {table.group(1)}" if table else sql.strip()[:30]
        kinds[kind] = kinds.get(kind, 0) + 1
    return {kind: count / calls for kind, count in sorted(kinds.items(), key=lambda x: -x[1])}


def print_split(label: str, split: dict[str, Any]) -> None:
    print(
        f"  in-process, one call at a time ({split['calls']:,} calls): {split['total_ms']:.2f} ms per call "
        f"(p50 {split['p50_ms']:.2f} ms), {split['statements']:.1f} SQL statements per call; "
        "mean ms per call by part:",
        flush=True,
    )
    for name, ms in split["parts_ms"].items():
        print(f"    {ms:6.3f}  {name}")
    print("  statements per call: " + ", ".join(f"{k} {v:g}" for k, v in split["statement_kinds"].items()))


# --- servers ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):  # noqa: S310 - ours
            return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], ready: str, log: Path) -> Iterator[int]:
    """A server in its own process group (uvicorn's workers with it); stopped by that group's id."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_ready(ready, process)
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def govshare_env(work: Path, database_url: str | None, port: int, workers: int) -> dict[str, str]:
    env = {
        **os.environ,
        **SECRETS,
        **QUOTAS,
        "GOVSHARE_ENV": "production",
        "GOVSHARE_DATA_DIR": str(work),
        "GOVSHARE_PORT": str(port),
        "GOVSHARE_WORKERS": str(workers),
        "GOVSHARE_LOG_LEVEL": "WARNING",
    }
    env.pop("GOVSHARE_DATABASE_URL", None)
    if database_url:
        env["GOVSHARE_DATABASE_URL"] = database_url
    return env


def fetch(url: str, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


# --- load -------------------------------------------------------------------------------------------------


def run_load(
    loadgen: str, base: str, paths_file: Path, headers: dict[str, str], clients: int, seconds: float
) -> dict[str, Any]:
    """One closed-loop run: `clients` keep-alive connections, each sending its next request (a random path
    of the file) as soon as the previous answer arrived."""
    seed = str(random.randrange(1, 2**31))
    if loadgen == "wrk":
        script = paths_file.with_suffix(".lua")
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "10s", "-s", str(script)]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        env = {**os.environ, "BENCH_PATHS": str(paths_file), "BENCH_SEED": seed}
        done = subprocess.run([*command, base], capture_output=True, text=True, check=True, env=env)  # noqa: S603
        line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
        result: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
        return result
    spec = json.dumps({"base": base, "paths": str(paths_file), "headers": headers, "seed": int(seed)})
    return run_child(
        ["--phase", "load", "--load", spec, "--clients", str(clients), "--duration", str(seconds)]
    )


async def _python_load(spec: dict[str, Any], clients: int, seconds: float) -> dict[str, Any]:
    """The fallback generator: raw HTTP/1.1 over asyncio streams, Content-Length or chunked bodies."""
    host, port = spec["base"].removeprefix("http://").split(":")
    paths = Path(spec["paths"]).read_text(encoding="utf-8").split()
    rng = random.Random(spec["seed"])
    extra = "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
    latencies: list[float] = []
    counts = {"non_2xx": 0, "socket_errors": 0}
    stop = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < stop:
            message = f"GET {rng.choice(paths)} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()
            started = time.perf_counter()
            try:
                writer.write(message)
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                if "transfer-encoding: chunked" in head:
                    while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                        await reader.readexactly(size + 2)
                    await reader.readuntil(b"\r\n")
                else:
                    length = head.split("content-length:", 1)[1].split("\r\n", 1)[0]
                    await reader.readexactly(int(length))
            except (OSError, asyncio.IncompleteReadError, IndexError):
                counts["socket_errors"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, int(port))
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if not head.startswith("http/1.1 2"):
                counts["non_2xx"] += 1
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "max_ms": ordered[-1],
        **counts,
    }


# --- profile ----------------------------------------------------------------------------------------------


def profiled_load(
    pid: int,
    out: Path,
    loadgen: str,
    base: str,
    paths: Path,
    headers: dict[str, str],
    clients: int,
    seconds: float,
) -> None:
    """py-spy (on PATH or PY_SPY) samples the server and its workers while the load runs; raw stacks to
    `out`, the heaviest frames printed. Not a timed run: sampling slows the server."""
    spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not spy:
        print("  (py-spy not found: set PY_SPY or put it on PATH to profile)")
        return
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", "250"]
    command += ["--duration", f"{seconds:.0f}", "--output", str(out), "--nonblocking"]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    time.sleep(1)
    r = run_load(loadgen, base, paths, headers, clients, seconds - 2)
    recorder.wait()
    print(f"  profile c={clients} ({r['requests'] / r['seconds']:,.0f} req/s under py-spy): {out}")
    summarize_profile(out)


IDLE_LEAVES = ("Condition.wait (threading.py", "Runner.run (asyncio/runners.py")
MARKERS = ("do_execute (", "do_commit (", "_on_begin (", "Queue.get (sqlalchemy")


def summarize_profile(raw: Path, top: int = 22) -> None:
    """Share of the busy samples (threads not parked in the worker queue or the event loop's poll) spent in
    each govshare function and in the driver's execute/commit, inclusive."""
    busy = 0
    inclusive: dict[str, int] = {}
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            continue
        busy += int(count)
        names = {f.split(":")[0] + ")" for f in frames if "govshare/" in f or any(m in f for m in MARKERS)}
        for name in names:
            inclusive[name] = inclusive.get(name, 0) + int(count)
    if not busy:
        return
    for name, count in sorted(inclusive.items(), key=lambda x: -x[1])[:top]:
        print(f"    {100 * count / busy:5.1f}%  {name}")


# --- the run ----------------------------------------------------------------------------------------------

Row = dict[str, Any]


def measure(
    name: str,
    base: str,
    paths: Path,
    headers: dict[str, str],
    args: argparse.Namespace,
    rows: list[Row],
) -> None:
    run_load(args.loadgen, base, paths, headers, max(args.clients), args.warmup)  # warm-up, discarded
    for clients in args.clients:
        r = run_load(args.loadgen, base, paths, headers, clients, args.duration)
        r.update(target=name, clients=clients, rps=r["requests"] / r["seconds"])
        r["errors"] = r["non_2xx"] + r["socket_errors"]
        rows.append(r)
        print(
            f"  {name:26s} c={clients:<3d} {r['requests']:>8,d} req  {r['rps']:>8,.0f}/s  "
            f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  "
            f"(load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )


def write_paths(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bench_govshare(
    label: str,
    work: Path,
    database_url: str | None,
    built: dict[str, Any],
    keys: list[tuple[int, str]],
    args: argparse.Namespace,
    rows: list[Row],
    splits: list[dict[str, Any]],
) -> None:
    code = quote(built["code"], safe="")
    paths = write_paths(work / "govshare-paths.txt", [f"/api/v1/data/{code}/records/{k}" for _, k in keys])
    headers = {
        "Authorization": f"Bearer {built['key']}",
        "X-Purpose": quote(PURPOSE),
        "X-Operator": quote(OPERATOR),
    }
    for workers in args.workers:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = govshare_env(work, database_url, port, workers)
        command = [str(BIN / "govshare"), "serve"]
        log = work / f"serve-{workers}.log"
        with server(command, env, f"{base}/healthz", log) as pid:
            status, body = fetch(base + (paths.read_text().split("\n", 1)[0]), headers)
            if status != 200:
                raise SystemExit(f"govshare sample lookup answered {status}: {body}")
            if workers == args.workers[0]:
                print(f"  sample answer: {json.dumps(body, ensure_ascii=False)}", flush=True)
            measure(f"govshare-{label} w{workers}", base, paths, headers, args, rows)
            if args.profile and workers == 1:
                for clients in sorted({1, max(args.clients)}):
                    out = args.profile / f"govshare-{label}-c{clients}.raw.txt"
                    profiled_load(pid, out, args.loadgen, base, paths, headers, clients, args.duration)
    keys_file = write_paths(work / "keys.txt", [k for _, k in keys])
    env = {
        **govshare_env(work, database_url, 8000, 1),
        "BENCH_APP_KEY": built["key"],
        "BENCH_CODE": built["code"],
    }
    split = run_child(["--phase", "split", "--file", str(keys_file), "--calls", str(args.calls)], env)
    split["target"] = f"govshare-{label}"
    splits.append(split)
    print_split(label, split)


def bench_datasette(
    db_file: Path,
    table: str,
    keys: list[tuple[int, str]],
    work: Path,
    args: argparse.Namespace,
    rows: list[Row],
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "datasette"), "serve", "-i", str(db_file), "-h", "127.0.0.1", "-p", str(port)]
    command += ["--setting", "suggest_facets", "off", "--setting", "sql_time_limit_ms", "3000"]
    db = db_file.stem
    keyed = write_paths(
        work / "datasette-key-paths.txt",
        [
            f"/{db}/{table}.json?gmsfhm={k}&_valid_to__isnull=1&_shape=array&_nocount=1&_nofacet=1&_nosuggest=1"
            for _, k in keys
        ],
    )
    by_rowid = write_paths(
        work / "datasette-rowid-paths.txt", [f"/{db}/{table}/{s}.json?_shape=array" for s, _ in keys]
    )
    with server(command, dict(os.environ), f"{base}/-/versions.json", work / "datasette.log"):
        for name, paths in (("datasette key lookup", keyed), ("datasette rowid page", by_rowid)):
            status, body = fetch(base + paths.read_text().split("\n", 1)[0], {})
            if status != 200 or not body:
                raise SystemExit(f"datasette sample lookup answered {status}: {body}")
            print(f"  sample {name}: {json.dumps(body, ensure_ascii=False)[:300]}", flush=True)
            measure(name, base, paths, {}, args, rows)


def create_pg(admin_url: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    name = f"govshare_bench_{os.getpid()}_{uuid.uuid4().hex[:4]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return conninfo, admin.set(database=name).render_as_string(hide_password=False)


def drop_pg(conninfo: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


def report(rows: list[Row], args: argparse.Namespace) -> None:
    print()
    print("| target | clients | requests | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['target']} | {r['clients']} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['errors']} |"
        )
    print()
    for clients in args.clients:
        base = next(
            (r for r in rows if r["target"] == "datasette key lookup" and r["clients"] == clients), None
        )
        if base is None:
            continue
        ratios = [
            f"{r['target']} {r['rps'] / base['rps']:.2f}"
            for r in rows
            if r["clients"] == clients and r["target"].startswith("govshare")
        ]
        print(f"c={clients}: govshare / datasette key lookup throughput: " + ", ".join(ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000, help="rows of the generated source file")
    parser.add_argument("--duration", type=float, default=20, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of discarded load per server")
    parser.add_argument("--clients", default="8,32", help="concurrent connections, comma-separated")
    parser.add_argument("--workers", default="1,2", help="govshare serve worker processes, comma-separated")
    parser.add_argument("--pg", default=DEFAULT_PG, help="an admin URL; a throwaway database is made")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw stacks of govshare w1 here")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--load", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=3000, help="in-process calls timed part by part")
    args = parser.parse_args()
    if args.phase == "build":
        built = phase_build(Path(args.file), Path(args.work), args.database_url)
        print(json.dumps(built, ensure_ascii=False, default=str))
        return
    if args.phase == "split":
        split = phase_split(
            Path(args.file), os.environ["BENCH_APP_KEY"], os.environ["BENCH_CODE"], args.calls
        )
        print(json.dumps(split, ensure_ascii=False))
        return
    if args.phase == "load":
        result = asyncio.run(_python_load(json.loads(args.load), int(args.clients), args.duration))
        print(json.dumps(result))
        return
    args.clients = [int(c) for c in args.clients.split(",")]
    args.workers = [int(w) for w in args.workers.split(",")]
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    path = population_file(args.records)
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB); load generator: {args.loadgen}", flush=True)
    rows: list[Row] = []
    splits: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gs-data-api-") as tmp:
        work = Path(tmp) / "sqlite"
        work.mkdir()
        built = run_child(["--phase", "build", "--file", str(path), "--work", str(work)])
        node_file = work / "govshare.db"
        table = built["table"]
        print(
            f"SQLite node built in {built['build_seconds']:.0f} s: resource {built['code']}, table {table}, "
            f"ingest {built['ingest']}, granted {built['items']}",
            flush=True,
        )
        keys = draw_keys(node_file, table, KEYS_DRAWN)
        print(f"{len(keys):,} keys drawn; plan: {query_plan(node_file, table, keys[0][1])}", flush=True)
        baseline = baseline_copy(node_file, Path(tmp) / "baseline.db")
        bench_datasette(baseline, table, keys, Path(tmp), args, rows)
        baseline.unlink()
        bench_govshare("sqlite", work, None, built, keys, args, rows, splits)
        if not args.skip_pg:
            conninfo, url = create_pg(args.pg)
            try:
                pg_work = Path(tmp) / "postgresql"
                pg_work.mkdir()
                built_pg = run_child(
                    ["--phase", "build", "--file", str(path), "--work", str(pg_work), "--database-url", url]
                )
                print(
                    f"PostgreSQL node built in {built_pg['build_seconds']:.0f} s: "
                    f"ingest {built_pg['ingest']}",
                    flush=True,
                )
                bench_govshare("postgresql", pg_work, url, built_pg, keys, args, rows, splits)
            finally:
                drop_pg(conninfo, url)
    report(rows, args)
    for split in splits:
        print(
            f"{split['target']}: " + "; ".join(f"{k.strip()} {v:.2f}" for k, v in split["parts_ms"].items())
        )


if __name__ == "__main__":
    main()
