"""The fee a dossier owes: the catalogue's fee for its way of submission, the center's table first."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from knowledge_base.fee_table import DEFAULT_FEE_TABLE, load_fee_table, parse_fee_table
from knowledge_base.schema import ChannelKind, Procedure
from motcua.payments.fees import CATALOGUE, CENTER_TABLE, FeeUndetermined, form_date, quote_fee
from tests.dossiers.support import BIRTH, CERTIFY
from tests.payments.conftest import LATE_REBIRTH, WORDS_ONLY

TABLE = load_fee_table()
FILED = date(2026, 3, 10)
KNOWLEDGE_BASE = Path(DEFAULT_FEE_TABLE).parent


def quote(procedure: Procedure, kind=ChannelKind.IN_PERSON, table=TABLE, **values):
    return quote_fee(procedure, kind, values=values, filed_on=FILED, table=table)


def test_a_free_procedure_owes_nothing():
    fee = quote(BIRTH, birth_child_birth_date="2026-03-01")
    assert (fee.amount, fee.source) == (0, CATALOGUE)


def test_a_fee_the_catalogue_states_as_a_number_is_that_number():
    fee = quote(CERTIFY)
    assert (fee.amount, fee.source) == (2000, CATALOGUE)


def test_a_birth_registered_after_60_days_owes_the_centers_fee_for_its_way_of_submission():
    at_counter = quote(BIRTH, birth_child_birth_date="2026-01-08")  # 61 days before 10/03/2026
    online = quote(BIRTH, ChannelKind.ONLINE, birth_child_birth_date="2026-01-08")
    assert (at_counter.amount, at_counter.source) == (8000, CENTER_TABLE)
    assert online.amount == 4000
    assert "quá hạn" in at_counter.note and "Luật Hộ tịch" in at_counter.note


def test_on_the_60th_day_a_birth_is_still_in_time_and_free():
    assert quote(BIRTH, birth_child_birth_date="2026-01-09").amount == 0
    assert quote(BIRTH, birth_child_birth_date="09/01/2025").amount == 8000  # a year late, written d/m/y


def test_without_a_birth_date_the_catalogue_decides():
    assert quote(BIRTH).amount == 0 and quote(BIRTH, birth_child_birth_date="không nhớ").amount == 0


def test_a_fee_stated_only_in_words_comes_from_the_centers_table():
    fee = quote(LATE_REBIRTH)
    assert (fee.amount, fee.source) == (8000, CENTER_TABLE)


def test_a_fee_stated_only_in_words_and_missing_from_the_table_cannot_be_priced():
    with pytest.raises(FeeUndetermined) as caught:
        quote(WORDS_ONLY)
    message = str(caught.value)
    assert "1.009994" in message and "Hội đồng nhân dân tỉnh" in message and "fees.yaml" in message


def test_a_rule_of_the_centers_table_wins_over_a_catalogue_number():
    table = parse_fee_table({"fees": [{"procedure": CERTIFY.code, "name": "Chứng thực", "amount": 3000}]})
    assert quote(CERTIFY, table=table).amount == 3000


@pytest.mark.parametrize("text", ["2026-01-08", "08/01/2026", "8/1/2026", "2026-01-08T00:00:00"])
def test_form_dates_are_read_as_the_forms_store_them(text):
    assert form_date(text) == date(2026, 1, 8)


def test_the_default_table_names_real_procedures_and_real_form_fields():
    procedures = {}
    for path in (KNOWLEDGE_BASE / "procedures").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        procedures[str(data["code"])] = data
    fields = set()
    for path in (KNOWLEDGE_BASE / "forms").glob("*.yaml"):
        for section in yaml.safe_load(path.read_text(encoding="utf-8"))["sections"]:
            fields |= {f["name"] for f in section["fields"]}
    assert TABLE.rules
    for rule in TABLE.rules:
        assert rule.procedure in procedures, rule
        if rule.when_late:
            assert rule.when_late.field in fields, rule


@pytest.mark.parametrize(("item", "says"), [
    ({"procedure": "1.001193", "name": "x", "amount": -1}, "không âm"),
    ({"procedure": "1.001193", "name": "x", "amount": "8.000"}, "số đồng nguyên"),
    ({"procedure": "1.001193", "name": "x", "amount": 1, "amounts": {"online": 1}}, "cách nộp «online»"),
    ({"procedure": "1.001193", "name": "x", "amount": 1, "when": {}}, "không hiểu khóa when"),
    ({"procedure": "1.001193", "name": "x", "amount": 1, "when_late": {"days": 60}}, "when_late"),
    ({"name": "x", "amount": 1}, "thiếu mã thủ tục"),
])
def test_a_mistake_in_the_table_is_named_in_vietnamese(item, says):
    with pytest.raises(ValueError, match=says) as caught:
        parse_fee_table({"fees": [item]}, "fees.yaml")
    assert "fees.yaml, mục 1" in str(caught.value)


def test_two_rules_for_the_same_case_are_refused():
    rule = {"procedure": "1.001193", "name": "x", "amount": 1}
    with pytest.raises(ValueError, match="hai mục"):
        parse_fee_table({"fees": [rule, rule]})
