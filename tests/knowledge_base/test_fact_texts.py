"""A procedure's facts, a legal text's status and the center's card read the catalogue's words
(``fact.*``, ``legal.*``, ``center.*`` in facts.po), and those modules hold no other sentence."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from knowledge_base.defaults import CenterInfo, OpeningPeriod, load_center_info, weekday_label
from knowledge_base.legal_library import ArticleView, DocumentInfo, article_path, document_slug
from knowledge_base.messages import MessageCatalogue, load_catalogue, render
from knowledge_base.schema import ChannelKind, Fee, ProcessingTime, RequiredDocument, TimeUnit
from tests.test_one_voice import citizen_literals, other_register

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["knowledge_base/schema.py", "knowledge_base/legal_library.py",
                                    "knowledge_base/defaults.py"])
def test_the_modules_say_nothing_outside_the_catalogue(module):
    assert citizen_literals(ROOT / module) == []


def test_the_ids_live_in_facts_po_and_every_channel_and_unit_has_one():
    facts = MessageCatalogue.from_files([ROOT / "knowledge_base/locale/vi/LC_MESSAGES/facts.po"])
    assert {key.split(".")[0] for key in facts.templates} == {"fact", "legal", "center"}
    assert {f"fact.channel.{kind.value}" for kind in ChannelKind} <= set(facts.templates)
    assert {f"fact.unit.{unit.value}" for unit in TimeUnit if unit is not TimeUnit.UNSPECIFIED} <= set(facts.templates)
    assert {f"center.weekday.{day}" for day in range(7)} <= set(facts.templates)


def test_channel_and_unit_labels():
    assert [kind.label for kind in ChannelKind] == ["Trực tiếp", "Trực tuyến", "Dịch vụ bưu chính"]
    assert ChannelKind.POST.label == render("fact.channel.buu_chinh")
    assert TimeUnit.WORKING_DAY.label == render("fact.unit.ngay_lam_viec") == "ngày làm việc"
    assert TimeUnit.UNSPECIFIED.label == ""


def test_a_processing_time_reads_its_number_and_unit():
    assert ProcessingTime(3).describe() == "3 ngày làm việc"
    assert ProcessingTime(1.5, TimeUnit.HOUR).describe() == "1,5 giờ"
    assert ProcessingTime(2, TimeUnit.UNSPECIFIED).describe() == "2"
    assert ProcessingTime(5, TimeUnit.DAY, note="kể từ ngày nhận đủ hồ sơ").describe() == (
        "5 ngày (kể từ ngày nhận đủ hồ sơ)")


def test_a_fee_reads_free_unknown_or_its_amount():
    assert Fee(free=True).describe() == render("fact.fee.free") == "Miễn phí"
    assert Fee().describe() == render("fact.fee.unknown")
    assert Fee(amount=15000).describe() == render("fact.fee.amount_vnd", amount="15.000") == "15.000 đồng"
    assert Fee(amount=50, currency="USD", note="mỗi bản").describe() == "50 USD (mỗi bản)"


def test_a_document_reads_its_copies_and_its_template():
    assert RequiredDocument("Giấy chứng sinh", 1, True).describe() == "Giấy chứng sinh (1 bản chính)"
    assert RequiredDocument("Sổ hộ khẩu", 2, False).describe() == render(
        "fact.document.copy", name="Sổ hộ khẩu", copies=2)
    assert RequiredDocument("Tờ khai", form="Mẫu TP/HT-2020-KS").describe() == (
        "Tờ khai (1 bản) — mẫu: Mẫu TP/HT-2020-KS")


def _document(**changes) -> DocumentInfo:
    fields = dict(number="60/2014/QH13", label="Luật Hộ tịch 2014", title="Luật Hộ tịch", doc_type="Luật",
                  issuer="Quốc hội", issued="2014-11-20", effective="2016-01-01", replaced_by="",
                  replaced_from="", consolidated=False, text_version="")
    return DocumentInfo(**{**fields, **changes})


def test_a_legal_texts_status_and_note_on_a_day():
    law = _document()
    assert law.status_label(date(2020, 1, 1)) == render("legal.status_in_force") == "Còn hiệu lực"
    assert law.status_note(date(2020, 1, 1)) == ""
    assert _document(consolidated=True).status_label(date(2020, 1, 1)) == (
        "Còn hiệu lực (văn bản hợp nhất, đã được sửa đổi, bổ sung)")
    assert law.status_label(date(2015, 6, 1)) == "Chưa có hiệu lực (từ 01/01/2016)"
    assert law.status_note(date(2015, 6, 1)) == (
        "Lưu ý: Luật Hộ tịch 2014 có hiệu lực từ ngày 01/01/2016, chưa áp dụng vào thời điểm này.")
    assert _document(replaces=("A", "B")).status_note(date(2015, 6, 1)).endswith(
        "chưa áp dụng vào thời điểm này (thay thế A, B).")
    old = _document(replaced_from="2027-03-01", replaced_by="03/2026/QH16")
    assert old.status_label(date(2027, 3, 1)) == "Hết hiệu lực từ 01/03/2027, thay thế bởi 03/2026/QH16"
    assert old.status_note(date(2027, 3, 2)) == render(
        "legal.note_replaced_by", label="Luật Hộ tịch 2014", by="03/2026/QH16", ends="01/03/2027")
    gone = _document(replaced_from="2027-03-01")
    assert gone.status_label(date(2028, 1, 1)) == "Hết hiệu lực từ 01/03/2027"
    assert gone.status_note(date(2028, 1, 1)) == (
        "Lưu ý: Luật Hộ tịch 2014 đã được thay thế từ ngày 01/03/2027; quy định dưới đây là của văn bản cũ.")


def test_an_articles_heading_and_the_addresses_still_read_the_words():
    view = ArticleView(_document(), "15", "Trách nhiệm đăng ký khai sinh", "", "")
    assert view.heading == "Điều 15. Trách nhiệm đăng ký khai sinh"
    assert ArticleView(_document(), "28a", "", "", "").heading == render("legal.article_heading_untitled", article="28a")
    assert document_slug("123/2015/NĐ-CP") == "123-2015-ND-CP" and document_slug("12/2020/nđ-cp") == "12-2020-nd-cp"
    assert article_path("60/2014/QH13", "Điều 15", "1") == "/phap-luat/60-2014-QH13/15#khoan-1"


def test_the_centers_card_and_hours():
    weekdays = OpeningPeriod(days=(0, 1, 2, 3, 4), opens=time(7, 30), closes=time(11, 30))
    saturday = OpeningPeriod(days=(5,), opens=time(7, 30), closes=time(11, 30))
    center = CenterInfo(name="Trung tâm", address="1 Lê Lợi", phone="0123", email="a@b.vn",
                        opening_hours=(weekdays, saturday), note="Nghỉ ngày lễ.")
    assert center.describe_hours() == "Thứ Hai đến Thứ Sáu: 07:30–11:30; Thứ Bảy: 07:30–11:30"
    assert center.describe().splitlines() == [
        "Trung tâm", render("center.address", address="1 Lê Lợi"),
        "Giờ làm việc: Thứ Hai đến Thứ Sáu: 07:30–11:30; Thứ Bảy: 07:30–11:30",
        "Điện thoại: 0123", "Thư điện tử: a@b.vn", "Nghỉ ngày lễ."]
    assert [weekday_label(day) for day in (0, 6)] == ["Thứ Hai", "Chủ nhật"]
    assert load_center_info().describe().splitlines()[1].startswith("Địa chỉ: ")


def test_no_fact_message_addresses_the_citizen_in_another_register():
    catalogue = load_catalogue("vi")
    assert not {key: other_register(text) for key, text in catalogue.templates.items()
                if key.split(".")[0] in {"fact", "legal", "center"} and other_register(text)}
