"""Open-data download files (CSV, JSON, XLSX) against the straightforward way, on SQLite and PostgreSQL.

Seeds a node per database (`govshare demo` into a temporary data directory; PostgreSQL: a throwaway
database), then grows the record table of the demo's open dataset, 市场监管局's 企业登记注册信息 (980 current
records), to N current records (`--rows`) with set-based SQL: each new row takes its fields from three of
the 980 demo records (name, address, business scope, registering office, dates shifted back by up to ten
years, registered capital scaled) under a new unique 统一社会信用代码; 1 % of them also get a superseded
older version (`_valid_to` set), so the current-records filter has something to leave out. Then, each
phase in its own process so that its peak memory (ru_maxrss) is its own:

- ours-<fmt>:    `opendata.downloads.download`, the call behind `GET /api/open/v1/datasets/{code}/download`,
                 for csv, json and (N <= 1,048,575, an Excel sheet) xlsx, in a write transaction as the
                 route's: dataset lookup, count of current records, the file generation (`_generate`: one
                 SELECT of the current records' opened columns, read in chunks into Polars frames and written
                 chunk by chunk), the usage count and the audit entry. "generate" is `_generate` alone,
                 "read" the part of it spent producing frames (SELECT, fetch, frame building); then a
                 second request in the same process: the cache hit. On SQLite, also a second connection
                 that tries to begin a write one second into the request and reports how long it waited;
- hit-csv:       the same request again in a fresh process (the file is cached; the record count is not);
- select:        the same SELECT, streamed in chunks as ours does, rows fetched and dropped: the floor for
                 ours' way of reading (plain row-by-row iteration, the baseline's, is cheaper);
- baseline-<fmt>: the straightforward way, the same SELECT (current records, opened columns only, by `_sid`)
                 through the same session: csv.writer row by row (UTF-8 with BOM, as ours), and json.dump of
                 a list of dicts (`default=str` for dates);
- verify:        ours and the baseline give the same rows: same row count (the current records), the
                 same set of first-column values (统一社会信用代码) on a random sample, and for CSV and JSON
                 whether every cell is identical; the XLSX's rows counted in its sheet XML and its first
                 rows compared.

Prints seconds, rows/s, peak memory and file size per phase and the ratios ours/baseline (generation and
whole request). Not a test: nothing here asserts on time.

    .venv/bin/python benchmarks/open_download.py [--rows 1000000] [--backends sqlite,postgresql]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--sample 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DATASET_NAME = "企业登记注册信息"
PROVIDER = "示例市市场监督管理局"
XLSX_MAX_ROWS = 1_048_575  # downloads.XLSX_MAX_ROWS (not imported: the parent process stays small)
SUPERSEDED_SHARE = 0.01
# the record table's business columns, in order; the growth SQL below is written for exactly these
COLUMNS = [
    "tyshxydm", "dwmc", "fddbr", "djjg", "clrq", "qylx", "zczb", "zczbbz", "zs", "jyfw",
    "yyqxq", "yyqxz", "djzt", "hzrq", "sshy",
]  # fmt: skip
SYSTEM = ["_valid_from", "_valid_to", "_batch_id", "_source_id"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the node -----------------------------------------------------------------------------------------------


def _database() -> Any:
    from govshare.core.db import Database
    from govshare.settings import Settings

    return Database.from_settings(Settings())


def _dataset(session: Any) -> Any:
    """The open dataset, found by name and provider as a visitor finds it."""
    from govshare.auth.actor import Actor
    from govshare.opendata import service

    page = service.search(session, Actor.anonymous(), q=DATASET_NAME, page_size=100)
    found = [d for d in page.datasets if d.name == DATASET_NAME and d.provider_name == PROVIDER]
    if len(found) != 1:
        raise SystemExit(f"open dataset {DATASET_NAME} of {PROVIDER}: found {len(found)}")
    return service.dataset(session, Actor.anonymous(), found[0].code)


def _statement(dataset: Any, table: Any) -> Any:
    """The SELECT ours makes (`downloads._frames`), without its streaming options."""
    from sqlalchemy import select

    names = [f for f in dataset.fields if f in table.c]
    return select(*(table.c[n] for n in names)).where(table.c._valid_to.is_(None)).order_by(table.c._sid)


def _synthetic(postgres: bool, *, superseded: bool) -> str:
    """INSERT … SELECT of rows :first..:last, each made of three demo records (b, o, p) of `bench_base`."""
    if postgres:
        numbers = "generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS s(n)"
        key = "substr(b.tyshxydm, 1, 8) || lpad(s.n::text, 9, '0') || substr(b.tyshxydm, 18, 1)"

        def shift(column: str) -> str:
            return f"{column} - CAST(s.n % 3650 AS integer)"

        earlier = "b._valid_from - interval '400 days'"
        head = ""
    else:
        numbers = "s"
        key = "substr(b.tyshxydm, 1, 8) || printf('%09d', s.n) || substr(b.tyshxydm, 18, 1)"

        def shift(column: str) -> str:
            return f"date({column}, '-' || (s.n % 3650) || ' days')"

        earlier = "strftime('%Y-%m-%d %H:%M:%f', b._valid_from, '-400 days')"
        head = "WITH RECURSIVE s(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM s WHERE n < :last) "
    # the older version of a record had another name and address and was registered as 存续
    older_name, older_address = ("p.dwmc", "o.zs") if superseded else (None, None)
    values = {
        "tyshxydm": key,
        "dwmc": older_name or "replace(b.dwmc, '示例市', '示例市' || substr(o.dwmc, 4, 2))",
        "fddbr": "p.fddbr",
        "djjg": "o.djjg",
        "clrq": shift("b.clrq"),
        "qylx": "o.qylx",
        "zczb": "b.zczb * (1 + s.n % 20)",
        "zczbbz": "b.zczbbz",
        "zs": older_address or "p.zs",
        "jyfw": "o.jyfw",
        "yyqxq": shift("b.yyqxq"),
        "yyqxz": shift("b.yyqxz"),
        "djzt": "'存续'" if superseded else "b.djzt",
        "hzrq": "b.hzrq",
        "sshy": "o.sshy",
        "_valid_from": earlier if superseded else "b._valid_from",
        "_valid_to": "b._valid_from" if superseded else "NULL",
        "_batch_id": "b._batch_id",
        "_source_id": "b._source_id",
    }
    return (
        f"INSERT INTO {{table}} ({', '.join(values)}) {head}"
        f"SELECT {', '.join(values.values())} FROM {numbers} "
        "JOIN bench_base b ON b.k = s.n % :base "
        "JOIN bench_base o ON o.k = (s.n * 7919 + 13) % :base "
        "JOIN bench_base p ON p.k = (s.n * 104729 + 7) % :base "
        + (
            ""
            if superseded
            else f"WHERE {key} NOT IN (SELECT tyshxydm FROM bench_base WHERE tyshxydm IS NOT NULL)"
        )
    )


def phase_grow(rows: int) -> dict[str, Any]:
    """Grow the dataset's record table to `rows` current records (+1 % superseded), set-based."""
    from sqlalchemy import func, select, text

    from govshare.opendata import service

    db = _database()
    postgres = not db.is_sqlite
    started = time.perf_counter()
    with db.transaction() as session:
        dataset = _dataset(session)
        table = service.record_table(session, dataset)
        if table is None or [c.name for c in table.c if not c.name.startswith("_")] != COLUMNS:
            raise SystemExit(f"unexpected record table for {DATASET_NAME}: {table}")
        name = table.name
        session.execute(
            text(
                "CREATE TEMP TABLE bench_base AS SELECT row_number() OVER (ORDER BY _sid) - 1 AS k, "
                f"{', '.join(COLUMNS + SYSTEM)} FROM {name} WHERE _valid_to IS NULL"
            )
        )
        session.execute(text("CREATE UNIQUE INDEX bench_base_k ON bench_base (k)"))
        base = int(session.execute(text("SELECT count(*) FROM bench_base")).scalar_one())
        current = select(func.count()).select_from(table).where(table.c._valid_to.is_(None))
        have, first = int(session.execute(current).scalar_one()), 1
        while have < rows:  # a generated key that equals a demo record's is skipped: top up
            last = first + rows - have - 1
            insert = _synthetic(postgres, superseded=False).format(table=name)
            session.execute(text(insert), {"first": first, "last": last, "base": base})
            have, first = int(session.execute(current).scalar_one()), last + 1
        superseded = int((rows - base) * SUPERSEDED_SHARE)
        if superseded:
            insert = _synthetic(postgres, superseded=True).format(table=name)
            session.execute(text(insert), {"first": 1, "last": superseded, "base": base})
        session.execute(text("DROP TABLE bench_base"))
        total = int(session.execute(select(func.count()).select_from(table)).scalar_one())
    # as after a real load once the database has settled: statistics, and on PostgreSQL visibility and
    # hint bits set (else the first reader pays for them, whichever phase that is)
    if postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {name}")
            size = int(connection.exec_driver_sql(f"SELECT pg_total_relation_size('{name}')").scalar_one())
        db.dispose()
    else:
        import sqlite3

        db.dispose()
        con = sqlite3.connect(str(db.url.database), isolation_level=None)
        con.execute(f"ANALYZE {name}")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        size = Path(str(db.url.database)).stat().st_size
    seconds = time.perf_counter() - started
    return {
        "code": dataset.code,
        "table": name,
        "fields": dataset.fields,
        "withheld": [w.name for w in dataset.withheld],
        "current": have,
        "total": total,
        "seconds": seconds,
        "size_mb": size / 1e6,
    }


# --- ours ---------------------------------------------------------------------------------------------------


def _writer_probe(db: Any, after: float, result: dict[str, Any]) -> threading.Thread:
    """SQLite: another connection that begins a write `after` seconds into the request (as any other
    request that writes would) and records how long it waited for the lock."""
    import sqlite3

    def probe() -> None:
        time.sleep(after)
        con = sqlite3.connect(str(db.url.database), timeout=3600, isolation_level=None)
        started = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        result["writer_waited"] = time.perf_counter() - started
        result["writer_began_at"] = time.perf_counter()
        con.execute("ROLLBACK")
        con.close()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    return thread


def phase_ours(fmt: str, probe_after: float) -> dict[str, Any]:
    from govshare.auth.actor import Actor
    from govshare.opendata import downloads

    spent = {"generate": 0.0, "read": 0.0}
    generate, frames = downloads._generate, downloads._frames

    def timed_generate(*args: Any) -> None:
        started = time.perf_counter()
        generate(*args)
        spent["generate"] += time.perf_counter() - started

    def timed_frames(*args: Any) -> Iterator[Any]:
        produced = frames(*args)
        while True:
            started = time.perf_counter()
            frame = next(produced, None)
            spent["read"] += time.perf_counter() - started
            if frame is None:
                return
            yield frame

    setattr(downloads, "_generate", timed_generate)  # noqa: B010
    setattr(downloads, "_frames", timed_frames)  # noqa: B010
    db = _database()
    result: dict[str, Any] = {}
    probe = _writer_probe(db, probe_after, result) if db.is_sqlite else None
    started = time.perf_counter()
    with db.transaction() as session:  # a write transaction, as the route's (web/deps.DB_SESSION)
        dataset, path = downloads.download(session, Actor.anonymous(), dataset_code(), fmt)
    ended = time.perf_counter()
    seconds = ended - started
    if probe is not None:
        probe.join()
        result["writer_until_end"] = ended - result.pop("writer_began_at")
    if spent["generate"] == 0.0:
        raise SystemExit(f"the {fmt} file was already there: not generated in this phase")
    started = time.perf_counter()
    with db.transaction() as session:
        downloads.download(session, Actor.anonymous(), dataset_code(), fmt)
    hit = time.perf_counter() - started
    db.dispose()
    return {
        **result,
        "seconds": seconds,
        "generate": spent["generate"],
        "read": spent["read"],
        "hit": hit,
        "rows": dataset.record_count,
        "path": str(path),
        "size_mb": path.stat().st_size / 1e6,
    }


def phase_hit(fmt: str) -> dict[str, Any]:
    """The same request in a fresh process, the file already cached (the record count is counted again)."""
    from govshare.auth.actor import Actor
    from govshare.opendata import downloads

    db = _database()
    generated: list[None] = []
    generate = downloads._generate
    setattr(downloads, "_generate", lambda *a: generated.append(generate(*a)))  # noqa: B010
    started = time.perf_counter()
    with db.transaction() as session:
        dataset, _path = downloads.download(session, Actor.anonymous(), dataset_code(), fmt)
    seconds = time.perf_counter() - started
    db.dispose()
    return {"seconds": seconds, "rows": dataset.record_count, "generated": bool(generated)}


def phase_select() -> dict[str, Any]:
    """The SELECT ours runs, streamed in chunks of `CHUNK_ROWS`, rows fetched as tuples and dropped."""
    from govshare.opendata import downloads, service

    db = _database()
    with db.transaction(readonly=True) as session:
        dataset = _dataset(session)
        statement = _statement(dataset, service.record_table(session, dataset)).execution_options(
            stream_results=True, yield_per=downloads.CHUNK_ROWS
        )
        started = time.perf_counter()
        rows = 0
        for partition in session.execute(statement).partitions(downloads.CHUNK_ROWS):
            rows += len([tuple(row) for row in partition])
        seconds = time.perf_counter() - started
    db.dispose()
    return {"seconds": seconds, "rows": rows}


# --- the baseline -------------------------------------------------------------------------------------------


def phase_baseline(fmt: str, out: Path) -> dict[str, Any]:
    """The straightforward way: the same SELECT, csv.writer row by row / json.dump of a list of dicts."""
    import csv

    from govshare.opendata import service

    db = _database()
    with db.transaction(readonly=True) as session:
        dataset = _dataset(session)
        table = service.record_table(session, dataset)
        assert table is not None  # grown by phase_grow
        statement = _statement(dataset, table)
        names = [f for f in dataset.fields if f in table.c]
        started = time.perf_counter()
        rows = 0
        if fmt == "csv":
            with out.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(names)
                for row in session.execute(statement):
                    writer.writerow(row)
                    rows += 1
        else:
            records = [dict(row._mapping) for row in session.execute(statement)]
            rows = len(records)
            with out.open("w", encoding="utf-8") as handle:
                json.dump(records, handle, ensure_ascii=False, default=str)
        seconds = time.perf_counter() - started
    db.dispose()
    return {"seconds": seconds, "rows": rows, "path": str(out), "size_mb": out.stat().st_size / 1e6}


# --- verification -------------------------------------------------------------------------------------------


def phase_verify(paths: dict[str, str], rows: int, sample: int) -> dict[str, Any]:
    """Same rows in ours and the baseline: count, first-column values on a sample, and cell by cell."""
    import random
    import re
    import zipfile

    import polars as pl
    from openpyxl import load_workbook

    def read(fmt: str, path: str) -> pl.DataFrame:
        if fmt == "csv":
            return pl.read_csv(path, infer_schema=False, encoding="utf8")
        frame = pl.read_json(path, infer_schema_length=None)
        return frame.select(pl.all().cast(pl.String))

    out: dict[str, Any] = {}
    problems: list[str] = []
    reference: pl.DataFrame | None = None
    for fmt in ("csv", "json"):
        ours, base = read(fmt, paths[f"ours-{fmt}"]), read(fmt, paths[f"baseline-{fmt}"])
        ours = ours.rename({ours.columns[0]: ours.columns[0].lstrip("\ufeff")})
        base = base.rename({base.columns[0]: base.columns[0].lstrip("\ufeff")})
        first = base.columns[0]
        ours_keys, base_keys = ours.get_column(ours.columns[0]), base.get_column(first)
        picked = random.Random(2026).sample(range(base.height), min(sample, base.height))
        sample_keys = {base_keys[i] for i in picked}
        ours_set = set(ours_keys.to_list())
        checks = {
            "rows": (ours.height, base.height),
            "columns_equal": ours.columns == base.columns,
            "sample_in_ours": len(sample_keys & ours_set),
            "sample": len(sample_keys),
            "first_column_sets_equal": ours_set == set(base_keys.to_list()),
            "cells_identical": ours.columns == base.columns and ours.equals(base),
        }
        if not checks["cells_identical"] and ours.columns == base.columns and ours.height == base.height:
            differing = {
                c: int((ours[c].fill_null("∅") != base[c].fill_null("∅")).sum()) for c in ours.columns
            }
            checks["differing_cells"] = {c: n for c, n in differing.items() if n}
        if ours.height != rows or base.height != rows or checks["sample_in_ours"] != checks["sample"]:
            problems.append(f"{fmt}: {checks}")
        if not checks["first_column_sets_equal"]:
            problems.append(f"{fmt}: the first columns hold different values")
        out[fmt] = checks
        if fmt == "csv":
            reference = base
    if "ours-xlsx" in paths and reference is not None:
        with zipfile.ZipFile(paths["ours-xlsx"]) as archive:
            sheet = next(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
            counted, tail = 0, b""
            with archive.open(sheet) as stream:
                # the last 4 bytes carried over: a 5-byte "<row " cut by a chunk's end is counted once
                while chunk := stream.read(1 << 22):
                    counted += len(re.findall(rb"<row[ >]", tail + chunk))
                    tail = chunk[-4:]
        book = load_workbook(paths["ours-xlsx"], read_only=True)
        head = [
            row[0]
            for row in book.active.iter_rows(min_row=3, max_row=min(sample, 1000) + 2, values_only=True)
        ]
        book.close()
        expected = reference.get_column(reference.columns[0]).head(len(head)).to_list()
        checks = {"rows": (counted - 2, rows), "head_equal": head == expected, "head": len(head)}
        if counted - 2 != rows or head != expected:
            problems.append(f"xlsx: {checks}")
        out["xlsx"] = checks
    out["problems"] = problems
    return out


# --- the parent ---------------------------------------------------------------------------------------------


def dataset_code() -> str:
    return os.environ["BENCH_CODE"]


def node_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "GOVSHARE_DATA_DIR": str(data_dir),
        "GOVSHARE_ENV": "development",
        "GOVSHARE_LOG_LEVEL": "WARNING",
    }
    env.pop("GOVSHARE_DATABASE_URL", None)
    if database_url:
        env["GOVSHARE_DATABASE_URL"] = database_url
    return env


def run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[:2]} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def in_phase(args: argparse.Namespace) -> None:
    phase, fmt = args.phase, args.format
    if phase == "grow":
        result = phase_grow(args.rows)
    elif phase == "ours":
        result = phase_ours(fmt, args.probe_after)
    elif phase == "hit":
        result = phase_hit(fmt)
    elif phase == "select":
        result = phase_select()
    elif phase == "baseline":
        result = phase_baseline(fmt, Path(args.out))
    elif phase == "verify":
        result = phase_verify(json.loads(args.paths), args.rows, args.sample)
    else:
        raise SystemExit(f"unknown phase {phase}")
    result["peak_mb"] = round(peak_mb())
    print(json.dumps(result, ensure_ascii=False, default=str))


def bench(backend: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    data_dir = tmp / backend
    data_dir.mkdir()
    database_url, pg_name = None, None
    if backend == "postgresql":
        import psycopg

        pg_name = f"govshare_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg_url, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {pg_name}")
        base = args.pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        database_url = f"{base}/{pg_name}"
    env = node_env(data_dir, database_url)
    results: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        seeded = subprocess.run(  # noqa: S603
            [str(BIN / "govshare"), "demo", "--json"], capture_output=True, text=True, check=False, env=env
        )
        if seeded.returncode != 0:
            raise SystemExit(f"govshare demo failed:\n{seeded.stderr[-4000:]}")
        results["seed_seconds"] = time.perf_counter() - started
        grown = run_child(["--phase", "grow", "--rows", str(args.rows)], env)
        results["grow"] = grown
        print(
            f"{backend}: demo seeded in {results['seed_seconds']:.0f} s; {grown['code']} {DATASET_NAME} "
            f"({grown['table']}) grown to {grown['current']:,} current records ({grown['total']:,} rows, "
            f"{grown['size_mb']:.0f} MB) in {grown['seconds']:.0f} s; "
            f"{len(grown['fields'])} opened columns, withheld: {', '.join(grown['withheld']) or '-'}",
            flush=True,
        )
        env["BENCH_CODE"] = grown["code"]
        formats = ["csv", "json"] + (["xlsx"] if grown["current"] <= XLSX_MAX_ROWS else [])
        phases: list[tuple[str, list[str]]] = []
        for fmt in formats:
            phases.append((f"ours-{fmt}", ["--phase", "ours", "--format", fmt]))
            if fmt != "xlsx":
                out = data_dir / f"baseline.{fmt}"
                phases.append(
                    (f"baseline-{fmt}", ["--phase", "baseline", "--format", fmt, "--out", str(out)])
                )
        phases += [("hit-csv", ["--phase", "hit", "--format", "csv"]), ("select", ["--phase", "select"])]
        for label, child in phases:
            result = run_child([*child, "--probe-after", str(args.probe_after)], env)
            results[label] = result
            extra = f"  {result['size_mb']:7.1f} MB file" if "size_mb" in result else ""
            if "generate" in result:
                extra += (
                    f"  (generate {result['generate']:.2f} s, of which reading {result['read']:.2f} s; "
                    f"second request {result['hit'] * 1000:.1f} ms)"
                )
            if "writer_waited" in result:
                extra += f"  [a writer from 1 s in waited {result['writer_waited']:.2f} s]"
            rate = "" if label.startswith("hit") else f"{result['rows'] / result['seconds']:>12,.0f} rows/s"
            print(
                f"  {label:14s} {result['seconds']:8.2f} s  {rate:>19s}"
                f"  peak {result['peak_mb']:>5} MB{extra}",
                flush=True,
            )
        paths = {label: r["path"] for label, r in results.items() if isinstance(r, dict) and "path" in r}
        verify = ["--phase", "verify", "--paths", json.dumps(paths), "--rows", str(grown["current"])]
        verified = run_child([*verify, "--sample", str(args.sample)], env)
        results["verify"] = verified
        for fmt in ("csv", "json", "xlsx"):
            if fmt in verified:
                print(f"  verify {fmt}: {verified[fmt]}", flush=True)
        if verified["problems"]:
            raise SystemExit(f"{backend}: ours and the baseline differ: {verified['problems']}")
    finally:
        if pg_name is not None:
            import psycopg

            with psycopg.connect(args.pg_url, autocommit=True) as con:
                con.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="current records of the open dataset")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="an admin URL; a throwaway database is made")
    parser.add_argument("--sample", type=int, default=10_000, help="first-column values compared")
    parser.add_argument(
        "--probe-after", type=float, default=1.0, help="SQLite: when the probing writer starts"
    )
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--format", default="csv", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--paths", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        in_phase(args)
        return
    all_results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="gs-open-download-") as tmp:
        for backend in args.backends.split(","):
            all_results[backend] = bench(backend, args, Path(tmp))
    print()
    for backend, results in all_results.items():
        for fmt in ("csv", "json"):
            ours, base = results[f"ours-{fmt}"], results[f"baseline-{fmt}"]
            print(
                f"{backend} {fmt}: ours/baseline = {ours['generate'] / base['seconds']:.2f}x generation, "
                f"{ours['seconds'] / base['seconds']:.2f}x whole request; peak {ours['peak_mb']} MB vs "
                f"{base['peak_mb']} MB = {ours['peak_mb'] / base['peak_mb']:.2f}x"
            )
        if "ours-xlsx" in results:
            print(f"{backend} xlsx: {results['ours-xlsx']['generate']:.2f} s generation (no baseline)")
        select_s = results["select"]["seconds"]
        print(
            f"{backend}: the SELECT alone (streamed, through SQLAlchemy) {select_s:.2f} s; cache hit "
            f"{results['ours-csv']['hit'] * 1000:.1f} ms in the same process, "
            f"{results['hit-csv']['seconds'] * 1000:.0f} ms in a fresh one (counts the records again)"
        )


if __name__ == "__main__":
    main()
