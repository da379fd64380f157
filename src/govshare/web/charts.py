"""Server-side SVG charts for the portal: small, dependency-free, accessible.

Each function returns a `<figure>` (as `Markup`, a `str`) holding an inline `<svg role="img">` with its
`<title>` and `<desc>`, and after it a `<details>` table with the same numbers, so a screen-reader user
or a browser without SVG reads them. Every text value passes through `escape`; the markup uses
presentation attributes only (the Content-Security-Policy forbids `style=` and scripts). Colours keep a
contrast of at least 3:1 against white for the marks and 4.5:1 for the text (WCAG AA). The drawing scales
with its container (`viewBox`, `width="100%"`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import count

from markupsafe import Markup, escape

WIDTH = 640
MIX_WIDTH = 400  # the 100% bar: narrower, so its legend reads larger on a phone
TEXT = "#1f2328"  # 15.8:1 on white
MUTED = "#57606a"  # 6.4:1 on white
GRID = "#d0d7de"
# Marks: each at least 4.5:1 on white, so a label drawn in the colour is readable too.
PALETTE = ("#0b5cad", "#1a7f37", "#9a6700", "#b3261e", "#6f42c1", "#0a6b72", "#8c4b00", "#5a6270")
SHARE_COLOURS = {"无条件共享": "#1a7f37", "有条件共享": "#9a6700", "不予共享": "#b3261e"}
# Series whose meaning has a colour: refusals and rejections in red, loaded rows in green.
NAMED_COLOURS = {
    **SHARE_COLOURS,
    "入库": "#1a7f37",
    "拒收（隔离）": "#b3261e",
    "拒收率": "#b3261e",
    "拒绝次数": "#b3261e",
}
EMPTY = "暂无数据"
FONT = "'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif"

_ids = count(1)

Number = float | int


def format_number(value: Number) -> str:
    """A count for people: 9876, 1.2万, 3.45亿 (the units Chinese readers use for large numbers)."""
    value = float(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for size, unit in ((1e8, "亿"), (1e4, "万")):
        if value >= size:
            text = f"{value / size:.2f}".rstrip("0").rstrip(".")
            return f"{sign}{text}{unit}"
    if value == int(value):
        return f"{sign}{int(value)}"
    return f"{sign}{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(maximum: Number, parts: int = 4) -> list[float]:
    """Round axis ticks from 0 to at least `maximum`: 0, 5, 10, 15, 20 or 0, 2万, 4万 …"""
    maximum = float(maximum)
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw = maximum / parts
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if maximum <= parts and step < 1:
        step = 1.0
    top = step * math.ceil(maximum / step - 1e-9)
    return [step * i for i in range(round(top / step) + 1)]


def truncate(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: max(1, limit - 1)] + "…"


def _clean(values: Sequence[Number]) -> list[float]:
    return [float(v) if math.isfinite(float(v)) and v > 0 else 0.0 for v in values]


def _n(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 15,
    fill: str = TEXT,
    full: str | None = None,
) -> str:
    """A <text>; when the content is shortened, its <title> carries the full text (a tooltip)."""
    title = f"<title>{escape(full)}</title>" if full is not None and full != content else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
        f"{title}{escape(content)}</text>"
    )


def _svg(title: str, desc: str, height: float, body: list[str], *, width: int = WIDTH, kind: str = "") -> str:
    ident = next(_ids)
    return (
        f'<svg class="chart{" chart-" + kind if kind else ""}" role="img" width="100%" '
        f'viewBox="0 0 {width} {_n(height)}" font-family="{escape(FONT)}" '
        f'aria-labelledby="chart-t{ident} chart-d{ident}">'
        f'<title id="chart-t{ident}">{escape(title)}</title><desc id="chart-d{ident}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(row[0])}</th>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
        + "</tr>"
        for row in rows
    )
    return (
        f'<details class="chart-data"><summary>查看数据表：{escape(caption)}</summary>'
        f'<table class="grid"><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></details>"
    )


def _figure(svg: str, table: str) -> Markup:
    # Every value in `svg` and `table` went through `escape`; only our own markup is trusted here.
    return Markup(f'<figure class="chart-figure">{svg}{table}</figure>')  # noqa: S704


def _empty(title: str) -> Markup:
    svg = _svg(
        title, f"{title}：{EMPTY}", 80, [_text(WIDTH / 2, 46, EMPTY, anchor="middle", size=16, fill=MUTED)]
    )
    empty = (
        f'<figure class="chart-figure chart-empty">{svg}<p class="meta">{escape(title)}：{EMPTY}</p></figure>'
    )
    return Markup(empty)  # noqa: S704 (the title is escaped)


def _legend(names: Sequence[str], colours: Sequence[str], y: float) -> list[str]:
    parts: list[str] = []
    x = 0.0
    for name, colour in zip(names, colours, strict=True):
        shown = truncate(name, 10)
        parts.append(f'<rect x="{_n(x)}" y="{_n(y - 12)}" width="14" height="14" fill="{colour}"/>')
        parts.append(_text(x + 19, y, shown, full=name))
        x += 19 + 16 * len(shown) + 18
    return parts


def _colours(names: Sequence[str]) -> list[str]:
    return [NAMED_COLOURS.get(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)]


def bar_chart(
    title: str,
    items: Sequence[tuple[str, Number]],
    *,
    desc: str = "",
    label_header: str = "项目",
    value_header: str = "数量",
    colour: str = PALETTE[0],
    label_chars: int = 8,
) -> Markup:
    """Horizontal bars, one per item (long Chinese labels fit at the left), the value at each bar's end."""
    if not items or not any(_clean([v for _, v in items])):
        return _empty(title)
    labels = [str(label) for label, _ in items]
    values = _clean([v for _, v in items])
    ticks = nice_ticks(max(values))
    left, right, row, top = 150.0, 70.0, 32.0, 8.0
    plot = WIDTH - left - right
    height = top + row * len(items) + 26
    body: list[str] = []
    for tick in ticks:
        x = left + plot * tick / ticks[-1]
        body.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(height - 22)}" stroke="{GRID}"/>'
        )
        body.append(_text(x, height - 6, format_number(tick), anchor="middle", size=13, fill=MUTED))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row * i
        width = plot * value / ticks[-1]
        body.append(
            f'<rect class="bar" x="{_n(left)}" y="{_n(y + 5)}" width="{width:.3f}" height="{_n(row - 10)}" '
            f'fill="{colour}" data-value="{_n(value)}">'
            f"<title>{escape(label)}：{escape(format_number(value))}</title></rect>"
        )
        body.append(_text(left - 8, y + row / 2 + 5, truncate(label, label_chars), anchor="end", full=label))
        body.append(_text(left + width + 6, y + row / 2 + 5, format_number(value), size=14))
    summary = "；".join(f"{label} {format_number(v)}" for label, v in zip(labels, values, strict=True))
    svg = _svg(title, desc or f"{title}：{summary}", height, body)
    rows = [(label, str(int(v)) if v == int(v) else str(v)) for label, v in zip(labels, values, strict=True)]
    return _figure(svg, _table(title, [label_header, value_header], rows))


def stacked_bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    *,
    desc: str = "",
    category_header: str = "项目",
    label_chars: int = 8,
) -> Markup:
    """Horizontal stacked bars: one bar per category, one segment per series, a legend above."""
    names = [name for name, _ in series]
    matrix = [_clean(values) for _, values in series]
    if not categories or not series or any(len(v) != len(categories) for v in matrix):
        return _empty(title)
    totals = [sum(column) for column in zip(*matrix, strict=True)]
    if not any(totals):
        return _empty(title)
    colours = _colours(names)
    ticks = nice_ticks(max(totals))
    left, right, row, top = 150.0, 70.0, 32.0, 34.0
    plot = WIDTH - left - right
    height = top + row * len(categories) + 26
    body = _legend(names, colours, 16)
    for tick in ticks:
        x = left + plot * tick / ticks[-1]
        body.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(height - 22)}" stroke="{GRID}"/>'
        )
        body.append(_text(x, height - 6, format_number(tick), anchor="middle", size=13, fill=MUTED))
    for i, category in enumerate(categories):
        y = top + row * i
        x = left
        for name, values, colour in zip(names, matrix, colours, strict=True):
            width = plot * values[i] / ticks[-1]
            if width > 0:
                body.append(
                    f'<rect class="bar" x="{x:.3f}" y="{_n(y + 5)}" width="{width:.3f}" '
                    f'height="{_n(row - 10)}" fill="{colour}" data-value="{_n(values[i])}">'
                    f"<title>{escape(category)} · {escape(name)}："
                    f"{escape(format_number(values[i]))}</title></rect>"
                )
            x += width
        body.append(
            _text(left - 8, y + row / 2 + 5, truncate(category, label_chars), anchor="end", full=category)
        )
        body.append(_text(x + 6, y + row / 2 + 5, format_number(totals[i]), size=14))
    summary = "；".join(
        f"{c}：" + "、".join(f"{n} {format_number(m[i])}" for n, m in zip(names, matrix, strict=True))
        for i, c in enumerate(categories)
    )
    svg = _svg(title, desc or f"{title}。{summary}", height, body)
    rows = [[c, *(_plain(m[i]) for m in matrix), _plain(totals[i])] for i, c in enumerate(categories)]
    return _figure(svg, _table(title, [category_header, *names, "合计"], rows))


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    *,
    desc: str = "",
    area: bool = False,
    label_header: str = "日期",
) -> Markup:
    """Lines (or a filled area, for one series) over time: `labels` are the periods, left to right."""
    names = [name for name, _ in series]
    matrix = [_clean(values) for _, values in series]
    if not labels or not series or any(len(v) != len(labels) for v in matrix):
        return _empty(title)
    if not any(any(v) for v in matrix):
        return _empty(title)
    colours = _colours(names)
    ticks = nice_ticks(max(max(v) for v in matrix))
    left, right, top, bottom = 64.0, 16.0, 34.0, 36.0
    height = 260.0
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    base = top + plot_h
    n = len(labels)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y_of(v: float) -> float:
        return base - plot_h * v / ticks[-1]

    body = _legend(names, colours, 16)
    for tick in ticks:
        y = y_of(tick)
        body.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(WIDTH - right)}" y2="{_n(y)}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y + 4, format_number(tick), anchor="end", size=13, fill=MUTED))
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                _text(
                    x_of(i),
                    height - 12,
                    truncate(label, 10),
                    anchor="middle",
                    size=13,
                    fill=MUTED,
                    full=label,
                )
            )
    for name, values, colour in zip(names, matrix, colours, strict=True):
        points = " ".join(f"{_n(x_of(i))},{_n(y_of(v))}" for i, v in enumerate(values))
        if area and len(names) == 1 and n > 1:
            body.append(
                f'<polygon points="{_n(x_of(0))},{_n(base)} {points} {_n(x_of(n - 1))},{_n(base)}" '
                f'fill="{colour}" fill-opacity="0.18"/>'
            )
        if n > 1:
            body.append(
                f'<polyline class="line" points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for i, v in enumerate(values):
            body.append(
                f'<circle cx="{_n(x_of(i))}" cy="{_n(y_of(v))}" r="{4 if n <= 31 else 2}" fill="{colour}">'
                f"<title>{escape(labels[i])} · {escape(name)}：{escape(format_number(v))}</title></circle>"
            )
    last = "；".join(
        f"{name} 最近 {format_number(m[-1])}，最高 {format_number(max(m))}"
        for name, m in zip(names, matrix, strict=True)
    )
    svg = _svg(title, desc or f"{title}，{labels[0]} 至 {labels[-1]}：{last}", height, body)
    rows = [[label, *(_plain(m[i]) for m in matrix)] for i, label in enumerate(labels)]
    return _figure(svg, _table(title, [label_header, *names], rows))


def mix_bar(
    title: str, parts: Sequence[tuple[str, Number]], *, desc: str = "", part_header: str = "类别"
) -> Markup:
    """A 100% bar for a mix (e.g. 无条件/有条件/不予): segment widths are the shares, a legend with counts
    and percentages below."""
    names = [str(name) for name, _ in parts]
    values = _clean([v for _, v in parts])
    total = sum(values)
    if not parts or total <= 0:
        return _empty(title)
    colours = _colours(names)
    height = 32.0 + 28 * len(parts) + 8
    body: list[str] = []
    x = 0.0
    for name, value, colour in zip(names, values, colours, strict=True):
        width = MIX_WIDTH * value / total
        if width > 0:
            body.append(
                f'<rect class="bar" x="{x:.3f}" y="0" width="{width:.3f}" height="22" fill="{colour}" '
                f'data-value="{_n(value)}"><title>{escape(name)}：{escape(format_number(value))}</title></rect>'
            )
        x += width
    for i, (name, value, colour) in enumerate(zip(names, values, colours, strict=True)):
        y = 32 + 28 * i + 15
        body.append(f'<rect x="0" y="{_n(y - 11)}" width="12" height="12" fill="{colour}"/>')
        share = f"{value / total:.0%}"
        body.append(_text(18, y, f"{truncate(name, 16)}  {format_number(value)}（{share}）", full=name))
    summary = "；".join(
        f"{n} {format_number(v)}（{v / total:.0%}）" for n, v in zip(names, values, strict=True)
    )
    svg = _svg(
        title,
        desc or f"{title}，共 {format_number(total)}：{summary}",
        height,
        body,
        width=MIX_WIDTH,
        kind="mix",
    )
    rows = [[n, _plain(v), f"{v / total:.1%}"] for n, v in zip(names, values, strict=True)]
    return _figure(svg, _table(title, [part_header, "数量", "占比"], rows))


# --- the portal's charts, shared by the home page and the department dashboard --------------------------


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ("YYYY-MM"), so a month without publications shows as 0."""
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months: list[str] = []
    while (year, month) <= end and len(months) < 1200:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def catalog_growth_chart(
    monthly: Sequence[tuple[str, int]], *, title: str = "目录增长（按首次发布月份）"
) -> Markup:
    """Resources published per month and the cumulative total, every month in between included."""
    if not monthly:
        return _empty(title)
    counts = dict(monthly)
    months = month_range(min(counts), max(counts))
    per_month = [counts.get(m, 0) for m in months]
    cumulative: list[int] = []
    for n in per_month:
        cumulative.append((cumulative[-1] if cumulative else 0) + n)
    return line_chart(
        title, months, [("累计发布", cumulative), ("当月新发布", per_month)], label_header="月份"
    )


def share_mix_chart(
    unconditional: int, conditional: int, not_shared: int, *, title: str = "共享类型构成"
) -> Markup:
    return mix_bar(
        title,
        [("无条件共享", unconditional), ("有条件共享", conditional), ("不予共享", not_shared)],
        part_header="共享类型",
    )
