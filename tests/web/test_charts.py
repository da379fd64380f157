"""The portal's SVG charts: well-formed, accessible (role, title, desc and a data table with the same
numbers), proportional, escaped, and sensible for empty data, one point, huge values and long labels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from govshare.web import charts

SVG = ""  # inline SVG in HTML needs no xmlns (and a page carries no http:// URL)


def parse(markup: Markup) -> ET.Element:
    assert isinstance(markup, str)
    root = ET.fromstring(str(markup))  # noqa: S314 (our own output): well-formed XML, or this raises
    assert root.tag == "figure"
    return root


def svg_of(root: ET.Element) -> ET.Element:
    svg = root.find(f"{SVG}svg")
    assert svg is not None
    return svg


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in svg_of(root).iter(f"{SVG}rect") if r.get("class") == "bar"]


def table_rows(root: ET.Element) -> list[list[str]]:
    table = root.find("details/table")
    assert table is not None
    return [["".join(cell.itertext()) for cell in row] for row in table.iterfind("tbody/tr")]


def test_bar_chart_is_accessible_proportional_and_has_the_same_numbers_in_its_table() -> None:
    root = parse(charts.bar_chart("各部门发布资源", [("公安局", 10), ("民政局", 25), ("大数据局", 5)]))
    svg = svg_of(root)
    assert svg.get("role") == "img"
    assert svg.get("width") == "100%" and svg.get("viewBox", "").startswith("0 0 640 ")
    assert svg.findtext(f"{SVG}title") == "各部门发布资源"
    assert "公安局 10" in (svg.findtext(f"{SVG}desc") or "")
    labelled = (svg.get("aria-labelledby") or "").split()
    assert [e.get("id") for e in svg if e.tag in (f"{SVG}title", f"{SVG}desc")] == labelled
    widths = [float(b.get("width", "0")) for b in bars(root)]
    assert widths[1] / widths[0] == pytest.approx(2.5, rel=1e-3)
    assert widths[2] / widths[0] == pytest.approx(0.5, rel=1e-3)
    assert table_rows(root) == [["公安局", "10"], ["民政局", "25"], ["大数据局", "5"]]
    assert root.find("details/summary") is not None
    assert root.findall("details/table/thead/tr/th")[0].get("scope") == "col"


def test_no_style_attribute_and_no_script_anywhere() -> None:
    markup = str(
        charts.stacked_bar_chart("x", ["a"], [("无条件共享", [1]), ("不予共享", [2])])
        + charts.line_chart("y", ["1", "2"], [("s", [1, 2])], area=True)
        + charts.mix_bar("z", [("a", 1)])
        + charts.bar_chart("w", [("a", 1)])
    )
    assert "style=" not in markup
    assert "<script" not in markup.lower()
    assert "http://" not in markup and "https://" not in markup


def test_every_text_value_is_escaped() -> None:
    evil = '<script>alert("x")</script>&'
    for markup in (
        charts.bar_chart(evil, [(evil, 3)]),
        charts.stacked_bar_chart(evil, [evil], [(evil, [2])]),
        charts.line_chart(evil, [evil, "b"], [(evil, [1, 2])]),
        charts.mix_bar(evil, [(evil, 1)]),
        charts.bar_chart(evil, []),
    ):
        text = str(markup)
        assert "<script>" not in text
        assert "&lt;script&gt;" in text
        root = parse(markup)  # still well-formed
        # the escaped text reads back as the original
        assert evil in "".join(root.itertext())


def test_empty_data_shows_a_message_not_a_broken_chart() -> None:
    for markup in (
        charts.bar_chart("空", []),
        charts.bar_chart("零", [("a", 0)]),
        charts.stacked_bar_chart("空", [], []),
        charts.line_chart("空", [], []),
        charts.mix_bar("空", [("a", 0), ("b", 0)]),
        charts.catalog_growth_chart([]),
    ):
        root = parse(markup)
        assert svg_of(root).get("role") == "img"
        assert charts.EMPTY in "".join(root.itertext())
        assert not bars(root)


def test_one_point_line_chart_draws_a_marker() -> None:
    root = parse(charts.line_chart("单点", ["2026-05"], [("发布", [3])], area=True))
    svg = svg_of(root)
    circles = list(svg.iter(f"{SVG}circle"))
    assert len(circles) == 1
    assert circles[0].get("cx") == "344"  # the middle of the plot (64 … 624)
    assert table_rows(root) == [["2026-05", "3"]]


def test_line_chart_points_are_proportional() -> None:
    root = parse(charts.line_chart("调用", ["d1", "d2", "d3"], [("调用次数", [0, 50, 100])]))
    polyline = next(svg_of(root).iter(f"{SVG}polyline"))
    ys = [float(p.split(",")[1]) for p in (polyline.get("points") or "").split()]
    base = ys[0]
    assert (base - ys[2]) == pytest.approx(2 * (base - ys[1]))


def test_huge_values_get_wan_and_yi_ticks() -> None:
    assert charts.format_number(9999) == "9999"
    assert charts.format_number(12_000) == "1.2万"
    assert charts.format_number(350_000_000) == "3.5亿"
    assert charts.format_number(100_000_000) == "1亿"
    root = parse(charts.bar_chart("大数", [("甲", 123_456_789), ("乙", 60_000)]))
    ticks = [t.text for t in svg_of(root).iter(f"{SVG}text") if t.get("font-size") == "13"]
    assert ticks == ["0", "5000万", "1亿", "1.5亿"]
    # the table keeps the exact numbers
    assert table_rows(root) == [["甲", "123456789"], ["乙", "60000"]]


def test_nice_ticks_cover_the_maximum() -> None:
    for maximum in (1, 3, 7, 10, 99, 1234, 98765):
        ticks = charts.nice_ticks(maximum)
        assert ticks[0] == 0 and ticks[-1] >= maximum and len(ticks) <= 6


def test_long_chinese_labels_are_truncated_with_the_full_text_in_a_title() -> None:
    long = "测试市人力资源和社会保障局社会保险事业管理中心"
    root = parse(charts.bar_chart("长标签", [(long, 5)], label_chars=8))
    texts = [t for t in svg_of(root).iter(f"{SVG}text") if t.findtext(f"{SVG}title") == long]
    assert len(texts) == 1
    shown = "".join(texts[0].itertext()).replace(long, "")
    assert shown == long[:7] + "…"
    assert table_rows(root) == [[long, "5"]]


def test_stacked_bar_segments_and_totals() -> None:
    root = parse(
        charts.stacked_bar_chart(
            "每日入库与拒收", ["2026-05-01", "2026-05-02"], [("入库", [90, 40]), ("拒收", [10, 0])]
        )
    )
    segments = bars(root)
    assert len(segments) == 3  # a zero segment is not drawn
    widths = [float(s.get("width", "0")) for s in segments]
    assert widths[0] / widths[1] == pytest.approx(9)
    assert widths[2] / widths[0] == pytest.approx(40 / 90)
    assert table_rows(root) == [["2026-05-01", "90", "10", "100"], ["2026-05-02", "40", "0", "40"]]


def test_mix_bar_shares_add_up_and_colours_follow_the_share_type() -> None:
    root = parse(charts.share_mix_chart(6, 3, 1))
    segments = bars(root)
    assert sum(float(s.get("width", "0")) for s in segments) == pytest.approx(charts.MIX_WIDTH)
    assert [s.get("fill") for s in segments] == ["#1a7f37", "#9a6700", "#b3261e"]
    assert table_rows(root) == [
        ["无条件共享", "6", "60.0%"],
        ["有条件共享", "3", "30.0%"],
        ["不予共享", "1", "10.0%"],
    ]


def test_catalog_growth_fills_missing_months_and_accumulates() -> None:
    root = parse(charts.catalog_growth_chart([("2025-11", 2), ("2026-02", 3)]))
    assert table_rows(root) == [
        ["2025-11", "2", "2"],
        ["2025-12", "2", "0"],
        ["2026-01", "2", "0"],
        ["2026-02", "5", "3"],
    ]


def test_colours_meet_aa_contrast_on_white() -> None:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for colour in (*charts.PALETTE, *charts.SHARE_COLOURS.values(), charts.TEXT, charts.MUTED):
        assert (1.05) / (luminance(colour) + 0.05) >= 4.5, colour


def test_chart_ids_are_unique_on_a_page() -> None:
    page = str(charts.bar_chart("a", [("x", 1)])) + str(charts.bar_chart("b", [("y", 2)]))
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)) == 4
