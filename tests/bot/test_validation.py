"""Requests that do not fit a route's model get a Vietnamese 422, with the details kept for developers."""

from __future__ import annotations

from typing import Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError, field_validator

from bot.app import create_app
from bot.validation import describe, field_name, vietnamese_message
from tests.bot.test_gateway import gateway_settings, migrated_sqlite  # noqa: F401  (fixture)


class _Form(BaseModel):
    score: int = Field(ge=1, le=5)
    name: str = Field(min_length=1, max_length=10)
    kind: Literal["answer", "service"] = "answer"
    tags: list[str] = []
    code: str = "1.000001"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not value[:1].isdigit():
            raise ValueError("mã thủ tục phải bắt đầu bằng chữ số")
        return value


def _errors(**data) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        _Form(**data)
    return caught.value.errors()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"score": 9, "name": "a"}, "Trường «score» không được lớn hơn 5."),
        ({"score": 0, "name": "a"}, "Trường «score» không được nhỏ hơn 1."),
        ({"score": "năm", "name": "a"}, "Trường «score» phải là một số nguyên."),
        ({"name": "a"}, "Thiếu trường «score»."),
        ({"score": 1, "name": ""}, "Trường «name» không được để trống."),
        ({"score": 1, "name": "a" * 11}, "Trường «name» dài quá 10 ký tự."),
        ({"score": 1, "name": "a", "kind": "khác"}, "Trường «kind» phải là một trong các giá trị: 'answer' hoặc 'service'."),
        ({"score": 1, "name": "a", "tags": "x"}, "Trường «tags» phải là một danh sách."),
        ({"score": 1, "name": "a", "tags": ["x", 3]}, "Trường «tags[1]» phải là văn bản."),
        ({"score": 1, "name": "a", "code": "x1"}, "Trường «code»: mã thủ tục phải bắt đầu bằng chữ số"),
    ],
)
def test_each_kind_of_error_reads_as_a_vietnamese_sentence(data, expected):
    (error,) = _errors(**data)
    assert vietnamese_message(error) == expected


def test_field_names_leave_out_the_request_part_and_show_list_positions():
    assert field_name(("body", "items", 0, "name")) == "items[0].name"
    assert field_name(("query", "q")) == "q"
    assert field_name(("body",)) == ""


def test_several_errors_make_one_detail_and_keep_pydantics_own_for_developers():
    body = describe(_errors(score=9, name=""))
    assert body["detail"] == (
        "Dữ liệu gửi lên chưa đúng: Trường «score» không được lớn hơn 5. Trường «name» không được để trống."
    )
    assert [(e["field"], e["type"]) for e in body["errors"]] == [
        ("score", "less_than_equal"), ("name", "string_too_short")]
    assert all(e["msg"] for e in body["errors"])


def test_the_gateway_answers_bad_requests_in_vietnamese(tmp_path, migrated_sqlite):  # noqa: F811
    with TestClient(create_app(gateway_settings(tmp_path, "http://127.0.0.1:9"))) as client:
        too_high = client.post("/api/v1/ratings", json={"kind": "service", "score": 9})
        not_json = client.post("/api/v1/ratings", content=b"{score: 9", headers={"Content-Type": "application/json"})
        no_text = client.post("/api/v1/messages", json={"sender": "x"})
    assert too_high.status_code == 422
    assert too_high.json()["detail"] == "Dữ liệu gửi lên chưa đúng: Trường «score» không được lớn hơn 5."
    assert too_high.json()["errors"][0]["type"] == "less_than_equal"
    assert not_json.status_code == 422
    assert not_json.json()["detail"] == "Dữ liệu gửi lên chưa đúng: Nội dung gửi lên không phải JSON hợp lệ."
    assert no_text.status_code == 422 and "Thiếu trường «text»." in no_text.json()["detail"]
