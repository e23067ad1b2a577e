"""Naming a queue service in words: names, their parts, lĩnh vực and everyday names, without diacritics."""

from __future__ import annotations

import pytest

from motcua.queue.config import load_queue_config, queue_config_from_dict, service_phrases, services_named


@pytest.fixture(scope="module")
def phrases() -> dict[str, frozenset[str]]:
    config = load_queue_config()
    return {s.code: service_phrases(s.name, s.fields, s.aliases) for s in config.services}


def test_a_name_counts_whole_and_by_its_parts_folded():
    assert service_phrases("Cư trú, căn cước", ["Cấp, quản lý căn cước"], ["CCCD"]) == {
        "cu tru can cuoc", "cu tru", "can cuoc", "cap quan ly can cuoc", "cccd"}
    assert service_phrases("Hộ tịch", aliases=["ở"]) == {"ho tich"}  # too short to mean anything


@pytest.mark.parametrize("text, codes", [
    ("lấy số chứng thực", ["CT"]),
    ("LAY SO CHUNG THUC!!", ["CT"]),
    ("lay so ho tich", ["HT"]),
    ("cho tôi số thứ tự làm căn cước", ["CU"]),
    ("xin so cho quay tam tru", ["CU"]),
    ("lay so lam so do", ["DD"]),
    ("lấy số đăng ký hộ kinh doanh", ["KD"]),
    ("lấy số quầy tư pháp", ["HT", "CT"]),  # one word, two services: the citizen chooses
    ("cho tôi lấy số", []),
    ("tôi muốn chứng thựcx", []),  # whole words only
])
def test_the_demo_centre_services_named_in_a_message(phrases, text, codes):
    assert services_named(text, phrases) == codes


def test_a_phrase_inside_a_longer_phrase_of_another_service_does_not_count():
    phrases = {"KD": frozenset({"ho kinh doanh"}), "XX": frozenset({"kinh doanh"}), "HT": frozenset({"ho tich"})}
    assert services_named("lấy số hộ kinh doanh", phrases) == ["KD"]
    assert services_named("lấy số kinh doanh", phrases) == ["XX"]
    assert services_named("hộ tịch và kinh doanh", phrases) == ["XX", "HT"]  # the order of the services


def test_aliases_are_read_from_the_file_and_checked():
    config = load_queue_config()
    assert "sổ đỏ" in config.service("DD").aliases and config.service("ZZ") is None
    data = {"services": [{"code": "HT", "prefix": "A", "name": "Hộ tịch", "aliases": "khai sinh"}],
            "counters": [{"number": 1, "services": ["HT"]}]}
    with pytest.raises(ValueError, match="aliases"):
        queue_config_from_dict(data, "queue.yaml")
