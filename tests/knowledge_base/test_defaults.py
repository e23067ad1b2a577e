"""The default knowledge base: it loads, it is complete enough, and it agrees with the catalogue."""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from knowledge_base.defaults import (
    PROCEDURES_DIR,
    find_gaps,
    load_center_info,
    load_default_procedures,
    load_faq,
    load_synonyms,
)
from knowledge_base.schema import ChannelKind

CODE_PATTERN = re.compile(r"\d\.\d{6}")


@pytest.fixture(scope="module")
def procedures():
    return load_default_procedures()


@pytest.fixture(scope="module")
def by_code(procedures):
    return {p.code: p for p in procedures}


@pytest.fixture(scope="module")
def catalogue(shared_data: Path) -> dict[str, dict]:
    path = shared_data / "dichvucong_procedures.jsonl.gz"
    if not path.exists():
        pytest.skip(f"không có danh mục thủ tục ở {path} (catalogue absent)")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = (json.loads(line) for line in handle if line.strip())
        return {r["ma_thu_tuc"]: r for r in records}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _nfc(text).casefold())


def _ascii_only(text: str) -> bool:
    return all(ord(ch) < 128 for ch in text)


# --- the files load and are complete ---------------------------------------------------


def test_all_default_files_load(procedures):
    assert procedures
    assert load_synonyms()
    assert load_faq()
    assert load_center_info().name


def test_at_least_32_procedures_with_unique_national_codes(procedures):
    codes = [p.code for p in procedures]
    assert len(codes) >= 32
    assert len(set(codes)) == len(codes)
    assert all(CODE_PATTERN.fullmatch(code) for code in codes), codes


def test_procedure_files_are_named_by_slug():
    names = [path.name for path in PROCEDURES_DIR.glob("*.yaml")]
    assert names
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.yaml", name), name


def test_every_procedure_has_time_fee_document_and_legal_basis(procedures):
    gaps = {p.code: find_gaps(p) for p in procedures}
    assert {code: g for code, g in gaps.items() if g} == {}


def test_every_procedure_is_marked_as_default_and_dated(procedures):
    for p in procedures:
        assert p.source == "default", p.code
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.updated), p.code
        assert p.levels and p.field and p.applicants and p.competent_agency, p.code
        assert p.steps and p.result, p.code


def test_citizens_find_each_procedure_by_everyday_names(procedures):
    for p in procedures:
        assert len(p.aliases) >= 3, p.code
        assert any(_ascii_only(alias) for alias in p.aliases), f"{p.code}: cần một cách gọi không dấu"
        lowered = [a.casefold() for a in p.aliases]
        assert len(set(lowered)) == len(lowered), f"{p.code}: cách gọi bị lặp"


def test_birth_registration_is_free_and_needs_the_birth_certificate(by_code):
    birth = by_code["1.001193"]
    assert {c.kind for c in birth.channels} >= {ChannelKind.IN_PERSON, ChannelKind.ONLINE}
    assert all(c.fee is not None and c.fee.free for c in birth.channels)
    assert any("giấy chứng sinh" in d.name.casefold() for d in birth.documents)
    assert "làm giấy khai sinh" in birth.aliases and "lam giay khai sinh" in birth.aliases


def test_related_codes_point_at_default_procedures(procedures, by_code):
    for p in procedures:
        assert p.code not in p.related, p.code
        assert [code for code in p.related if code not in by_code] == [], p.code


def test_synonyms_cover_the_words_citizens_use():
    synonyms = load_synonyms()
    assert len(synonyms) >= 40
    phrases = {s.phrase.casefold(): s.canonical for s in synonyms}
    assert len(phrases) == len(synonyms)
    assert "quyền sử dụng đất" in phrases["sổ đỏ"]
    assert "quyền sử dụng đất" in phrases["so do"]
    assert "thường trú" in phrases["hộ khẩu"]
    assert "căn cước" in phrases["cmnd"]
    assert "căn cước" in phrases["chứng minh thư"]
    assert "tạm trú" in phrases["kt3"]
    assert phrases["công chứng"] == "chứng thực"
    assert "khai sinh" in phrases["giấy ks"]
    assert "tình trạng hôn nhân" in phrases["giấy xác nhận độc thân"]


def test_faq_answers_point_at_default_procedures(by_code):
    faq = load_faq()
    assert len(faq) >= 20
    for entry in faq:
        assert entry.question.endswith("?"), entry.question
        assert entry.procedures, entry.question
        assert [code for code in entry.procedures if code not in by_code] == [], entry.question
    assert any("khai sinh" in e.question.casefold() and "tiền" in e.question.casefold() for e in faq)


# --- the demo centre -------------------------------------------------------------------


def test_demo_center_is_open_on_weekdays_and_saturday_morning():
    center = load_center_info()
    assert center.name == "Trung tâm Phục vụ hành chính công xã Demo"
    assert center.address and center.phone
    monday, saturday, sunday = datetime(2026, 11, 23), datetime(2026, 11, 28), datetime(2026, 11, 29)
    assert center.is_open(monday.replace(hour=7, minute=30))
    assert not center.is_open(monday.replace(hour=12))
    assert center.is_open(monday.replace(hour=16, minute=59))
    assert not center.is_open(monday.replace(hour=17))
    assert center.is_open(saturday.replace(hour=9))
    assert not center.is_open(saturday.replace(hour=14))
    assert not center.is_open(sunday.replace(hour=9))
    assert center.describe_hours() == ("Thứ Hai đến Thứ Sáu: 07:30–11:30, 13:30–17:00; Thứ Bảy: 07:30–11:30")


def test_center_card_gives_address_hours_and_phone():
    card = load_center_info().describe().splitlines()
    assert card[0] == "Trung tâm Phục vụ hành chính công xã Demo"
    assert card[1].startswith("Địa chỉ: ")
    assert card[2] == "Giờ làm việc: Thứ Hai đến Thứ Sáu: 07:30–11:30, 13:30–17:00; Thứ Bảy: 07:30–11:30"
    assert any(line.startswith("Điện thoại: ") for line in card)


def test_unquoted_opening_time_is_still_read_as_a_clock(tmp_path):
    path = tmp_path / "center.yaml"
    path.write_text(
        "name: Trung tâm\naddress: Xã A\nphone: '1'\n"
        "opening_hours:\n  - {days: [thu_hai], open: 07:30, close: 11:30}\n",
        encoding="utf-8",
    )
    center = load_center_info(path)
    assert center.is_open(datetime(2026, 11, 23, 8, 0))


# --- malformed files give clear errors ---------------------------------------------------


def _write_procedure(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
code: "1.001193"
name: Đăng ký khai sinh
channels:
  - kind: truc_tiep
    time: {value: 1, unit: ngay_lam_viec}
    fee: {free: true}
documents:
  - {name: Giấy chứng sinh, original: true}
legal_basis:
  - {number: 60/2014/QH13, title: Luật Hộ tịch}
"""


def test_a_good_file_in_another_folder_loads(tmp_path):
    _write_procedure(tmp_path / "p", "khai-sinh.yaml", GOOD)
    (procedure,) = load_default_procedures(tmp_path / "p")
    assert procedure.code == "1.001193"
    assert procedure.channels[0].fee.free


def test_broken_yaml_names_the_file_and_line(tmp_path):
    path = _write_procedure(tmp_path / "p", "hong.yaml", 'code: "1.001193"\nname: [chưa đóng ngoặc\n')
    with pytest.raises(ValueError, match=r"hong\.yaml: YAML không hợp lệ ở dòng \d+") as info:
        load_default_procedures(path.parent)
    assert "dấu nháy" in str(info.value)


def test_unquoted_colon_in_text_is_reported(tmp_path):
    text = GOOD + "conditions: Lưu ý: mang theo bản chính\n"
    _write_procedure(tmp_path / "p", "hai-cham.yaml", text)
    with pytest.raises(ValueError, match=r"hai-cham\.yaml: YAML không hợp lệ"):
        load_default_procedures(tmp_path / "p")


def test_unquoted_code_read_as_a_number_is_refused(tmp_path):
    _write_procedure(tmp_path / "p", "ma-so.yaml", GOOD.replace('"1.001193"', "2.000720"))
    with pytest.raises(ValueError, match=r"ma-so\.yaml, code: mã thủ tục phải đặt trong dấu nháy"):
        load_default_procedures(tmp_path / "p")


def test_comma_left_unquoted_in_a_flow_mapping_is_refused(tmp_path):
    text = GOOD.replace("title: Luật Hộ tịch", "title: Luật sửa đổi, bổ sung")
    _write_procedure(tmp_path / "p", "dau-phay.yaml", text)
    with pytest.raises(ValueError, match=r"dau-phay\.yaml: legal_basis mục 1: khóa lạ \['bổ sung'\]"):
        load_default_procedures(tmp_path / "p")


def test_misspelt_key_is_refused(tmp_path):
    _write_procedure(tmp_path / "p", "sai-khoa.yaml", GOOD.replace("documents:", "documets:"))
    with pytest.raises(ValueError, match=r"sai-khoa\.yaml: khóa lạ \['documets'\]"):
        load_default_procedures(tmp_path / "p")


def test_unknown_channel_kind_names_the_file(tmp_path):
    _write_procedure(tmp_path / "p", "kenh.yaml", GOOD.replace("truc_tiep", "qua_zalo"))
    with pytest.raises(ValueError, match=r"kenh\.yaml: .*qua_zalo"):
        load_default_procedures(tmp_path / "p")


def test_missing_name_names_the_file(tmp_path):
    _write_procedure(tmp_path / "p", "thieu-ten.yaml", GOOD.replace("name: Đăng ký khai sinh\n", ""))
    with pytest.raises(ValueError, match=r"thieu-ten\.yaml: thủ tục 1\.001193 thiếu tên"):
        load_default_procedures(tmp_path / "p")


def test_two_files_with_the_same_code_are_refused(tmp_path):
    _write_procedure(tmp_path / "p", "a.yaml", GOOD)
    _write_procedure(tmp_path / "p", "b.yaml", GOOD)
    with pytest.raises(ValueError, match=r"b\.yaml: mã thủ tục 1\.001193 trùng với tệp a\.yaml"):
        load_default_procedures(tmp_path / "p")


def test_missing_folder_is_reported(tmp_path):
    with pytest.raises(ValueError, match="không tìm thấy thư mục"):
        load_default_procedures(tmp_path / "khong-co")


def test_synonyms_must_be_a_list_without_repeats(tmp_path):
    path = tmp_path / "synonyms.yaml"
    path.write_text("sổ đỏ: giấy chứng nhận\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"synonyms\.yaml: tệp synonyms phải là một danh sách"):
        load_synonyms(path)
    path.write_text("- {phrase: sổ đỏ, canonical: a}\n- {phrase: SỔ ĐỎ, canonical: b}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"synonyms\.yaml: mục 2: cụm từ 'SỔ ĐỎ' bị lặp"):
        load_synonyms(path)


def test_faq_codes_must_be_quoted(tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text("- question: Hỏi gì?\n  answer: Đáp.\n  procedures: [2.000720]\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"faq\.yaml: câu hỏi 1, procedures: mã thủ tục phải đặt trong dấu nháy"
    ):
        load_faq(path)


def test_bad_opening_time_is_reported(tmp_path):
    path = tmp_path / "center.yaml"
    path.write_text(
        "name: A\naddress: B\nphone: '1'\nopening_hours:\n"
        "  - {days: [thu_hai], open: '7 giờ 30', close: '11:30'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"center\.yaml: opening_hours mục 1, open: giờ phải có dạng"):
        load_center_info(path)


def test_text_typed_in_decomposed_unicode_is_normalised(tmp_path):
    decomposed = unicodedata.normalize("NFD", GOOD)
    _write_procedure(tmp_path / "p", "nfd.yaml", decomposed)
    (procedure,) = load_default_procedures(tmp_path / "p")
    assert procedure.name == unicodedata.normalize("NFC", "Đăng ký khai sinh")


# --- agreement with the national catalogue (needs ../shared/data) ------------------------


@pytest.mark.shared_data
def test_every_code_is_in_the_national_catalogue_under_the_same_name(procedures, catalogue):
    problems = []
    for p in procedures:
        record = catalogue.get(p.code)
        if record is None:
            problems.append(f"{p.code}: không có trong danh mục")
            continue
        official = set(_words(record["ten_thu_tuc"]))
        ours = [w for w in _words(p.name) if w not in {"thủ", "tục"}]
        shared = sum(w in official for w in ours) / len(ours)
        if shared < 0.8:
            problems.append(f"{p.code}: '{p.name}' khác tên chính thức '{record['ten_thu_tuc']}'")
    assert problems == []


@pytest.mark.shared_data
def test_levels_and_field_match_the_catalogue(procedures, catalogue):
    for p in procedures:
        record = catalogue[p.code]
        official_levels = {_nfc(level) for level in record["cap_thuc_hien"].split(",")}
        assert set(p.levels) == official_levels, p.code
        assert p.field == _nfc(record["linh_vuc"]), p.code


@pytest.mark.shared_data
def test_texts_are_written_in_our_own_words(procedures, catalogue):
    """No run of 12 words in our citizen-facing text is copied from the catalogue page."""
    span = 12
    copied = []
    for p in procedures:
        source = " ".join(_words(catalogue[p.code]["raw_text"]))
        texts = [*p.steps, p.conditions, p.result, p.applicants]
        texts += [c.description for c in p.channels]
        texts += [c.time.note for c in p.channels if c.time] + [c.fee.note for c in p.channels if c.fee]
        texts += [d.note for d in p.documents]  # document names are official titles, kept as is
        for text in texts:
            words = _words(text)
            for start in range(len(words) - span + 1):
                run = " ".join(words[start : start + span])
                if run in source:
                    copied.append(f"{p.code}: …{run}…")
                    break
    assert copied == []
