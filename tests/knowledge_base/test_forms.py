"""Form definitions as data: loading, checking, and validating one answer per field."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import date

import pytest

from knowledge_base.forms import (
    FIELD_TYPES,
    VALIDATORS,
    FormDefinitionError,
    format_value,
    load_form,
    load_forms,
    proposed_value,
    validate_field,
    values_from_card,
)
from knowledge_base.messages import render
from motcua.identity import parse_cccd_qr

TODAY = date(2026, 11, 25)
EXPECTED_FORMS = {
    "birth_registration": ("1.001193",),
    "death_registration": ("1.000656",),
    "marriage_registration": ("1.000894",),
    "marital_status_confirmation": ("1.004873",),
    "permanent_residence": ("1.004222",),
    "temporary_residence": ("1.004194",),
}
# A valid answer for every field type, as a citizen would type it.
SAMPLE_ANSWERS = {
    "text": "Kinh",
    "name": "nguyễn văn an",
    "date": "20/11/2026",
    "birth_date": "15/03/1990",
    "birth_date_or_year": "1945",
    "cccd": "001 090 012345",
    "phone": "0912 345 678",
    "address": "Thôn Đông, xã Tân Lập, tỉnh Phú Thọ",
    "number": "1",
}


@pytest.fixture(scope="module")
def forms():
    return load_forms()


def test_all_forms_load_with_their_procedure_codes(forms):
    assert {form_id: form.procedures for form_id, form in forms.items()} == EXPECTED_FORMS


def test_every_field_type_has_a_validator():
    assert set(VALIDATORS) == set(FIELD_TYPES)


def test_field_names_are_unique_across_forms(forms):
    names = [name for form in forms.values() for name in form.field_names]
    assert len(names) == len(set(names))


def test_every_field_accepts_a_typical_answer(forms):
    for form in forms.values():
        for item in form.fields:
            raw = item.choices[0] if item.type == "choice" else SAMPLE_ANSWERS[item.type]
            if item.type == "date" and item.when == "future":
                raw = "31/12/2027"
            if item.type == "date" and item.when == "past":
                raw = "01/11/2026"
            result = validate_field(item, raw, {}, today=TODAY)
            assert result.ok, (form.id, item.name, result.reason)
            assert result.value is not None


def test_every_form_asks_in_vietnamese_and_has_a_signer(forms):
    for form in forms.values():
        assert form.signers, form.id
        for item in form.fields:
            assert item.prompt.endswith(("?", ".", ")")), (form.id, item.name)


def test_birth_registration_follows_the_declaration_order(forms):
    form = forms["birth_registration"]
    assert [title for title, _ in form.sections] == [
        "Người yêu cầu đăng ký khai sinh",
        "Người được khai sinh",
        "Thông tin người mẹ",
        "Thông tin người cha",
        "Giấy chứng nhận kết hôn của cha, mẹ",
    ]
    assert form.field_names[:4] == [
        "birth_requester_name",
        "birth_requester_address",
        "birth_requester_cccd",
        "birth_requester_relationship",
    ]
    assert form.field("birth_child_sex").choices == ("Nam", "Nữ")
    assert not form.field("birth_father_name").required


def test_cccd_is_checked_against_the_same_persons_birth_date(forms):
    form = forms["permanent_residence"]
    item = form.field("permanent_cccd")
    assert item.birth_date_field == "permanent_birth_date"
    ok = validate_field(item, "001090012345", {"permanent_birth_date": date(1990, 3, 15)}, today=TODAY)
    assert ok.value == "001090012345"
    iso = validate_field(item, "001090012345", {"permanent_birth_date": "1990-03-15"}, today=TODAY)
    assert iso.ok
    bad = validate_field(item, "001090012345", {"permanent_birth_date": "1991-03-15"}, today=TODAY)
    assert not bad.ok and "1990" in bad.reason


def test_required_field_left_empty_repeats_the_question(forms):
    item = forms["birth_registration"].field("birth_child_name")
    result = validate_field(item, "  ", {}, today=TODAY)
    assert not result.ok and item.prompt in result.reason
    assert result.reason == render("validate.required", label=item.label, prompt=item.prompt)


def test_optional_field_can_be_skipped(forms):
    item = forms["birth_registration"].field("birth_father_name")
    assert validate_field(item, "không có", {}, today=TODAY) == validate_field(item, "", {}, today=TODAY)
    assert validate_field(item, "không có", {}, today=TODAY).ok
    assert validate_field(item, "không có", {}, today=TODAY).value is None


def test_invalid_answers_get_vietnamese_reasons(forms):
    form = forms["birth_registration"]
    assert (
        "không có thật"
        in validate_field(form.field("birth_child_birth_date"), "31/02/2026", today=TODAY).reason
    )
    assert (
        "chưa tới" in validate_field(form.field("birth_child_birth_date"), "01/01/2027", today=TODAY).reason
    )
    assert "Nam, Nữ" in validate_field(form.field("birth_child_sex"), "không rõ", today=TODAY).reason
    death = forms["death_registration"]
    assert "chưa tới" in validate_field(death.field("death_date"), "01/01/2027", today=TODAY).reason


def test_format_value_shows_dates_the_vietnamese_way(forms):
    item = forms["birth_registration"].field("birth_child_birth_date")
    assert format_value(item, date(2026, 3, 5)) == "05/03/2026"
    assert format_value(item, "2026-03-05") == "05/03/2026"
    assert format_value(item, None) == ""


def test_values_from_card_fill_one_persons_fields(forms):
    card = parse_cccd_qr(
        "001090012345||nguyễn văn an|15031990|Nam|Số 12 Hàng Bạc, Hà Nội|20042021", today=TODAY
    )
    values = values_from_card(forms["permanent_residence"], card)
    assert values == {
        "permanent_full_name": "Nguyễn Văn An",
        "permanent_birth_date": date(1990, 3, 15),
        "permanent_sex": "Nam",
        "permanent_cccd": "001090012345",
    }
    groom = values_from_card(forms["marriage_registration"], card, person="groom")
    assert groom["marriage_groom_address"] == "Số 12 Hàng Bạc, Hà Nội"
    with pytest.raises(ValueError, match="several persons"):
        values_from_card(forms["marriage_registration"], card)


GOOD_FORM = """\
id: {id}
title: Tờ khai thử
procedures: ["1.001193"]
sections:
  - title: Người yêu cầu
    fields:
      - name: {field}
        label: Họ và tên
        type: {type}
        prompt: Xin cho biết họ tên?
"""


def _write(tmp_path, form_id="trial_form", field="trial_name", type_="name", text=None):
    path = tmp_path / f"{form_id}.yaml"
    path.write_text(text or GOOD_FORM.format(id=form_id, field=field, type=type_), encoding="utf-8")
    return path


def test_a_minimal_form_loads(tmp_path):
    form = load_form(_write(tmp_path))
    assert form.field("trial_name").type == "name"


def test_unknown_field_type_names_file_and_field(tmp_path):
    path = _write(tmp_path, type_="email")
    with pytest.raises(FormDefinitionError) as info:
        load_form(path)
    assert str(path) in str(info.value) and "trial_name" in str(info.value) and "email" in str(info.value)


def test_field_name_that_is_not_slot_safe_is_refused(tmp_path):
    with pytest.raises(FormDefinitionError, match="snake_case"):
        load_form(_write(tmp_path, field="Họ-tên"))


def test_choice_without_choices_is_refused(tmp_path):
    with pytest.raises(FormDefinitionError, match="trial_name.*choices"):
        load_form(_write(tmp_path, type_="choice"))


def test_misspelt_key_is_refused(tmp_path):
    text = GOOD_FORM.format(id="trial_form", field="trial_name", type="name") + "        requird: false\n"
    with pytest.raises(FormDefinitionError, match="unknown key.*requird"):
        load_form(_write(tmp_path, text=text))


def test_incompatible_cccd_field_is_refused(tmp_path):
    text = (
        GOOD_FORM.format(id="trial_form", field="trial_name", type="phone")
        + "        cccd_field: full_name\n"
    )
    with pytest.raises(FormDefinitionError, match="cannot fill"):
        load_form(_write(tmp_path, text=text))


def test_id_must_match_the_file_name(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text(GOOD_FORM.format(id="trial_form", field="trial_name", type="name"), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="file name"):
        load_form(path)


def test_duplicate_field_across_forms_is_refused(tmp_path):
    _write(tmp_path, form_id="first_form", field="shared_name")
    _write(tmp_path, form_id="second_form", field="shared_name")
    with pytest.raises(FormDefinitionError, match="second_form.yaml.*shared_name.*first_form"):
        load_forms(tmp_path)


def test_unquoted_procedure_code_is_refused(tmp_path):
    text = GOOD_FORM.format(id="trial_form", field="trial_name", type="name").replace(
        '["1.001193"]', "[1.001193]"
    )
    with pytest.raises(FormDefinitionError, match="procedures"):
        load_form(_write(tmp_path, text=text))


@pytest.mark.shared_data
def test_procedure_codes_exist_at_commune_level_in_the_national_catalogue(forms, shared_data):
    path = shared_data / "dichvucong_procedures.jsonl.gz"
    if not path.exists():
        pytest.skip(f"{path} absent")
    levels = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            levels[record["ma_thu_tuc"]] = record["cap_thuc_hien"]
    for form in forms.values():
        for code in form.procedures:
            assert code in levels, (form.id, code)
            assert "Cấp xã" in levels[code], (form.id, code)


def test_forms_and_business_rules_import_without_any_framework():
    code = (
        "import sys, knowledge_base.forms, motcua.identity, motcua.validators, motcua.workdays, "
        "motcua.dossier_code, motcua.declaration; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'rasa', 'rasa_sdk', 'sqlalchemy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- checks across fields -----------------------------------------------------------------------


def test_a_parents_birth_date_must_be_twelve_years_before_the_childs(forms):
    form = forms["birth_registration"]
    mother, child = form.field("birth_mother_birth_date"), form.field("birth_child_birth_date")
    known = {"birth_child_birth_date": "2024-03-15"}
    for day in ("15/03/2024", "16/03/2024", "16/03/2012"):
        refused = validate_field(mother, day, known, today=TODAY)
        assert not refused.ok and "Thông tin người mẹ" in refused.reason and "Người được khai sinh" in refused.reason
    assert validate_field(mother, "15/03/2012", known, today=TODAY).ok  # twelve years to the day
    # the child's date corrected after the parents' is checked against them too
    father = {"birth_father_birth_date": "2020-01-01"}
    assert not validate_field(child, "15/03/2024", father, today=TODAY).ok
    assert validate_field(child, "15/03/2024", {}, today=TODAY).ok


def test_a_death_date_is_not_before_the_birth_even_a_year_alone(forms):
    form = forms["death_registration"]
    died, born = form.field("death_date"), form.field("death_deceased_birth_date")
    assert not validate_field(died, "31/12/1949", {"death_deceased_birth_date": 1950}, today=TODAY).ok
    assert validate_field(died, "01/01/1950", {"death_deceased_birth_date": 1950}, today=TODAY).ok
    refused = validate_field(born, "1990", {"death_date": "1989-12-31"}, today=TODAY)
    assert refused.reason == render("validate.dates_in_order", later="Ngày mất (Người đã mất)",
                                    later_date="31/12/1989", earlier="Ngày, tháng, năm sinh (Người đã mất)",
                                    earlier_date="1990")
    assert validate_field(born, "1989", {"death_date": "1989-12-31"}, today=TODAY).ok


def test_fields_of_different_persons_without_a_rule_are_not_compared(forms):
    form = forms["marriage_registration"]
    assert all(not f.date_checks for f in form.fields)


# --- values typed without diacritics ----------------------------------------------------------------


def test_a_list_valued_text_field_takes_the_lists_form(forms):
    form = forms["birth_registration"]
    assert validate_field(form.field("birth_child_ethnicity"), "e de", {}, today=TODAY).value == "Ê Đê"
    assert validate_field(form.field("birth_child_nationality"), "viet nam", {}, today=TODAY).value == "Việt Nam"
    assert validate_field(form.field("birth_child_ethnicity"), "Xơ Teng", {}, today=TODAY).value == "Xơ Teng"


def test_the_accented_form_is_proposed_only_for_unaccented_free_text(forms):
    form = forms["birth_registration"]
    name = form.field("birth_child_name")
    assert proposed_value(name, "Nguyen Minh An") == "Nguyễn Minh An"
    assert proposed_value(name, "Nguyễn Minh An") is None
    assert proposed_value(form.field("birth_child_sex"), "Nu") is None
    assert proposed_value(form.field("birth_requester_phone"), "0912345678") is None
    assert proposed_value(form.field("birth_child_ethnicity"), "Kinh") is None
