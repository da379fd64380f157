"""Generate a large 人口基本信息 source file (govshare.demo.sources) and time it.

Writes OUT as CSV in the chosen encoding and prints the rows, the file size, the seconds spent generating
and writing, and how many rows carry each injected fault. Not a test: nothing here asserts on time.

    .venv/bin/python benchmarks/make_population.py OUT.csv --rows 2000000 [--encoding utf-8|gbk|gb18030]
        [--seed N] [--sex-coding gb|ga|text] [--clean]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from govshare.demo import sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--encoding", choices=sources.CSV_ENCODINGS, default="utf-8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sex-coding", choices=sorted(sources.SEX_CODINGS), default="gb")
    parser.add_argument("--clean", action="store_true", help="no injected faults")
    args = parser.parse_args()

    started = time.perf_counter()
    frame = sources.population_frame(
        args.rows, seed=args.seed, faults=not args.clean, sex_coding=args.sex_coding, label_faults=True
    )
    generated = time.perf_counter()
    size = sources.write_csv(frame, args.out, encoding=args.encoding)
    written = time.perf_counter()

    rare = frame.get_column("姓名").str.contains("[" + "".join(sources.RARE_NAME_CHARACTERS) + "]").sum()
    print(f"rows      {frame.height:>14,}")
    print(f"bytes     {size:>14,}  ({args.encoding}, {args.out})")
    print(f"generate  {generated - started:>14.2f} s")
    print(f"write     {written - generated:>14.2f} s")
    print(f"total     {written - started:>14.2f} s")
    print(f"rare-character names {rare:,}" + ("  (written as ? in GBK)" if args.encoding == "gbk" else ""))
    print("faults (rows):")
    counts = sources.fault_counts(frame)
    for name, count in counts.items():
        rate = sources.POPULATION_FAULT_RATES[name]
        print(f"  {name:<18} {count:>10,}  (drawn at {rate:.2%})")
    print(f"  {'total':<18} {sum(counts.values()):>10,}")
    clean = frame.get_column(sources.FAULT_COLUMN).null_count()
    print(f"clean rows {clean:,} ({clean / max(frame.height, 1):.1%})")


if __name__ == "__main__":
    pl.Config.set_tbl_hide_dataframe_shape(True)
    main()
