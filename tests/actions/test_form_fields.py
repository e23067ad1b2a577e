"""Which field a citizen names when correcting («sửa lại tên cháu»): labels, aliases, sections."""

from __future__ import annotations

import pytest

from knowledge_base.forms import FormDefinitionError, find_fields, load_form, load_forms

BIRTH = load_forms()["birth_registration"]


@pytest.mark.parametrize(("text", "expected"), [
    ("sửa lại tên cháu", ["birth_child_name"]),
    ("sua ten me", ["birth_mother_name"]),
    ("ngày sinh của mẹ bị sai", ["birth_mother_birth_date"]),
    ("ngay sinh chau sai", ["birth_child_birth_date"]),
    ("số căn cước của tôi nhầm", ["birth_requester_cccd"]),
    ("dân tộc của bố", ["birth_father_ethnicity"]),
    ("sửa nơi sinh", ["birth_child_birth_place"]),
    ("sdt sai roi", ["birth_requester_phone"]),
    ("ngày sinh sai rồi", ["birth_child_birth_date", "birth_mother_birth_date", "birth_father_birth_date"]),
    ("cảm ơn em", []),
])
def test_the_named_field_is_found_from_labels_aliases_and_section_words(text, expected):
    assert [f.name for f in find_fields(BIRTH, text)] == expected


def test_every_form_loads_with_its_aliases():
    forms = load_forms()
    assert len(forms) == 6
    assert "tên cháu" in BIRTH.field("birth_child_name").aliases
    assert "mẹ" in BIRTH.field("birth_mother_cccd").section_aliases


def test_aliases_must_be_a_list_of_words(tmp_path):
    text = (BIRTH.source.read_text(encoding="utf-8")
            .replace("aliases: [tên cháu, tên con, tên bé, tên em bé]", "aliases: [1, 2]"))
    path = tmp_path / "birth_registration.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="'aliases' must be a list of non-empty strings"):
        load_form(path)
