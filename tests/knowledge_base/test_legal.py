"""Legal documents parse into an addressable chapter/section/article/clause/point tree.

Texts from the shared legal library are read where they live (``shared_data`` fixture),
never copied here. Reading .pdf, .docx and .html files: ``test_legal_files.py``.
"""

from __future__ import annotations

import time
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from knowledge_base.legal import (
    LegalDocument,
    LegalStatus,
    UnitKind,
    filter_in_force,
    link_replacements,
    preferred,
    status_on,
)
from knowledge_base.legal_files import read_legal_file
from knowledge_base.legal_parser import parse_legal_text
from tests.knowledge_base.legal_samples import fictional_decree_text

# Article totals of the 11 shared files, as their headers' ``articles_found`` say.
EXPECTED_ARTICLES = {
    "03-2026-QH16.md": 30,
    "118-2025-ND-CP.md": 41,
    "123-2015-ND-CP.md": 48,
    "154-2024-ND-CP.md": 16,
    "23-2015-ND-CP.md": 49,
    "26-2023-QH15.md": 46,
    "31-2024-QH15.md": 260,
    "52-2014-QH13.md": 133,
    "60-2014-QH13.md": 77,
    "62-2021-ND-CP.md": 16,
    "68-2020-QH14.md": 38,
}

# The legal library was once said to hold "722 articles, all addressable". The 11 files hold 754. The issue's
# figure matches the library without the extra 03/2026/QH16 (30 articles, added later)
# and with 23/2015/NĐ-CP counted as 47 articles (its README notes it really has 49):
# 754 - 30 - 2 = 722. (Leaving out both OCR decrees, 62/2021 and 154/2024, would also give
# 754 - 16 - 16 = 722.) We assert what the files really contain.
TOTAL_ARTICLES = 754


def _legal_files(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "legal").glob("[0-9]*.md"))
    if not files:
        pytest.skip("thư viện văn bản pháp luật dùng chung trống (no shared legal files)")
    return files


@pytest.fixture(scope="module")
def library(shared_data: Path) -> dict[str, LegalDocument]:
    return {path.name: read_legal_file(path) for path in _legal_files(shared_data)}


# --------------------------------------------------------------------------- shared library


@pytest.mark.shared_data
def test_every_shared_file_has_the_article_count_its_header_states(library):
    assert set(library) == set(EXPECTED_ARTICLES)
    for name, doc in library.items():
        assert len(doc.articles) == int(doc.header["articles_found"]) == EXPECTED_ARTICLES[name], name


@pytest.mark.shared_data
def test_library_article_total_is_754(library):
    assert sum(len(doc.articles) for doc in library.values()) == TOTAL_ARTICLES


@pytest.mark.shared_data
def test_every_unit_of_every_file_is_addressable_by_its_unique_key(library):
    for name, doc in library.items():
        keys = [unit.key for unit in doc.units]
        duplicates = [key for key, count in Counter(keys).items() if count > 1]
        assert not duplicates, (name, duplicates[:5])
        for unit in doc.units:
            assert unit.key.startswith(doc.number + "#")
            assert doc.get_unit(unit.key) is unit
        for article in doc.articles:
            assert doc.get_unit(f"d{article.number}") is article
            assert article.citation() == f"Điều {article.number} {doc.label}"


@pytest.mark.shared_data
def test_clause_one_of_article_15_of_the_2014_civil_status_law_is_found(library):
    doc = library["60-2014-QH13.md"]
    clause = doc.find_unit("15", "1")
    assert clause is not None
    assert clause.text.startswith("Trong thời hạn 60 ngày")
    assert clause.key == "60/2014/QH13#d15.k1"
    assert clause.citation() == "Khoản 1 Điều 15 Luật Hộ tịch 2014"
    assert doc.get_unit("60/2014/QH13#d15.k1") is clause


@pytest.mark.shared_data
def test_decree_123_keeps_inserted_article_28a_in_its_chapter_and_section(library):
    doc = library["123-2015-ND-CP.md"]
    article = doc.get_unit("d28a")
    assert article.kind is UnitKind.ARTICLE
    assert article.title.startswith("Thẩm quyền đăng ký giám sát việc giám hộ")
    assert (article.chapter, article.section) == ("III", "5")
    assert article.citation() == "Điều 28a Nghị định 123/2015/NĐ-CP"
    assert [u.number for u in doc.articles if u.number.startswith("28")] == ["28", "28a", "28b", "28c"]


@pytest.mark.shared_data
def test_point_citation_names_point_clause_article_and_decree(library):
    point = library["123-2015-ND-CP.md"].find_unit("4", "1", "a")
    assert point is not None
    assert point.citation() == "Điểm a khoản 1 Điều 4 Nghị định 123/2015/NĐ-CP"
    assert point.key == "123/2015/NĐ-CP#d4.k1.a"


@pytest.mark.shared_data
def test_points_with_letter_đ_are_addressable(library):
    point = library["60-2014-QH13.md"].get_unit("d3.k1.đ")
    assert point.text == "Thay đổi, cải chính hộ tịch, xác định lại dân tộc, bổ sung thông tin hộ tịch;"
    assert point.citation() == "Điểm đ khoản 1 Điều 3 Luật Hộ tịch 2014"


@pytest.mark.shared_data
def test_article_text_holds_all_its_clauses_and_clause_text_holds_its_points(library):
    doc = library["60-2014-QH13.md"]
    article = doc.get_unit("d3")
    clause = doc.get_unit("d3.k1")
    for point in doc.list_children(clause):
        assert point.kind is UnitKind.POINT
        assert f"{point.number}) {point.text}" in clause.text
    for child in doc.list_children(article):
        assert child.text.splitlines()[0] in article.text
    assert [c.number for c in doc.list_children(article)] == ["1", "2", "3", "4"]


@pytest.mark.shared_data
def test_diacritics_survive_parsing_and_headings_match_the_source(shared_data, library):
    for path in _legal_files(shared_data):
        source = path.read_text(encoding="utf-8")
        doc = library[path.name]
        for unit in doc.units:
            assert unicodedata.is_normalized("NFC", unit.text + unit.title)
        for article in doc.articles:
            heading = f"Điều {article.number}. {article.title}"
            assert heading in source or article.title in source, (path.name, heading)
    assert library["52-2014-QH13.md"].title == "Luật Hôn nhân và gia đình"
    assert library["31-2024-QH15.md"].get_unit("d1").title == "Phạm vi điều chỉnh"


@pytest.mark.shared_data
def test_footnote_refs_are_stripped_and_footnotes_are_not_body(shared_data, library):
    for path in _legal_files(shared_data):
        doc = library[path.name]
        assert not any("[^" in unit.text or "[^" in unit.title for unit in doc.units), path.name
        footnotes = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("[^")]
        if footnotes:
            assert doc.consolidated, path.name
            first_note = footnotes[0].split(":", 1)[1].strip()
            assert not any(first_note in unit.text for unit in doc.units), path.name
    clause = library["123-2015-ND-CP.md"].find_unit("2", "1")  # "1.[^3] Người yêu cầu ..." in the source
    assert clause is not None and clause.text.startswith("Người yêu cầu")


@pytest.mark.shared_data
def test_metadata_comes_from_the_header(library):
    doc = library["60-2014-QH13.md"]
    assert (doc.number, doc.doc_type, doc.issuer) == ("60/2014/QH13", "Luật", "Quốc hội")
    assert (doc.issued, doc.effective) == (date(2014, 11, 20), date(2016, 1, 1))
    assert (doc.replaced_by, doc.replaced_from) == ("03/2026/QH16", date(2027, 3, 1))
    assert library["03-2026-QH16.md"].replaces == ("60/2014/QH13",)
    assert (library["62-2021-ND-CP.md"].replaced_by, library["62-2021-ND-CP.md"].replaced_from) == (
        "154/2024/NĐ-CP",
        date(2025, 1, 10),
    )
    assert "62/2021/NĐ-CP" in library["154-2024-ND-CP.md"].replaces
    assert library["68-2020-QH14.md"].consolidated and not library["23-2015-ND-CP.md"].consolidated


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "number", "doc_type", "title", "issued", "effective"),
    [
        ("60-2014-QH13.md", "60/2014/QH13", "Luật", "Luật Hộ tịch", date(2014, 11, 20), date(2016, 1, 1)),
        ("26-2023-QH15.md", "26/2023/QH15", "Luật", "Luật Căn cước", date(2023, 11, 27), date(2024, 7, 1)),
        ("123-2015-ND-CP.md", "123/2015/NĐ-CP", "Nghị định", None, date(2015, 11, 15), date(2016, 1, 1)),
        ("154-2024-ND-CP.md", "154/2024/NĐ-CP", "Nghị định", None, date(2024, 11, 26), date(2025, 1, 10)),
        ("03-2026-QH16.md", "", "Luật", "Luật Hộ tịch", None, date(2027, 3, 1)),
    ],
)
def test_metadata_is_read_from_heading_lines_when_there_is_no_header(
    shared_data, name, number, doc_type, title, issued, effective
):
    source = (shared_data / "legal" / name).read_text(encoding="utf-8")
    body = source.split("\n---\n", 1)[1]  # drop the header block
    doc = parse_legal_text(body)
    assert doc.header == {}
    assert (doc.number, doc.doc_type, doc.issued, doc.effective) == (number, doc_type, issued, effective)
    if title:
        assert doc.title == title
    assert len(doc.articles) == EXPECTED_ARTICLES[name]


@pytest.mark.shared_data
def test_replacement_is_read_from_the_article_on_entry_into_force(shared_data):
    body = (shared_data / "legal" / "154-2024-ND-CP.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    assert parse_legal_text(body).replaces == ("62/2021/NĐ-CP",)
    body = (shared_data / "legal" / "26-2023-QH15.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    # "Luật Căn cước công dân số 59/2014/QH13 đã được sửa đổi ... theo Luật số 68/2020/QH14 hết hiệu lực":
    # only the first number is repealed, not the amending law (which is the Luật Cư trú).
    assert parse_legal_text(body).replaces == ("59/2014/QH13",)


@pytest.mark.shared_data
def test_whole_library_parses_in_under_ten_seconds(shared_data):
    files = _legal_files(shared_data)
    started = time.perf_counter()
    docs = [read_legal_file(path) for path in files]
    assert time.perf_counter() - started < 10
    assert sum(len(doc.articles) for doc in docs) == TOTAL_ARTICLES


# --------------------------------------------------------------------------- status


@pytest.mark.shared_data
def test_civil_status_law_2014_is_in_force_until_the_2026_law_takes_effect(library):
    old, new = library["60-2014-QH13.md"], library["03-2026-QH16.md"]
    assert status_on(old, date(2026, 11, 25)) is LegalStatus.IN_FORCE
    assert status_on(old, date(2027, 3, 2)) is LegalStatus.EXPIRED
    assert status_on(new, date(2026, 11, 25)) is LegalStatus.NOT_YET_EFFECTIVE
    assert status_on(new, date(2027, 3, 2)) is LegalStatus.IN_FORCE
    assert preferred([old, new], date(2026, 11, 25)) is old
    assert preferred([new, old], date(2027, 3, 2)) is new
    assert preferred([old, new], date(2027, 3, 1)) is new  # the replacing law's first day


@pytest.mark.shared_data
def test_residence_decree_62_gives_way_to_154_on_10_january_2025(library):
    old, new = library["62-2021-ND-CP.md"], library["154-2024-ND-CP.md"]
    assert preferred([old, new], date(2025, 1, 9)) is old
    assert preferred([old, new], date(2025, 1, 10)) is new
    assert status_on(old, date(2025, 1, 10)) is LegalStatus.EXPIRED


@pytest.mark.shared_data
def test_consolidated_law_in_force_reports_amended(library):
    status = status_on(library["68-2020-QH14.md"], date(2026, 11, 25))
    assert status is LegalStatus.AMENDED and status.in_force
    assert status.label == "Còn hiệu lực (đã được sửa đổi, bổ sung)"


def test_replacement_known_only_to_the_new_text_still_expires_the_old_one():
    old = LegalDocument(number="1/2010/QH12", doc_type="Luật", effective=date(2011, 1, 1))
    new = LegalDocument(
        number="2/2020/QH14", doc_type="Luật", effective=date(2021, 7, 1), replaces=("1/2010/QH12",)
    )
    assert status_on(old, date(2022, 1, 1)) is LegalStatus.IN_FORCE  # alone, it cannot know
    linked_old, linked_new = link_replacements([old, new])
    assert (linked_old.replaced_by, linked_old.replaced_from) == ("2/2020/QH14", date(2021, 7, 1))
    assert status_on(linked_old, date(2022, 1, 1)) is LegalStatus.EXPIRED
    assert preferred([old, new], date(2021, 6, 30)) is old
    assert preferred([old, new], date(2021, 7, 1)) is new
    assert [d.number for d in filter_in_force([old, new], date(2022, 1, 1))] == ["2/2020/QH14"]


def test_preferred_returns_none_before_anything_is_in_force_and_rejects_no_documents():
    doc = LegalDocument(number="3/2030/QH16", effective=date(2030, 1, 1))
    assert preferred([doc], date(2029, 12, 31)) is None
    with pytest.raises(ValueError, match="at least one"):
        preferred([], date(2029, 12, 31))


@pytest.mark.parametrize(
    ("note", "replaced_by", "replaced_from", "expired_on"),
    [
        (
            "Sẽ hết hiệu lực từ 2031-07-01 khi Luật Tiếp dân số 7/2030/QH16 có hiệu lực",
            "7/2030/QH16",
            date(2031, 7, 1),
            None,
        ),
        (
            "Đã bị thay thế bởi Thông tư 04/2024/TT-BTP từ 01/08/2024",
            "04/2024/TT-BTP",
            date(2024, 8, 1),
            None,
        ),
        ("Hết hiệu lực từ ngày 01 tháng 7 năm 2025", None, None, date(2025, 7, 1)),
        ("Bản OCR, nhiều lỗi", None, None, None),
    ],
)
def test_status_note_replacement_facts_are_read_generically(note, replaced_by, replaced_from, expired_on):
    doc = parse_legal_text(fictional_decree_text(), {"status_note": note})
    assert (doc.replaced_by, doc.replaced_from, doc.expired_on) == (replaced_by, replaced_from, expired_on)


# --------------------------------------------------------------------------- parsing details


def test_decomposed_unicode_input_is_normalised_to_nfc():
    text = unicodedata.normalize("NFD", fictional_decree_text())
    doc = parse_legal_text(text)
    article = doc.get_unit("d2")
    assert article.title == "Đối tượng áp dụng"
    assert unicodedata.is_normalized("NFC", article.text)
    assert doc.find_unit("2", "1", "đ").text == "Người dân tộc thiểu số ở vùng đặc biệt khó khăn."


def test_quoted_amendment_lines_are_text_not_structure():
    text = "\n".join(
        [
            "Điều 1. Sửa đổi, bổ sung Điều 5 của Nghị định số 1/2020/NĐ-CP",
            "1. Sửa đổi Điều 5 như sau:",
            "“Điều 5. Thời hạn giải quyết",
            "1. Trong ngày làm việc.",
            "2. Không quá 03 ngày làm việc.”.",
            "2. Bãi bỏ Điều 6.",
        ]
    )
    doc = parse_legal_text(text, {"number": "9/2030/NĐ-CP"})
    assert [a.number for a in doc.articles] == ["1"]
    assert [c.number for c in doc.units if c.kind is UnitKind.CLAUSE] == ["1", "2"]
    assert "“Điều 5. Thời hạn giải quyết" in doc.get_unit("d1.k1").text


def test_numbered_lines_out_of_order_stay_in_the_current_clause():
    text = "Điều 1. Danh mục\n1. Giấy tờ gồm:\n2. Bản sao:\n1a. Dòng bảng không phải khoản\n3. Khác."
    doc = parse_legal_text(text, {"number": "9/2030/NĐ-CP"})
    assert [c.number for c in doc.units if c.kind is UnitKind.CLAUSE] == ["1", "2", "3"]
    assert doc.get_unit("d1.k2").text == "Bản sao:\n1a. Dòng bảng không phải khoản"


def test_empty_text_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="empty"):
        parse_legal_text("  \n\n ")
