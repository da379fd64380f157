"""Validator throughput: the vectorized (Polars) implementation against the scalar Python loop.

Generates 2,000,000 ID numbers as found in the wild (mostly valid 18-digit numbers, some with a lowercase
x, full-width digits, spaces, 15-digit first-generation numbers and bad check digits), then times
`vectorized.id_number` over the column and `validators.id_number` in a loop over the same values, and
checks that both give the same answers. Also times the date, USCC and mobile validators, and
python-stdnum's cn.ric on a sample, if it is installed. Not a test: nothing here asserts on time.

    .venv/bin/python benchmarks/standards_validators.py [--rows 2000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import polars as pl

from govshare.standards import validators, vectorized

TODAY = date(2026, 6, 1)
FULL = str.maketrans("0123456789xX", "０１２３４５６７８９ｘＸ")


def generate_ids(rows: int, seed: int = 11643) -> list[str]:
    rng = random.Random(seed)
    start = date(1930, 1, 1).toordinal()
    span = date(2020, 12, 31).toordinal() - start
    addresses = [f"{rng.randint(110000, 659999)}" for _ in range(3000)]
    values = []
    for _ in range(rows):
        born = date.fromordinal(start + rng.randrange(span))
        body = f"{rng.choice(addresses)}{born.year}{born.month:02d}{born.day:02d}{rng.randrange(1000):03d}"
        number = body + validators.id_check_digit(body)
        roll = rng.random()
        if roll < 0.02:
            number = number.lower()
        elif roll < 0.03:
            number = number.translate(FULL)
        elif roll < 0.04:
            number = f" {number[:6]} {number[6:14]} {number[14:]} "
        elif roll < 0.05 and born.year < 2000:
            number = body[:6] + body[8:17]
        elif roll < 0.06:
            number = number[:17] + ("0" if number[17] != "0" else "1")
        values.append(number)
    return values


def timed(label: str, func: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    best, median = min(times), statistics.median(times)
    print(f"  {label:<38} best {best:7.3f} s   median {median:7.3f} s")
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print(f"generating {args.rows:,} ID numbers …")
    ids = generate_ids(args.rows)
    series = pl.Series("id", ids, dtype=pl.String)
    vectorized.id_number(series[:10], today=TODAY)  # build the lookup tables once

    print(f"公民身份号码 × {args.rows:,}  (Polars {pl.__version__}, {pl.thread_pool_size()} threads)")
    fast, frame = timed("vectorized (Polars)", lambda: vectorized.id_number(series, today=TODAY), args.runs)
    slow, results = timed(
        "scalar Python loop", lambda: [validators.id_number(v, today=TODAY) for v in ids], 1
    )
    agree = frame.get_column("value").to_list() == [r.value for r in results] and frame.get_column(
        "error"
    ).to_list() == [r.error for r in results]
    rejected = frame.get_column("error").drop_nulls().len()
    print(
        f"  speed-up {slow / fast:.1f}×, {args.rows / fast / 1e6:.2f} M values/s; "
        f"{rejected:,} rejected; agree: {agree}"
    )

    try:
        from stdnum.cn import ric
    except ImportError:
        ric = None
    if ric is not None:
        sample = ids[:20_000]

        def stdnum_loop() -> None:
            for value in sample:
                try:
                    ric.is_valid(value)
                except Exception:  # noqa: S112 - stdnum raises KeyError on some historical codes
                    continue

        stdnum_time, _ = timed(f"python-stdnum cn.ric × {len(sample):,}", stdnum_loop, 1)
        print(f"  python-stdnum extrapolated to {args.rows:,}: {stdnum_time * args.rows / len(sample):.0f} s")

    rng = random.Random(7)
    others: dict[str, tuple[list[str], Callable[..., Any], Callable[..., Any]]] = {
        "日期 (mixed forms)": (
            [
                rng.choice(
                    [
                        "{:%Y-%m-%d}",
                        "{:%Y%m%d}",
                        "{d.year}/{d.month}/{d.day}",
                        "{d.year}年{d.month}月{d.day}日",
                    ]
                )
                .replace("{:", "{d:")
                .format(d=date(1950, 1, 1) + timedelta(days=rng.randrange(30000)))
                for _ in range(args.rows)
            ],
            vectorized.parse_date,
            validators.parse_date,
        ),
        "手机号码": (
            [
                f"{rng.choice(['', '+86 '])}1{rng.randint(3, 9)}{rng.randrange(10**9):09d}"
                for _ in range(args.rows)
            ],
            vectorized.mobile,
            validators.mobile,
        ),
    }
    for name, (values, vector, scalar) in others.items():
        column = pl.Series("v", values, dtype=pl.String)
        print(f"{name} × {args.rows:,}")
        fast, _ = timed("vectorized (Polars)", lambda column=column, vector=vector: vector(column), args.runs)
        part = values[:200_000]
        slow, _ = timed(
            f"scalar loop × {len(part):,}", lambda part=part, scalar=scalar: [scalar(v) for v in part], 1
        )
        print(
            f"  scalar extrapolated to {args.rows:,}: {slow * args.rows / len(part):.1f} s; speed-up "
            f"{slow * args.rows / len(part) / fast:.1f}×"
        )


if __name__ == "__main__":
    main()
