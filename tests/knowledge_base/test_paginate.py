"""Answers are cut into pages for small screens and chat limits (knowledge_base/rendering.paginate)."""

from __future__ import annotations

import pytest

from knowledge_base.rendering import paginate


def test_pages_keep_within_the_limit_and_lose_nothing():
    lines = [f"• Giấy tờ số {n}: bản chính hoặc bản sao" for n in range(12)]
    pages = paginate(lines, 120)
    assert all(len(page) <= 120 for page in pages) and len(pages) > 1
    assert "\n".join(pages).splitlines() == lines


def test_a_heading_is_not_left_alone_at_the_foot_of_a_page():
    lines = ["Thủ tục «Cải chính hộ tịch».", "• Trực tiếp: 3 ngày làm việc", "Lệ phí «Cải chính hộ tịch»:",
             "• Trực tiếp: 15.000 đồng", "• Trực tuyến: miễn phí"]
    limit = len("\n".join(lines[:3])) + 5  # the heading fits on page 1, its first line does not
    pages = paginate(lines, limit)
    assert pages[0] == "\n".join(lines[:2])
    assert pages[1].startswith("Lệ phí «Cải chính hộ tịch»:\n• Trực tiếp: 15.000 đồng")
    assert "\n".join(pages).splitlines() == lines


def test_a_heading_that_cannot_go_over_with_its_line_still_breaks_where_it_must():
    lines = ["Giấy tờ:", "x" * 40]
    assert paginate(lines, 45) == ["Giấy tờ:", "x" * 40]  # alone on the first page: nothing to keep it with


def test_a_page_of_nothing_but_a_bad_limit_is_refused():
    with pytest.raises(ValueError):
        paginate(["a"], 0)
