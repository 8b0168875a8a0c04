"""SVG chart builders as pure functions: valid SVG, bars in proportion, labels escaped, no data handled."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from console.charts import WIDTH, Bar, Segment, columns, empty, hbars, stacked

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    assert root.get("viewBox", "").startswith(f"0 0 {WIDTH} ")
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_hbars_are_in_proportion_and_print_their_values():
    root = parse(hbars([Bar("WhatsApp", 57.1), Bar("Voice", 33.3), Bar("none yet", None)], "Containment", 100, "%"))
    drawn = bars(root)
    assert len(drawn) == 2  # no bar for "no data"
    full = WIDTH - max(40, round(len("57.1%") * 13 * 0.72) + 10)
    assert abs(float(drawn[0].get("width")) - 0.571 * full) < 0.2
    assert abs(float(drawn[1].get("width")) - 0.333 * full) < 0.2
    assert texts(root) == ["WhatsApp", "57.1%", "Voice", "33.3%", "none yet", "–"]
    assert root.find("s:title", NS).text == "Containment"


def test_labels_are_escaped():
    svg = str(hbars([Bar("<script>alert(1)</script> & co", 3, '2 "x"')], 'a <b> "title"'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg
    root = parse(svg)
    assert texts(root)[0] == "<script>alert(1)</script> & co"
    assert root.get("aria-label") == 'a <b> "title"'


def test_all_zero_values_draw_empty_tracks_without_dividing_by_zero():
    root = parse(hbars([Bar("a", 0), Bar("b", 0)], "zeros"))
    assert bars(root) == [] and texts(root) == ["a", "0", "b", "0"]


def test_stacked_segments_fill_the_width_in_proportion():
    rows = [("All", [Segment("delivered", 3, "brand"), Segment("rto", 2, "orange"), Segment("pending", 1, "grey")]),
            ("None", [Segment("delivered", 0, "brand"), Segment("rto", 0, "orange"), Segment("pending", 0, "grey")])]
    root = parse(stacked(rows, "NDR"))
    drawn = bars(root)
    assert len(drawn) == 3
    widths = [float(r.get("width")) for r in drawn]
    assert abs(sum(widths) - WIDTH) < 0.5 and abs(widths[0] - WIDTH / 2) < 0.2
    assert "All (6)" in texts(root) and "None (0)" in texts(root)
    assert {"delivered", "rto", "pending"} <= set(texts(root))  # the legend


def test_columns_thin_their_day_labels_and_mark_missing_days():
    days = [Bar(str(d), None if d == 5 else float(d), colour="brand") for d in range(1, 32)]
    root = parse(columns(days, "Per day", legend=[("brand", "after")]))
    assert len(bars(root)) == 30
    day_labels = [t for t in texts(root) if t.isdigit()]
    assert 8 <= len(day_labels) <= 11 and day_labels[0] == "1"
    assert "–" in texts(root) and "after" in texts(root)
    heights = {r.find("s:title", NS).text: float(r.get("height")) for r in bars(root)}
    assert heights["31: 31"] > heights["1: 1"] > 0


def test_no_rows_say_so():
    for svg in (hbars([], "t"), stacked([], "t"), columns([], "t"), empty("t")):
        assert texts(parse(svg)) == ["No data in this range."]
