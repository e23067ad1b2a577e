"""The national portal's procedure records become Procedures.

Unit tests use small hand-written strings shaped like the portal's flattened
tables; the ``shared_data`` tests run over the whole published catalogue.
"""

from __future__ import annotations

import gzip
import json
import re
import time
import unicodedata
from pathlib import Path

import pytest

from knowledge_base.dichvucong import (
    CatalogueFileError,
    ParsedRecord,
    RecordError,
    parse_channels,
    parse_channels_with_warnings,
    parse_documents,
    parse_documents_with_warnings,
    parse_legal_basis,
    parse_record,
    read_records,
    summarize,
    tidy_text,
)
from knowledge_base.schema import ChannelKind, TimeUnit

HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
DOCS = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
LEGAL = "Tên văn bản pháp lýMã văn bản"
CATALOGUE = "dichvucong_procedures.jsonl.gz"


# ------------------------------------------------------------------------ channels


def test_bare_time_and_free_in_every_channel():
    text = HEADER + "Trực tuyến1Miễn phíDịch vụ bưu chính1Miễn phíTrực tiếp1Miễn phí"
    channels = parse_channels(text)
    assert [c.kind for c in channels] == [ChannelKind.ONLINE, ChannelKind.POST, ChannelKind.IN_PERSON]
    for channel in channels:
        assert channel.time is not None and channel.time.value == 1
        assert channel.time.unit is TimeUnit.UNSPECIFIED
        assert channel.fee is not None and channel.fee.free and channel.fee.amount is None


def test_working_days_amount_details_and_description_are_separated():
    text = (
        HEADER + "Trực tiếp5 Ngày làm việc2,000,000 Việt Nam Đồng(Phí thẩm định: 2.000.000 đồng/01 hồ sơ)"
        "05 ngày làm việc kể từ ngày nhận đủ hồ sơ.Trực tuyến5 Ngày làm việc2,000,000 Việt Nam Đồng"
    )
    in_person, online = parse_channels(text)
    assert in_person.time is not None
    assert (in_person.time.value, in_person.time.unit) == (5, TimeUnit.WORKING_DAY)
    assert in_person.fee is not None and (in_person.fee.amount, in_person.fee.currency) == (2_000_000, "VND")
    assert in_person.fee.note == "Phí thẩm định: 2.000.000 đồng/01 hồ sơ"
    assert in_person.description == "05 ngày làm việc kể từ ngày nhận đủ hồ sơ."
    assert online.fee is not None and online.fee.amount == 2_000_000 and online.fee.note == ""


def test_free_with_exemption_details_stays_free_and_keeps_the_details():
    text = (
        HEADER
        + "Trực tiếp3Miễn phí((Mức lệ phí do Hội đồng nhân dân tỉnh quyết định. Miễn lệ phí cho hộ nghèo.))"
    )
    (channel,) = parse_channels(text)
    assert channel.fee is not None and channel.fee.free
    assert channel.fee.note == "Mức lệ phí do Hội đồng nhân dân tỉnh quyết định. Miễn lệ phí cho hộ nghèo."


def test_free_label_next_to_a_named_fee_is_read_as_that_fee_with_a_warning():
    text = (
        HEADER
        + "Trực tuyến12 NgàyMiễn phí(Cho một loại hình sản phẩm: 8.000.000/lần; thêm một loại: 2.000.000/lần.)"
    )
    (channel,), warnings = parse_channels_with_warnings(text)
    assert channel.fee is not None and not channel.fee.free
    assert channel.fee.amount == 8_000_000
    assert "2.000.000/lần" in channel.fee.note  # the other figures stay in the note
    assert any("Miễn phí" in w for w in warnings)


def test_bare_time_run_into_the_amount_is_split_by_the_figure_in_the_details():
    text = HEADER + "Trực tuyến1100 VNĐ(Phí công bố nội dung đăng ký doanh nghiệp: 100.000 đồng/lần)"
    (channel,), warnings = parse_channels_with_warnings(text)
    assert channel.time is not None and (channel.time.value, channel.time.unit) == (1, TimeUnit.UNSPECIFIED)
    assert channel.fee is not None and channel.fee.amount == 100_000
    assert any("dính liền" in w for w in warnings)


def test_bare_time_run_into_a_grouped_amount_keeps_a_well_formed_amount():
    (channel,) = parse_channels(HEADER + "Trực tuyến120,000 VNĐ(mức thu là 20.000 VNĐ/tờ khai)")
    assert channel.time is not None and channel.time.value == 1
    assert channel.fee is not None and channel.fee.amount == 20_000


def test_free_label_with_figures_and_an_exemption_stays_free():
    text = (
        HEADER
        + "Dịch vụ bưu chính18 NgàyMiễn phí(15000000/lần Đồng (Gia hạn) (Miễn phí từ ngày 07/4/2026 đến 30/6/2026))"
    )
    (channel,) = parse_channels(text)
    assert channel.fee is not None and channel.fee.free and "15000000/lần" in channel.fee.note


def test_an_amount_with_no_room_for_a_time_keeps_time_unknown():
    (channel,), warnings = parse_channels_with_warnings(HEADER + "Trực tuyến5 VNĐ")
    assert channel.time is None and channel.fee is not None and channel.fee.amount == 5_000
    assert warnings


def test_implausibly_small_vnd_amount_is_read_in_thousands():
    text = HEADER + "Trực tiếp7 Ngày làm việc50 VNĐ((áp dụng mức phí 25.000 đồng/hồ sơ đến hết 31/12/2026))"
    (channel,), warnings = parse_channels_with_warnings(text)
    assert channel.fee is not None and channel.fee.amount == 50_000
    assert any("nghìn đồng" in w for w in warnings)


def test_unknown_time_and_unknown_fee_are_none():
    text = HEADER + "Trực tuyếnKhông có thông tinKhông có thông tinGửi qua hệ thống quản lý văn bản."
    (channel,) = parse_channels(text)
    assert channel.time is None and channel.fee is None
    assert channel.description == "Gửi qua hệ thống quản lý văn bản."


def test_working_days_with_unknown_fee_keep_the_time():
    (channel,) = parse_channels(HEADER + "Dịch vụ bưu chính3 Ngày làm việcKhông có thông tin")
    assert channel.time is not None and channel.time.value == 3 and channel.fee is None


def test_usd_amounts_keep_their_currency():
    text = (
        HEADER
        + "Trực tuyến5 Ngày làm việc145 USD(Thẻ tạm trú: 145 USD/thẻ.)Trực tiếp5 Ngày làm việc155 VNĐ(Thẻ tạm trú từ trên 02 năm: 155 USD/thẻ.)"
    )
    online, in_person = parse_channels(text)
    assert online.fee is not None and (online.fee.amount, online.fee.currency) == (145, "USD")
    # the portal labelled 155 as VNĐ but the details say USD: plausibility wins
    assert in_person.fee is not None and (in_person.fee.amount, in_person.fee.currency) == (155, "USD")


def test_placeholder_amount_with_an_exemption_note_is_free():
    text = HEADER + "Trực tuyến10 Ngày làm việc1 Việt Nam Đồng(Đăng ký qua mạng điện tử được miễn lệ phí.)"
    (channel,) = parse_channels(text)
    assert channel.fee is not None and channel.fee.free


def test_channel_words_inside_a_description_do_not_start_a_channel():
    text = (
        HEADER
        + "Trực tiếp7 Ngày làm việc50,000 Việt Nam Đồng- Trực tiếp tại Công an cấp xã; nộp trực tuyến qua Cổng."
    )
    (channel,) = parse_channels(text)
    assert channel.description == "- Trực tiếp tại Công an cấp xã; nộp trực tuyến qua Cổng."


def test_a_time_given_in_words_goes_into_the_description():
    (channel,) = parse_channels(HEADER + "Trực tuyếnKhông quy địnhMiễn phíQua Cổng dịch vụ công quốc gia")
    assert channel.time is None and channel.fee is not None and channel.fee.free
    assert channel.description.startswith("Thời hạn: Không quy định.")


def test_identical_channel_rows_are_kept_once():
    assert len(parse_channels(HEADER + "Trực tiếp2 GiờMiễn phíTrực tiếp2 GiờMiễn phí")) == 1


@pytest.mark.parametrize("text", ["", "Không có thông tin", HEADER])
def test_no_channel_text_gives_no_channels(text):
    assert parse_channels(text) == []


# ----------------------------------------------------------------------- documents


def test_documents_with_originals_copies_and_both():
    text = (
        "--" + DOCS + "Dự thảo Điều lệ của công ty luật1 bản chính"
        "Giấy tờ chứng minh về trụ sở.0 bản chính,1 bản sao"
        "Mẫu sổ đã được khai đầy đủ1 bản chính,1 bản sao"
    )
    charter, office, book = parse_documents(text)
    assert (charter.name, charter.copies, charter.original) == ("Dự thảo Điều lệ của công ty luật", 1, True)
    assert (office.copies, office.original) == (1, False)
    assert (book.copies, book.original, book.note) == (1, True, "kèm 1 bản sao")


def test_a_form_template_glued_to_the_name_goes_into_form():
    text = "--" + DOCS + "Giấy đề nghị đăng ký hoạt động theo mẫu thống nhấtMẫu TP-LS-02-sđ.docx1 bản chính"
    (document,) = parse_documents(text)
    assert document.name == "Giấy đề nghị đăng ký hoạt động theo mẫu thống nhất"
    assert document.form == "Mẫu TP-LS-02-sđ.docx"


def test_several_templates_are_listed_and_a_semicolon_join_is_understood():
    text = DOCS + "Bản khai chung theo mẫu;MauBankhaichung.docxMauDanhsachthuyenvien.docx1 bản chính"
    (document,) = parse_documents(text)
    assert document.name == "Bản khai chung theo mẫu"
    assert document.form == "MauBankhaichung.docx; MauDanhsachthuyenvien.docx"


def test_a_count_glued_to_a_year_is_split_off_the_name():
    text = DOCS + "Văn bản đề nghị theo Phụ lục IX Nghị định số 56/2023/NĐ-CP ngày 24/07/20231 bản chính"
    (document,) = parse_documents(text)
    assert document.name.endswith("ngày 24/07/2023")
    assert (document.copies, document.original) == (1, True)


def test_copies_named_in_prose_are_not_rows():
    text = (
        DOCS
        + "Giấy tờ chứng minh (01 bản chính hoặc 01 bản sao có chứng thực)1 bản chínhĐơn đề nghị1 bản chính"
    )
    documents = parse_documents(text)
    assert [d.name for d in documents] == [
        "Giấy tờ chứng minh (01 bản chính hoặc 01 bản sao có chứng thực)",
        "Đơn đề nghị",
    ]


def test_groups_label_their_documents_and_zero_count_rows_are_explanations():
    text = (
        "* Giấy tờ phải nộp:"
        + DOCS
        + "- Giấy chứng sinh; trường hợp không có thì nộp văn bản của người làm chứng.1 bản chính"
        "Trường hợp đã nộp bản điện tử thì không phải nộp bản giấy.0 bản chính"
        "* Giấy tờ phải xuất trình:" + DOCS + "- Hộ chiếu hoặc thẻ căn cước1 bản chính"
    )
    birth, explanation, passport = parse_documents(text)
    assert birth.name.startswith("Giấy chứng sinh;") and birth.note == "Giấy tờ phải nộp"
    assert (explanation.copies, explanation.original) == (0, None)
    assert passport.name == "Hộ chiếu hoặc thẻ căn cước" and passport.note == "Giấy tờ phải xuất trình"


def test_a_count_glued_to_a_full_stop_and_the_next_row_is_a_row_but_prose_counts_are_not():
    text = (
        DOCS + "Hóa đơn thương mại: 01 bản chính.1 bản chính"
        "Giấy chứng nhận đã được cấp1 bản chính.Đơn đề nghị cấp lại1 bản chính"
    )
    invoice, certificate, request = parse_documents(text)
    assert invoice.name == "Hóa đơn thương mại: 01 bản chính."
    assert certificate.name == "Giấy chứng nhận đã được cấp"
    assert request.name == "Đơn đề nghị cấp lại"


def test_a_template_without_a_visible_join_stays_in_the_name():
    (document,) = parse_documents(
        DOCS + "Báo cáo kết quả khảo nghiệm thức ăn chăn nuôibáo cáo.pdf1 bản chính"
    )
    assert document.name == "Báo cáo kết quả khảo nghiệm thức ăn chăn nuôibáo cáo" and document.form == ""


def test_documents_without_any_count_give_a_warning_not_an_error():
    documents, warnings = parse_documents_with_warnings("Bước 2. Cơ quan tiếp nhận hồ sơ và giải quyết.")
    assert documents == [] and warnings


@pytest.mark.parametrize("text", ["", "--", "Không có thông tin"])
def test_empty_document_text_gives_no_documents(text):
    assert parse_documents(text) == []


# --------------------------------------------------------------------- legal basis


def test_legal_numbers_of_every_shape_are_read_with_their_titles():
    text = (
        LEGAL
        + "Thông tư Hướng dẫn về phí và lệ phí thuộc thẩm quyền của Hội đồng nhân dân tỉnh85/2019/TT-BTC"
        "Luật Hộ tịch60/2014/QH13"
        "Quyết định công bố thủ tục hành chính163/QĐ-BTP"
        "Thông tư liên tịch hướng dẫn phối hợp01/2022/TTLT-BTC-BTP"
        "Quy định chế độ đối với cán bộ53/2010/QĐ-TTg"
        "Thông tư số 08/2025/TT-BTP ngày 12/6/2025 của Bộ trưởng Bộ Tư pháp08/2025/TT-BTP"
    )
    references = parse_legal_basis(text)
    assert [r.number for r in references] == [
        "85/2019/TT-BTC",
        "60/2014/QH13",
        "163/QĐ-BTP",
        "01/2022/TTLT-BTC-BTP",
        "53/2010/QĐ-TTg",
        "08/2025/TT-BTP",
    ]
    assert references[1].title == "Luật Hộ tịch"
    assert references[5].title == "Thông tư số 08/2025/TT-BTP ngày 12/6/2025 của Bộ trưởng Bộ Tư pháp"


def test_a_number_quoted_inside_a_title_stays_in_the_title():
    text = (
        LEGAL
        + "Nghị định số 123/2015/NĐ-CP ngày 15/11/2015 của Chính phủ quy định chi tiết Luật Hộ tịch123/2015/NĐ-CP"
    )
    (reference,) = parse_legal_basis(text)
    assert reference.number == "123/2015/NĐ-CP"
    assert reference.title.startswith("Nghị định số 123/2015/NĐ-CP ngày 15/11/2015")


def test_glued_duplicates_and_repeated_type_words_give_one_reference():
    text = LEGAL + "Luật 60/2014/QH1360/2014/QH13Luật Các tổ chức tín dụngLuật số 32/2024/QH15"
    first, second = parse_legal_basis(text)
    assert (first.number, first.title) == ("60/2014/QH13", "Luật 60/2014/QH13")
    assert (second.number, second.title) == ("32/2024/QH15", "Luật Các tổ chức tín dụng")


def test_a_capital_of_the_next_title_is_given_back_to_it():
    text = (
        LEGAL
        + "Nghị định về hóa đơn123/2020/NĐ-CPNghị định sửa đổi70/2025/NĐ-CPSỬA ĐỔI THÔNG TƯ56/2021/TT-BCA"
    )
    assert [r.number for r in parse_legal_basis(text)] == [
        "123/2020/NĐ-CP",
        "70/2025/NĐ-CP",
        "56/2021/TT-BCA",
    ]


def test_a_year_glued_before_a_number_is_not_part_of_it():
    (reference,) = parse_legal_basis(LEGAL + "Luật Cư trú 202068/2020/QH14")
    assert reference.number == "68/2020/QH14"


@pytest.mark.parametrize("text", ["", "Không có thông tin", LEGAL])
def test_no_legal_text_gives_no_references(text):
    assert parse_legal_basis(text) == []


# ------------------------------------------------------------------------- records


def _record(**overrides: str) -> dict[str, str]:
    record = {
        "ma_thu_tuc": "1.000001",
        "ten_thu_tuc": "Thủ tục đăng ký thử",
        "cap_thuc_hien": "Cấp tỉnh, Cấp xã",
        "linh_vuc": "Hộ tịch",
        "doi_tuong_thuc_hien": "Công dân Việt Nam",
        "co_quan_co_tham_quyen": "",
        "dia_chi_tiep_nhan": "",
        "co_quan_thuc_hien": "Ủy ban nhân dân cấp xã",
        "thu_tuc_lien_quan": "Không có thông tin",
        "trinh_tu_thuc_hien": "Bước 1: Nộp hồ sơ.\nBước 2: Nhận kết quả.",
        "cach_thuc_thuc_hien": HEADER + "Trực tiếp3 Ngày làm việcMiễn phí",
        "thanh_phan_ho_so": "--" + DOCS + "Tờ khai1 bản chính",
        "can_cu_phap_ly": LEGAL + "Luật Hộ tịch60/2014/QH13",
        "yeu_cau_dieu_kien": "Không có thông tin",
        "ket_qua_xu_ly": "Giấy khai sinhMã: KQ.G15.000031Thông báo từ chốiMã: KQ.G15.000032Từ khóaKhông có thông tin"
        "Mô tảKhông có thông tinChọn cơ quan thực hiệnTỉnh/ Thành phố-- Chọn Tỉnh/ Thành phố --Nộp hồ sơ",
    }
    record.update(overrides)
    return record


def test_a_record_maps_every_useful_field():
    parsed = parse_record(_record())
    procedure = parsed.procedure
    assert (procedure.code, procedure.name, procedure.source) == (
        "1.000001",
        "Thủ tục đăng ký thử",
        "dichvucong",
    )
    assert procedure.levels == ["Cấp tỉnh", "Cấp xã"]
    assert procedure.field == "Hộ tịch" and procedure.applicants == "Công dân Việt Nam"
    assert procedure.competent_agency == "Ủy ban nhân dân cấp xã"
    assert procedure.steps == ["Bước 1: Nộp hồ sơ.", "Bước 2: Nhận kết quả."]
    assert procedure.conditions == "" and procedure.related == []
    assert procedure.result == "Giấy khai sinh; Thông báo từ chối"
    assert [d.name for d in procedure.documents] == ["Tờ khai"]
    assert [r.number for r in procedure.legal_basis] == ["60/2014/QH13"]
    assert {
        "levels",
        "steps",
        "channels",
        "time",
        "fee",
        "documents",
        "legal_basis",
        "result",
    } <= parsed.parsed
    assert parsed.warnings == []


def test_record_text_is_nfc_normalised_and_whitespace_tidied():
    decomposed = unicodedata.normalize("NFD", "Đăng ký   khai sinh\u00a0 ")
    procedure = parse_record(_record(ten_thu_tuc=decomposed)).procedure
    assert procedure.name == "Đăng ký khai sinh"
    assert procedure.name == unicodedata.normalize("NFC", procedure.name)


def test_steps_on_one_line_are_split_at_each_step():
    steps = parse_record(
        _record(trinh_tu_thuc_hien="(i) Khai thuế + Bước 1. Lập hồ sơ; + Bước 2. Cơ quan thuế tiếp nhận.")
    ).procedure.steps
    assert steps == ["(i) Khai thuế", "+ Bước 1. Lập hồ sơ;", "+ Bước 2. Cơ quan thuế tiếp nhận."]


def test_a_field_that_is_not_text_is_ignored_with_a_warning():
    parsed = parse_record(_record(linh_vuc=["Hộ tịch"]))  # type: ignore[arg-type]
    assert parsed.procedure.field == ""
    assert any("linh_vuc" in w for w in parsed.warnings)


def test_related_procedures_are_read_as_codes():
    procedure = parse_record(_record(thu_tuc_lien_quan="Xem thủ tục 1.001193 và 2.000528")).procedure
    assert procedure.related == ["1.001193", "2.000528"]


def test_a_section_cut_at_a_quoted_label_is_recovered_from_the_page_text():
    page = (
        "Thủ tục đăng ký thửTên thủ tụcThủ tục đăng ký thửMã thủ tục1.000001"
        "Trình Tự Thực HiệnBước 1. Lập hồ sơ theo mục 5.3 (Thành phần hồ sơ); nộp cho cơ quan BHXH."
        "Cách Thức Thực Hiện" + HEADER + "Trực tiếp6 Ngày làm việcMiễn phí"
        "Thành phần hồ sơ--" + DOCS + "Tờ khai đề nghị1 bản chính"
        "Căn cứ pháp lý" + LEGAL + "Luật Bảo hiểm xã hội41/2024/QH15"
        "Cơ quan thực hiệnBảo hiểm xã hội cấp tỉnhYêu cầu, điều kiện thực hiệnKhông có thông tin"
        "Kết quả xử lýQuyết định hưởng trợ cấp"
    )
    record = _record(
        trinh_tu_thuc_hien="Bước 1. Lập hồ sơ theo mục 5.3 (",
        thanh_phan_ho_so="); nộp cho cơ quan BHXH.",
        raw_text=page,
    )
    parsed = parse_record(record)
    assert [d.name for d in parsed.procedure.documents] == ["Tờ khai đề nghị"]
    assert parsed.procedure.steps == [
        "Bước 1. Lập hồ sơ theo mục 5.3 (Thành phần hồ sơ); nộp cho cơ quan BHXH."
    ]
    assert any("thanh_phan_ho_so" in w and "raw_text" in w for w in parsed.warnings)


@pytest.mark.parametrize("value", [[], "1.001193", None, 5])
def test_a_record_that_is_not_an_object_is_refused(value):
    with pytest.raises(RecordError, match="đối tượng JSON"):
        parse_record(value)  # type: ignore[arg-type]


def test_a_record_without_a_code_is_refused_in_vietnamese():
    with pytest.raises(RecordError, match="thiếu mã thủ tục"):
        parse_record(_record(ma_thu_tuc="  "))
    with pytest.raises(RecordError, match="thiếu tên thủ tục"):
        parse_record({"ma_thu_tuc": "1.000001"})


def test_record_error_is_a_value_error():
    assert issubclass(RecordError, ValueError) and issubclass(CatalogueFileError, ValueError)


def test_summarize_counts_what_each_record_got():
    full = parse_record(_record())
    bare = parse_record({"ma_thu_tuc": "1.000002", "ten_thu_tuc": "Thủ tục trống"})
    counts = summarize([full, bare])
    assert counts["records"] == 2
    assert (counts["time"], counts["fee"], counts["documents"], counts["legal_basis"]) == (1, 1, 1, 1)
    assert counts["with_warnings"] == 1  # the bare record has no channels


def test_tidy_text_turns_no_information_into_empty():
    assert tidy_text(" Không có thông tin ") == "" and tidy_text(None) == ""


# --------------------------------------------------------------------------- files


def _write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_reported_and_reading_goes_on(tmp_path):
    path = _write_jsonl(
        tmp_path / "catalogue.jsonl",
        [
            json.dumps(_record(), ensure_ascii=False),
            "{not json",
            "",
            '["an", "array"]',
            json.dumps({"ten_thu_tuc": "Thủ tục không có mã"}, ensure_ascii=False),
            json.dumps(_record(ma_thu_tuc="1.000002"), ensure_ascii=False),
        ],
    )
    rows = list(read_records(path))
    assert [number for number, _ in rows] == [1, 2, 4, 5, 6]
    assert isinstance(rows[1][1], RecordError) and "dòng 2" in str(rows[1][1])
    assert isinstance(rows[2][1], RecordError) and "đối tượng JSON" in str(rows[2][1])
    no_code = rows[3][1]
    assert isinstance(no_code, dict)
    with pytest.raises(RecordError, match="thiếu mã thủ tục"):
        parse_record(no_code)
    good = [parse_record(r) for _, r in rows if isinstance(r, dict) and r.get("ma_thu_tuc")]
    assert [p.procedure.code for p in good] == ["1.000001", "1.000002"]


def test_a_json_list_a_json_object_and_gzip_are_all_read(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([_record(), 7], ensure_ascii=False), encoding="utf-8")
    rows = list(read_records(listed))
    assert rows[0] == (1, _record()) and isinstance(rows[1][1], RecordError)

    single = tmp_path / "one.json"
    single.write_text(json.dumps(_record(), ensure_ascii=False), encoding="utf-8")
    assert list(read_records(single)) == [(1, _record())]

    zipped = tmp_path / "catalogue.jsonl.gz"
    zipped.write_bytes(gzip.compress((json.dumps(_record(), ensure_ascii=False) + "\n").encode()))
    assert list(read_records(zipped)) == [(1, _record())]


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.json", "empty.jsonl.gz"])
def test_an_empty_file_is_refused_clearly(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"\n") if name.endswith(".gz") else b"  \n")
    with pytest.raises(CatalogueFileError, match="rỗng"):
        read_records(path)


def test_a_truncated_gzip_is_refused_before_any_record_is_yielded(tmp_path):
    lines = "".join(json.dumps(_record(ma_thu_tuc=f"1.{i:06d}")) + "\n" for i in range(500)).encode()
    whole = gzip.compress(lines)
    path = tmp_path / "catalogue.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CatalogueFileError, match="cắt cụt hoặc hỏng"):
        read_records(path)  # raised at the call: an importer writes nothing


def test_a_corrupt_gzip_is_refused(tmp_path):
    path = tmp_path / "catalogue.json.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(CatalogueFileError, match="tệp nén"):
        read_records(path)


def test_missing_unreadable_and_unknown_files_are_refused(tmp_path):
    with pytest.raises(CatalogueFileError, match="không tìm thấy"):
        read_records(tmp_path / "absent.jsonl")
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    with pytest.raises(CatalogueFileError, match="không đọc được"):
        read_records(folder)
    with pytest.raises(CatalogueFileError, match="định dạng"):
        read_records(tmp_path / "catalogue.csv")


def test_a_broken_json_document_is_refused_with_its_position(tmp_path):
    path = tmp_path / "catalogue.json"
    path.write_text('[{"ma_thu_tuc": "1.000001",', encoding="utf-8")
    with pytest.raises(CatalogueFileError, match="không phải JSON hợp lệ"):
        read_records(path)


# -------------------------------------------------------------- the real catalogue

_KIND = "Trực tiếp|Trực tuyến|Dịch vụ bưu chính"
_UNIT_TIME = re.compile(rf"({_KIND})(\d+(?:[.,]\d+)?) ?(Ngày làm việc|Ngày|Giờ|Tháng)")
_ANY_TIME = re.compile(rf"(?:{_KIND})\d")
_FEE_CELL = re.compile(
    rf"(?:{_KIND})(?:\d+(?:[.,]\d+)? ?(?:Ngày làm việc|Ngày|Giờ|Tháng)?|Không có thông tin)?"
    r"(Miễn phí|\d[\d.,]* ?(?:VNĐ|Việt Nam Đồng|Đồng|USD))"
)
_GROUPED_AMOUNT = re.compile(
    rf"({_KIND})\d+ ?(?:Ngày làm việc|Ngày|Giờ|Tháng)(\d{{1,3}}(?:,\d{{3}})+) ?(?:VNĐ|Việt Nam Đồng|Đồng)"
)
_COUNT = re.compile(r"\d bản (?:chính|sao)")
_UNREAD_COUNT = re.compile(r"(?<![\s\d(])\d bản (?:chính|sao)\W*$")  # "…đã được cấp1 bản chính."
_NUMBER = re.compile(r"\d+/\d{4}/[A-ZĐ]")
_LABELS = {
    "Trực tiếp": ChannelKind.IN_PERSON,
    "Trực tuyến": ChannelKind.ONLINE,
    "Dịch vụ bưu chính": ChannelKind.POST,
}


@pytest.fixture(scope="module")
def catalogue(shared_data: Path) -> dict[str, tuple[dict, ParsedRecord]]:
    path = shared_data / CATALOGUE
    if not path.exists():
        pytest.skip(f"{CATALOGUE} không có trong dữ liệu dùng chung: bỏ qua")
    started = time.perf_counter()
    parsed = {}
    for _, raw in read_records(path):
        assert isinstance(raw, dict), raw
        parsed[raw["ma_thu_tuc"]] = (raw, parse_record(raw))
    print(f"\nparsed {len(parsed)} records in {time.perf_counter() - started:.1f} s")
    return parsed


def _time_is_right(source: str, parsed: ParsedRecord) -> bool:
    """Every "<channel><N> <unit>" in the source is a parsed channel time; bare times give some time."""
    got = {(c.kind, c.time.value, c.time.unit.label) for c in parsed.procedure.channels if c.time}
    wanted = {(_LABELS[k], float(v.replace(",", ".")), u.lower()) for k, v, u in _UNIT_TIME.findall(source)}
    return bool(got) and wanted <= got


def _fee_is_right(source: str, parsed: ParsedRecord) -> bool:
    """Some channel has a known fee, and every plain "<N,NNN> VNĐ" amount cell is read exactly."""
    channels = parsed.procedure.channels
    known = [c for c in channels if c.fee and (c.fee.free or c.fee.amount is not None)]
    got = {(c.kind, c.fee.amount) for c in known if c.fee}
    wanted = {(_LABELS[k], int(a.replace(",", ""))) for k, a in _GROUPED_AMOUNT.findall(source)}
    return bool(known) and wanted <= got


def _documents_are_right(parsed: ParsedRecord) -> bool:
    documents = parsed.procedure.documents
    return bool(documents) and all(
        d.name.strip() and DOCS not in d.name and not _UNREAD_COUNT.search(d.name) for d in documents
    )


@pytest.mark.shared_data
@pytest.mark.slow
def test_whole_catalogue_parses_fast_and_covers_what_the_source_has(catalogue):
    totals = {"time": [0, 0], "fee": [0, 0], "documents": [0, 0], "legal_basis": [0, 0]}
    for raw, parsed in catalogue.values():
        channels_text = tidy_text(raw["cach_thuc_thuc_hien"])
        if _ANY_TIME.search(channels_text):  # a channel followed by a number
            totals["time"][0] += 1
            totals["time"][1] += _time_is_right(channels_text, parsed)
        if _FEE_CELL.search(channels_text):  # "Miễn phí" or an amount in a fee cell
            totals["fee"][0] += 1
            totals["fee"][1] += _fee_is_right(channels_text, parsed)
        if _COUNT.search(tidy_text(raw["thanh_phan_ho_so"])):  # "N bản chính/sao"
            totals["documents"][0] += 1
            totals["documents"][1] += _documents_are_right(parsed)
        legal_text = tidy_text(raw["can_cu_phap_ly"])
        if _NUMBER.search(legal_text):  # a number like 123/2015/NĐ-CP
            totals["legal_basis"][0] += 1
            numbers = [r.number for r in parsed.procedure.legal_basis]
            totals["legal_basis"][1] += bool(numbers) and all(n in legal_text for n in numbers)
    print(f"\ncoverage over {len(catalogue)} records (parsed right / source has it):")
    for key, (has, right) in totals.items():
        print(f"  {key:12s} {right:5d} / {has:5d} = {right / has:.1%}")
    print("  summary:", summarize(parsed for _, parsed in catalogue.values()))
    assert len(catalogue) == 2642
    for key in ("time", "fee", "documents"):
        has, right = totals[key]
        assert right / has >= 0.95, f"{key}: {right}/{has}"
    assert totals["legal_basis"][1] / totals["legal_basis"][0] >= 0.90


@pytest.mark.shared_data
@pytest.mark.slow
def test_full_catalogue_parse_is_quick(shared_data):
    path = shared_data / CATALOGUE
    if not path.exists():
        pytest.skip(f"{CATALOGUE} không có trong dữ liệu dùng chung: bỏ qua")
    started = time.perf_counter()
    count = sum(1 for _, raw in read_records(path) if isinstance(raw, dict) and parse_record(raw))
    assert count == 2642
    assert time.perf_counter() - started < 30


@pytest.mark.shared_data
def test_birth_registration_is_free_everywhere_and_asks_for_the_birth_certificate(catalogue):
    _, parsed = catalogue["1.001193"]
    procedure = parsed.procedure
    assert procedure.name == "Thủ tục đăng ký khai sinh" and procedure.levels == ["Cấp xã"]
    assert {c.kind for c in procedure.channels} == set(ChannelKind)
    assert all(c.fee is not None and c.fee.free for c in procedure.channels)
    assert any(
        d.name.startswith("Giấy chứng sinh") and "giấy cam đoan về việc sinh" in d.name
        for d in procedure.documents
    )
    numbers = {r.number for r in procedure.legal_basis}
    assert {"123/2015/NĐ-CP", "60/2014/QH13", "08/2025/TT-BTP", "106/2021/TT-BTC"} <= numbers
    assert procedure.result == "Giấy khai sinh"


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Đăng ký thường trú: "Trực tuyến7 Ngày làm việc10,000 Việt Nam Đồng(…)Trực tiếp7 Ngày làm việc20,000 …"
        ("1.004222", {ChannelKind.ONLINE: (7, 10_000), ChannelKind.IN_PERSON: (7, 20_000)}),
        # Tách hộ: "Trực tiếp5 Ngày làm việc10,000 …Trực tuyến5 Ngày làm việc5,000 …"
        ("1.010038", {ChannelKind.IN_PERSON: (5, 10_000), ChannelKind.ONLINE: (5, 5_000)}),
        # Đăng ký lại phương tiện thủy nội địa: "…2 Ngày làm việc70,000 VNĐ(70.000 đồng/Giấy chứng nhận)" ×3
        (
            "1.004002",
            {
                ChannelKind.ONLINE: (2, 70_000),
                ChannelKind.POST: (2, 70_000),
                ChannelKind.IN_PERSON: (2, 70_000),
            },
        ),
    ],
)
def test_named_records_have_their_working_days_and_fees(catalogue, code, expected):
    _, parsed = catalogue[code]
    got = {
        c.kind: (c.time.value, c.fee.amount)
        for c in parsed.procedure.channels
        if c.time and c.time.unit is TimeUnit.WORKING_DAY and c.fee
    }
    assert got == expected
    assert all(c.fee and c.fee.currency == "VND" and not c.fee.free for c in parsed.procedure.channels)


@pytest.mark.shared_data
def test_the_glued_time_and_amount_record_is_split_plausibly(catalogue):
    # 2.002044: "Trực tuyến1Miễn phí(Miễn lệ phí…)Dịch vụ bưu chính1100 VNĐ(…100.000 đồng/lần…)Trực tiếp1100,000 VNĐ(…)"
    _, parsed = catalogue["2.002044"]
    by_kind = {c.kind: c for c in parsed.procedure.channels}
    assert by_kind[ChannelKind.ONLINE].fee is not None and by_kind[ChannelKind.ONLINE].fee.free
    for kind in (ChannelKind.POST, ChannelKind.IN_PERSON):
        channel = by_kind[kind]
        assert channel.time is not None and (channel.time.value, channel.time.unit) == (
            1,
            TimeUnit.UNSPECIFIED,
        )
        assert channel.fee is not None and channel.fee.amount == 100_000
    assert any("dính liền" in w for w in parsed.warnings)


@pytest.mark.shared_data
def test_a_truncated_copy_of_the_real_catalogue_is_refused(shared_data, tmp_path):
    source = shared_data / CATALOGUE
    if not source.exists():
        pytest.skip(f"{CATALOGUE} không có trong dữ liệu dùng chung: bỏ qua")
    data = source.read_bytes()
    truncated = tmp_path / CATALOGUE
    truncated.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CatalogueFileError, match="cắt cụt hoặc hỏng"):
        read_records(truncated)
