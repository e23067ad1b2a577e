"""What the default forms ask follows the law: who may leave a part blank, what the registry looks up itself."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge_base.forms import load_forms, validate_field

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def forms():
    return load_forms()


def _section(form, title):
    fields = dict(form.sections).get(title)
    assert fields is not None, f"{form.id}: no section {title!r}"
    return fields


def test_the_mothers_part_of_a_birth_may_stay_blank(forms):
    """A child whose mother is not established is registered with that part blank (NĐ 123/2015 Điều 15 khoản 4)."""
    birth = forms["birth_registration"]
    mother = _section(birth, "Thông tin người mẹ")
    assert mother and all(not item.required for item in mother)
    assert validate_field(birth.field("birth_mother_name"), "không có", today=TODAY).value is None


def test_the_birth_form_asks_for_the_parents_marriage_certificate_to_look_it_up(forms):
    """The registry looks the parents' marriage up from the details in the declaration (Điều 3 khoản 5)."""
    birth = forms["birth_registration"]
    fields = _section(birth, "Giấy chứng nhận kết hôn của cha, mẹ")
    assert [item.name for item in fields] == [
        "birth_parents_marriage_number",
        "birth_parents_marriage_registry",
        "birth_parents_marriage_date",
    ]
    assert all(not item.required for item in fields)  # unmarried parents answer «không có»
    when = validate_field(birth.field("birth_parents_marriage_date"), "20/05/2023", today=TODAY)
    assert when.value == date(2023, 5, 20)
    assert not validate_field(birth.field("birth_parents_marriage_date"), "20/05/2027", today=TODAY).ok


def test_the_marital_status_form_asks_for_the_divorce_or_death_record_and_earlier_residences(forms):
    """NĐ 123/2015 Điều 22 khoản 2 (issuer, number, date of the record) and khoản 4 (earlier residences)."""
    form = forms["marital_status_confirmation"]
    names = form.field_names
    record = [
        "marital_previous_record_kind",
        "marital_previous_record_issuer",
        "marital_previous_record_number",
        "marital_previous_record_date",
    ]
    assert [name for name in names if name in record] == record
    assert "marital_previous_residences" in names
    assert names.index("marital_subject_status") < names.index(record[0])
    kind = form.field("marital_previous_record_kind")
    assert validate_field(kind, "quyết định ly hôn", today=TODAY).value == "Bản án hoặc quyết định ly hôn"
    assert validate_field(kind, "không có", today=TODAY).value is None  # never married: nothing to give


def test_permanent_residence_records_the_owners_and_a_parents_consent(forms):
    """Luật Cư trú Điều 21: the household head's or owner's consent; a parent's for a minor (khoản 8)."""
    form = forms["permanent_residence"]
    consent = form.field("permanent_owner_consent")
    assert consent.required and consent.type == "choice"
    assert not validate_field(consent, "", today=TODAY).ok
    assert (
        validate_field(consent, "đã có văn bản đồng ý riêng", today=TODAY).value
        == "Đã có văn bản đồng ý riêng"
    )
    guardian = form.field("permanent_guardian_name")
    assert not guardian.required  # an adult answers «không»
    assert validate_field(guardian, "không", today=TODAY).value is None
    assert [s.field for s in form.signers] == [
        "permanent_full_name",
        "permanent_head_name",
        "permanent_guardian_name",
    ]


def test_temporary_residence_records_a_parents_consent_for_a_minor(forms):
    """Luật Cư trú Điều 28 khoản 1 điểm a: a minor's form carries a parent's or guardian's consent."""
    form = forms["temporary_residence"]
    guardian = form.field("temporary_guardian_name")
    assert not guardian.required  # an adult answers «không»
    assert validate_field(guardian, "không", today=TODAY).value is None
    assert validate_field(guardian, "Trần Thị Mai", today=TODAY).value == "Trần Thị Mai"
    assert [s.field for s in form.signers] == ["temporary_full_name", "temporary_guardian_name"]


@pytest.mark.parametrize(
    ("answer", "ok"), [("24", True), ("6", True), ("25", False), ("36", False), ("0", False)]
)
def test_a_temporary_stay_is_at_most_two_years(forms, answer, ok):
    """Luật Cư trú Điều 27 khoản 2: thời hạn tạm trú tối đa là 02 năm."""
    months = forms["temporary_residence"].field("temporary_months")
    assert validate_field(months, answer, today=TODAY).ok is ok


@pytest.mark.parametrize(("answer", "value"), [
    ("2 năm", 24), ("2 nam", 24), ("hai năm", 24), ("1 năm 6 tháng", 18), ("một năm rưỡi", 18),
    ("24", 24), ("6 tháng", 6), ("tạm trú 2 năm", 24),
])
def test_a_stay_given_in_years_is_counted_in_months(forms, answer, value):
    """The question asks for months; «2 năm» is 24 months, never 2 (found by trying the form as a citizen)."""
    months = forms["temporary_residence"].field("temporary_months")
    assert validate_field(months, answer, today=TODAY).value == value


def test_a_stay_of_more_than_two_years_in_years_is_refused(forms):
    months = forms["temporary_residence"].field("temporary_months")
    assert not validate_field(months, "3 năm", today=TODAY).ok


@pytest.mark.parametrize(("answer", "value"), [
    ("1945", 1945),
    ("năm 1945", 1945),
    ("12/03/1945", date(1945, 3, 12)),
])
def test_a_death_is_declared_with_the_year_of_birth_alone_when_that_is_all_that_is_known(forms, answer, value):
    """A death registration records the deceased's «năm sinh» (NĐ 123/2015 Điều 4 khoản 2)."""
    death = forms["death_registration"]
    item = death.field("death_deceased_birth_date")
    result = validate_field(item, answer, today=TODAY)
    assert result.ok and result.value == value


def test_a_year_of_birth_still_in_the_future_is_refused_and_shown_as_typed(forms):
    from knowledge_base.forms import format_value

    item = forms["death_registration"].field("death_deceased_birth_date")
    assert not validate_field(item, "2031", today=TODAY).ok
    assert format_value(item, 1945) == "1945"
    assert format_value(item, date(1945, 3, 12)) == "12/03/1945"
