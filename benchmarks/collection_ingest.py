"""Full ingest of a large population file against the floor, on SQLite and PostgreSQL.

Generates (once) a 人口基本信息 file with realistic faults (govshare.demo.sources: bad check digits, 15-digit
numbers, full-width digits, dates in six forms, blank rows, duplicate keys, unknown codes …), then, each
phase in its own process so that its peak memory (ru_maxrss) is its own:

- floor-scan:      a plain DuckDB scan of the file (every column read as text, materialized to Arrow);
- floor-<backend>: the same scan plus a plain bulk load of the same rows, no transforms, into an empty
                   table, then a key index (PostgreSQL: COPY, then the index; SQLite: executemany, then
                   the index). The file has duplicate keys (that is the point of `superseded`), so the
                   floor's key index is not unique;
- ours-<backend>:  `govshare ingest` of the file with the demo mapping into a fresh node: standardize
                   (公安 sex 0/1 → GB/T 2261.1), validate every item (IDs, dates, six code sets), quarantine,
                   deduplicate by key and cursor, and the keyed, versioned store;
- stdnum:          python-stdnum's cn.ric.validate row by row on a sample of the same IDs, extrapolated.

Prints the seconds, rows/s and peak memory of each phase and the ratios ours/floor and stdnum/ours. Not a
test: nothing here asserts on time.

    .venv/bin/python benchmarks/collection_ingest.py [--rows 2000000] [--backends sqlite,postgresql]
        [--file PATH] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
MAPPING = ROOT / "src" / "govshare" / "demo" / "mappings" / "ga_rkjbxx.yaml"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _columns(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return handle.readline().rstrip("\n").split(",")


def _scan(path: Path) -> tuple[Any, int]:
    """The floor's read: DuckDB, every column as text, into Arrow batches (kept for the load)."""
    import duckdb

    columns = _columns(path)
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
    con = duckdb.connect()
    relation = con.sql(
        f"SELECT * FROM read_csv('{path}', header=true, auto_detect=false, columns={{{spec}}}, "
        "ignore_errors=true)"
    )
    table = relation.to_arrow_table()
    return table, table.num_rows


def phase_floor_scan(path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    _table, rows = _scan(path)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def phase_floor_sqlite(path: Path, work: Path) -> dict[str, Any]:
    import sqlite3

    import polars as pl

    started = time.perf_counter()
    table, rows = _scan(path)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    con = sqlite3.connect(work / "floor.db")
    con.execute("PRAGMA journal_mode=WAL")
    columns = ", ".join(f'"{c}" TEXT' for c in frame.columns)
    con.execute(f"CREATE TABLE people ({columns})")
    marks = ", ".join("?" for _ in frame.columns)
    con.executemany(f"INSERT INTO people VALUES ({marks})", frame.iter_rows())
    con.execute(f'CREATE INDEX people_key ON people ("{frame.columns[0]}")')
    con.commit()
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def phase_floor_postgresql(path: Path, pg_url: str) -> dict[str, Any]:
    import io

    import polars as pl
    import psycopg

    started = time.perf_counter()
    table, rows = _scan(path)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    name = f"floor_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as con:
        columns = ", ".join(f'"{c}" text' for c in frame.columns)
        con.execute(f"CREATE TABLE {name} ({columns})")
        try:
            with con.cursor() as cursor, cursor.copy(f"COPY {name} FROM STDIN (FORMAT csv)") as copy:
                for start in range(0, frame.height, 200_000):
                    buffer = io.BytesIO()
                    frame.slice(start, 200_000).write_csv(buffer, include_header=False)
                    copy.write(buffer.getvalue())
            con.execute(f'CREATE INDEX {name}_key ON {name} ("{frame.columns[0]}")')
            seconds = time.perf_counter() - started
        finally:
            con.execute(f"DROP TABLE {name}")
    return {"seconds": seconds, "rows": rows}


def _node(work: Path, database_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "GOVSHARE_DATA_DIR": str(work),
        "GOVSHARE_ENV": "development",
        "GOVSHARE_LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["GOVSHARE_DATABASE_URL"] = database_url
    return env


def phase_ours(path: Path, work: Path, database_url: str | None) -> dict[str, Any]:
    """Set up a node with the demo catalog (not timed), then time the ingest alone."""
    from govshare.auth.actor import Actor
    from govshare.collection import jobs, service
    from govshare.collection.mapping import read_mapping
    from govshare.core import migrations
    from govshare.core.db import Database
    from govshare.demo import service as demo
    from govshare.settings import Settings

    os.environ.update(_node(work, database_url))
    settings = Settings()
    db = Database.from_settings(settings)
    migrations.upgrade(db.engine)
    actor = Actor.system("benchmark")
    with db.transaction() as session:
        demo.seed(session, actor)
    mapping = read_mapping(MAPPING)
    mapping.source.encoding = None  # the demo file is GBK; the benchmark's is UTF-8 (the floor reads it too)
    started = time.perf_counter()
    with db.transaction() as session:
        run = service.start_ingest(session, actor, "人口基本信息", mapping, source_path=str(path))
    batch = jobs.run_started(db, actor, run, path=str(path))
    seconds = time.perf_counter() - started
    with db.transaction(readonly=True) as session:
        out = service.get_batch(session, actor, batch.id)
    db.dispose()
    counts = {k: getattr(out, k) for k in ("read", "inserted", "superseded", "empty", "rejected", "warnings")}
    return {"seconds": seconds, "rows": out.read, "status": out.status, "counts": counts}


def phase_stdnum(path: Path, sample: int) -> dict[str, Any]:
    import polars as pl
    from stdnum.cn import ric

    from govshare.standards import vectorized

    ids = pl.read_csv(path, columns=["公民身份号码"], infer_schema=False).get_column("公民身份号码")
    started = time.perf_counter()
    vectorized.id_number(ids)
    ours = time.perf_counter() - started
    values = ids.head(sample).fill_null("").to_list()
    started = time.perf_counter()
    for value in values:
        # stdnum's own table lookup raises KeyError on some address codes; that is a "no" too
        with contextlib.suppress(KeyError):
            ric.is_valid(value)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds * ids.len() / len(values),
        "rows": ids.len(),
        "sample": len(values),
        "vectorized_seconds": ours,
    }


def run_phase(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--phase", name, "--file", str(args.file), "--work", str(work)]
    command += ["--pg-url", args.pg_url, "--sample", str(args.sample)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def in_phase(args: argparse.Namespace) -> None:
    work = Path(args.work)
    path = Path(args.file)
    phase = args.phase
    if phase == "floor-scan":
        result = phase_floor_scan(path)
    elif phase == "floor-sqlite":
        result = phase_floor_sqlite(path, work)
    elif phase == "floor-postgresql":
        result = phase_floor_postgresql(path, args.pg_url)
    elif phase == "ours-sqlite":
        result = phase_ours(path, work, None)
    elif phase == "ours-postgresql":
        import psycopg

        name = f"gs_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg_url, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        try:
            base = args.pg_url.rsplit("/", 1)[0]
            result = phase_ours(
                path, work, f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://")
            )
        finally:
            with psycopg.connect(args.pg_url, autocommit=True) as con:
                con.execute(f"DROP DATABASE {name} WITH (FORCE)")
    elif phase == "stdnum":
        result = phase_stdnum(path, args.sample)
    else:
        raise SystemExit(f"unknown phase {phase}")
    result["peak_mb"] = round(peak_mb())
    print(json.dumps(result, ensure_ascii=False, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--sample", type=int, default=100_000, help="IDs python-stdnum validates")
    parser.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        in_phase(args)
        return
    if args.file is None:
        args.file = Path(tempfile.gettempdir()) / f"govshare-population-{args.rows}.csv"
    if not args.file.exists():
        # in a child process: Linux carries a process's peak RSS across exec, so a parent that had held
        # the generated rows would inflate every phase's reading
        maker = [sys.executable, str(ROOT / "benchmarks" / "make_population.py"), str(args.file)]
        maker += ["--rows", str(args.rows), "--seed", "2026", "--sex-coding", "ga"]
        subprocess.run(maker, check=True, capture_output=True)  # noqa: S603
        print(f"generated {args.file}")
    print(f"file: {args.file} ({args.file.stat().st_size / 1e6:.0f} MB)")
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="gs-bench-") as tmp:
        phases = ["floor-scan"]
        for backend in args.backends.split(","):
            phases += [f"floor-{backend}", f"ours-{backend}"]
        phases.append("stdnum")
        for name in phases:
            work = Path(tmp) / name
            work.mkdir()
            results[name] = run_phase(name, args, work)
            r = results[name]
            extra = f"  {r['counts']}" if "counts" in r else ""
            print(
                f"{name:18s} {r['seconds']:8.2f} s  {r['rows'] / r['seconds']:>12,.0f} rows/s  "
                f"peak {r['peak_mb']:>6} MB{extra}"
            )
    print()
    stdnum = results["stdnum"]
    print(
        f"ID validation of the same {stdnum['rows']:,} IDs: python-stdnum per row (extrapolated from "
        f"{stdnum['sample']:,}) {stdnum['seconds']:.1f} s, govshare vectorized "
        f"{stdnum['vectorized_seconds']:.2f} s = {stdnum['seconds'] / stdnum['vectorized_seconds']:.0f}x"
    )
    for backend in args.backends.split(","):
        ours, floor = results[f"ours-{backend}"], results[f"floor-{backend}"]
        print(
            f"{backend}: ours/floor = {ours['seconds'] / floor['seconds']:.2f}x; "
            f"python-stdnum per row (extrapolated from {results['stdnum']['sample']:,} IDs) / ours = "
            f"{results['stdnum']['seconds'] / ours['seconds']:.0f}x"
        )


if __name__ == "__main__":
    main()
