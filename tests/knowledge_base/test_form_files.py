"""A form file's layout is declared once; a mistake in it is named by file, section and field."""

from __future__ import annotations

import pytest
import yaml

from knowledge_base.forms import FormDefinitionError, load_form

FORM = {
    "id": "trial_form",
    "title": "Tờ khai thử",
    "procedures": ["1.001193"],
    "signers": [{"title": "NGƯỜI YÊU CẦU", "field": "trial_name"}],
    "sections": [
        {
            "title": "Người yêu cầu",
            "person": "requester",
            "fields": [
                {
                    "name": "trial_name",
                    "label": "Họ và tên",
                    "type": "name",
                    "prompt": "Xin cho biết họ tên?",
                },
                {"name": "trial_count", "label": "Số bản", "type": "number", "prompt": "Mấy bản?"},
            ],
        }
    ],
}


def _load(tmp_path, change=None):
    data = yaml.safe_load(yaml.safe_dump(FORM))
    if change:
        change(data)
    path = tmp_path / "trial_form.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_form(path)


def _field(data, index=0):
    return data["sections"][0]["fields"][index]


def test_texts_are_tidied_and_defaults_filled_in(tmp_path):
    form = _load(tmp_path, lambda d: _field(d).update(label="  Họ   và tên ", aliases="tên người yêu cầu"))
    name = form.field("trial_name")
    assert name.label == "Họ và tên" and name.aliases == ("tên người yêu cầu",)
    assert name.max_length == 100 and name.when == "any" and name.person == "requester"
    assert form.field("trial_count").max_length is None
    assert form.signers[0].field == "trial_name"


@pytest.mark.parametrize(
    ("change", "where", "what"),
    [
        (lambda d: d["sections"][0].update(colour=1), "sections[0]", "unknown key(s) ['colour']"),
        (lambda d: d["sections"][0].update(person="Mẹ"), "sections[0]", "person 'Mẹ' must be snake_case"),
        (lambda d: d["sections"][0].update(fields=[]), "sections[0]", "needs a non-empty list of fields"),
        (lambda d: _field(d).update(label=" "), "field 'trial_name'", "'label' is required"),
        (lambda d: _field(d).update(name="requested_slot"), "field 'requested_slot'", "reserved by Rasa"),
        (lambda d: _field(d).update(max_length=0), "field 'trial_name'", "'max_length' must be positive"),
        (lambda d: _field(d, 1).update(min_value=5, max_value=1), "field 'trial_count'", "greater than"),
        (lambda d: _field(d, 1).update(when="past"), "field 'trial_count'", "only for type date"),
        (lambda d: _field(d).update(unit="month"), "field 'trial_name'", "'unit' is only for type number"),
        (lambda d: _field(d, 1).update(unit="year"), "field 'trial_count'", "unit"),
        (lambda d: d.update(procedures=["1.1193"]), "procedures", "is not a procedure code"),
        (lambda d: d.update(title=7), "", "'title' must be a string, got int"),
        (lambda d: d.update(signers=[{"title": "X", "field": "trial_count"}]), "signers[0]", "of type name"),
    ],
)
def test_a_mistake_names_where_it_is(tmp_path, change, where, what):
    with pytest.raises(FormDefinitionError) as refused:
        _load(tmp_path, change)
    message = str(refused.value)
    assert "trial_form.yaml" in message and what in message
    assert f": {where}" in message if where else message.split(": ", 1)[1].startswith(what)
