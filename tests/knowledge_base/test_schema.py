"""The procedure schema: one declaration that builds, reads and refuses procedures."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from knowledge_base.schema import (
    ChannelKind,
    FaqEntry,
    Fee,
    InvalidProcedure,
    Procedure,
    ProcessingTime,
    RequiredDocument,
    SubmissionChannel,
    Synonym,
    TimeUnit,
    parse_procedure,
)


def _birth(**changes) -> dict:
    data = {
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        "channels": [{"kind": "truc_tiep", "time": {"value": 1}, "fee": {"free": True}}],
        "documents": [{"name": "Tờ khai đăng ký khai sinh", "copies": 1, "original": True}],
        "legal_basis": [{"number": "123/2015/NĐ-CP"}],
    }
    data.update(changes)
    return data


def test_a_mapping_becomes_a_procedure_with_typed_parts():
    procedure = parse_procedure(_birth(code="  1.001193 ", updated=date(2026, 11, 25)))
    channel = procedure.channels[0]
    assert procedure.code == "1.001193" and procedure.updated == "2026-11-25"
    assert channel.kind is ChannelKind.IN_PERSON
    assert channel.time == ProcessingTime(value=1.0, unit=TimeUnit.WORKING_DAY)
    assert channel.fee == Fee(free=True)
    assert procedure.documents == [
        RequiredDocument(name="Tờ khai đăng ký khai sinh", copies=1, original=True)
    ]


def test_what_to_dict_writes_from_dict_reads_back_unchanged():
    procedure = parse_procedure(_birth(aliases=["giấy khai sinh"], steps=["Nộp hồ sơ", "Nhận kết quả"]))
    assert Procedure.from_dict(procedure.to_dict()) == procedure


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d.update(name="  "), "name", "Tên thủ tục không được để trống"),
        (lambda d: d.pop("code"), "code", "Mã thủ tục không được để trống"),
        (lambda d: d.update(colour="xanh"), "colour", "Trường không có trong thủ tục: colour"),
        (lambda d: d.update(levels="Cấp xã"), "levels", "«levels» phải là một danh sách"),
        (lambda d: d["channels"][0].update(kind="qua_zalo"), "channels.1.kind", "«qua_zalo» không hợp lệ"),
        (lambda d: d["channels"][0].update(fee={"amount": 10.5}), "channels.1.fee.amount", "số đồng nguyên"),
        (lambda d: d["channels"][0].update(time={"value": -1}), "channels.1.time.value", "số không âm"),
        (
            lambda d: d["channels"][0].update(time={"value": 2, "unit": "tuan"}),
            "channels.1.time.unit",
            "tuan",
        ),
        (
            lambda d: d["channels"][0].update(note="x"),
            "channels.1.note",
            "Trường không có trong cách nộp thứ 1",
        ),
        (lambda d: d["documents"][0].update(copies=-1), "documents.1.copies", "«Tờ khai đăng ký khai sinh»"),
        (lambda d: d["documents"][0].update(original="có"), "documents.1.original", "true, false hoặc null"),
        (lambda d: d.update(legal_basis=[{"title": "Luật Hộ tịch"}]), "legal_basis.1.number", "số hiệu"),
    ],
)
def test_a_wrong_field_is_named_in_vietnamese(change, field, words):
    data = _birth()
    change(data)
    with pytest.raises(InvalidProcedure) as refused:
        parse_procedure(data)
    assert refused.value.problems[0].field == field
    assert words in str(refused.value)


def test_every_wrong_field_is_listed_unknown_fields_first():
    data = _birth(colour="xanh", name="")
    data["documents"][0]["copies"] = "hai"
    with pytest.raises(InvalidProcedure) as refused:
        parse_procedure(data)
    assert [p.field for p in refused.value.problems] == ["colour", "name", "documents.1.copies"]


def test_reading_a_stored_mapping_ignores_fields_it_no_longer_knows_but_still_checks_the_rest():
    assert Procedure.from_dict(_birth(retired_field=1)).code == "1.001193"
    with pytest.raises(ValueError, match="thủ tục 1.001193: Hình thức nộp «bay» không hợp lệ"):
        Procedure.from_dict(_birth(channels=[{"kind": "bay"}]))
    with pytest.raises(ValueError, match="thủ tục thiếu mã"):
        Procedure.from_dict(_birth(code=""))


def test_building_a_part_in_code_is_checked_too():
    with pytest.raises(ValueError):
        Fee(amount=-1)
    with pytest.raises(ValueError):
        SubmissionChannel(kind="qua_zalo")
    explained = RequiredDocument(name="Ghi chú: nộp bản sao có chứng thực", copies=0)  # the portal's wording
    assert explained.copies == 0
    assert dataclasses.replace(Fee(amount=1000), note="bản sao").amount == 1000


def test_a_synonym_and_a_faq_entry_are_declared_records_too():
    synonym = Synonym(" sổ đỏ ", "giấy chứng nhận quyền sử dụng đất")
    assert synonym == Synonym("sổ đỏ", "giấy chứng nhận quyền sử dụng đất")  # trimmed, compared by value
    assert {synonym: 1}[Synonym(phrase="sổ đỏ", canonical="giấy chứng nhận quyền sử dụng đất")] == 1
    entry = FaqEntry("Làm khai sinh mất bao lâu?", "Trong ngày.", ["1.001193"])
    assert entry.procedures == ("1.001193",)
    assert dataclasses.replace(entry, answer="Một ngày.").answer == "Một ngày."


@pytest.mark.parametrize("bad", [{"phrase": "", "canonical": "x"}, {"phrase": "  ", "canonical": "x"},
                                 {"phrase": 12, "canonical": "x"}, {"phrase": "x", "canonical": None},
                                 {"phrase": "x", "canonical": "y", "note": "z"}])
def test_a_synonym_refuses_blank_or_numeric_text_and_unknown_fields(bad):
    with pytest.raises(ValueError):
        Synonym(**bad)


def test_a_faq_entry_refuses_a_code_that_yaml_read_as_a_number():
    with pytest.raises(ValueError):
        FaqEntry("Hỏi?", "Đáp.", (2.00072,))  # «2.000720» unquoted: the zero is gone already
    with pytest.raises(ValueError):
        FaqEntry("Hỏi?", "")
