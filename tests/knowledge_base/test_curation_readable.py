"""A history staff can read: «Lệ phí: Miễn phí → 15.000 đồng» with the field's label, not JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from knowledge_base.curation import EntityKind, Revision
from knowledge_base.curation.history import (
    describe_value,
    readable_changes,
    readable_revision,
    revision_lines,
)
from knowledge_base.schema import (
    ChannelKind,
    Fee,
    Procedure,
    ProcessingTime,
    RequiredDocument,
    SubmissionChannel,
)


def _birth(fee: Fee, **extra) -> dict:
    return Procedure(code="1.001193", name="Đăng ký khai sinh",
                     channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1), fee)],
                     documents=[RequiredDocument("Giấy chứng sinh")], **extra).to_dict()


def _revision(kind: EntityKind, before, after, version: int = 2) -> Revision:
    return Revision(7, kind, "1.001193", version, "canbo", "", datetime(2026, 3, 10, 2, 30, tzinfo=UTC), before, after)


def test_a_procedure_edit_reads_as_labelled_before_and_after_lines():
    before = _birth(Fee(free=True), aliases=["làm giấy khai sinh"])
    after = _birth(Fee(amount=15000), aliases=["làm giấy khai sinh", "giấy chào đời"], updated="2026-03-10")
    lines = [c["line"] for c in readable_changes(before, after)]
    assert lines == [
        "Cách nộp, thời hạn, lệ phí: Trực tiếp, 1 ngày làm việc, Miễn phí → Trực tiếp, 1 ngày làm việc, 15.000 đồng",
        "Tên gọi khác: thêm «giấy chào đời»",
        "Ngày cập nhật: (trống) → 10/03/2026",
    ]
    assert not any("{" in line or "_" in line for line in lines)  # no JSON, no field keys


def test_values_read_plainly_dates_in_vietnam_time_and_long_texts_cut():
    assert describe_value("2026-03-10T02:30:00+00:00") == "10/03/2026 09:30"
    assert describe_value("2026-03-10") == "10/03/2026"
    assert (describe_value(True), describe_value(None), describe_value(2642)) == ("Có", "(trống)", "2.642")
    long = readable_changes({"answer": "a"}, {"answer": "x " * 200})[0]["line"]
    assert long.startswith("Câu trả lời: a → x x") and long.endswith("…") and len(long) < 200


def test_revision_lines_say_what_was_done():
    assert revision_lines(_revision(EntityKind.PROCEDURE, None, _birth(Fee(free=True)), 1)) == [
        "Tạo mới: Đăng ký khai sinh"]
    assert revision_lines(_revision(EntityKind.SYNONYM, {"phrase": "giấy chào đời", "canonical": "khai sinh"}, None)) \
        == ["Đã xóa: giấy chào đời"]
    assert revision_lines(_revision(EntityKind.FAQ, {"question": "a"}, {"question": "a"})) == ["Không đổi nội dung"]
    body = readable_revision(_revision(EntityKind.SYNONYM, {"phrase": "a", "canonical": "b"},
                                       {"phrase": "a", "canonical": "c"}))
    assert body["lines"] == ["Tên gọi chuẩn: b → c"]
    assert body["readable"][0]["label"] == "Tên gọi chuẩn" and body["before"] == {"phrase": "a", "canonical": "b"}
