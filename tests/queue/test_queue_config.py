"""The queue configuration file: the demo centre loads, covers every procedure, and typos are named."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from knowledge_base.defaults import load_default_procedures
from motcua.db import session_scope
from motcua.queue.config import load_queue_config, queue_config_from_dict
from motcua.queue.models import QueueCounterService
from motcua.queue.service import QueueService, seed_queue


def test_the_demo_centre_has_services_counters_and_priorities():
    config = load_queue_config()
    assert config.timezone == "Asia/Ho_Chi_Minh"
    assert len({s.prefix for s in config.services}) == len(config.services) >= 5
    assert all(c.services for c in config.counters)
    assert {"khuyet_tat", "cao_tuoi", "mang_thai", "con_nho"} <= {p.code for p in config.priorities}
    assert config.anti_starvation >= 1 and config.default_service


def test_every_default_procedure_field_is_taken_by_exactly_one_service():
    config = load_queue_config()
    fields = {p.field for p in load_default_procedures() if p.field}
    for field in fields:
        takers = [s.code for s in config.services if field in s.fields]
        assert len(takers) == 1, f"lĩnh vực «{field}»: {takers}"


def test_each_service_is_served_by_at_least_one_counter():
    config = load_queue_config()
    served = {code for counter in config.counters for code in counter.services}
    assert served == {s.code for s in config.services}


@pytest.mark.parametrize("change, message", [
    ({"services": [{"code": "HT", "prefix": "AA", "name": "Hộ tịch"}]}, "prefix"),
    ({"services": [{"code": "HT", "prefix": "A", "name": "x"}, {"code": "CT", "prefix": "A", "name": "y"}]},
     "bị trùng"),
    ({"counters": [{"number": 1, "services": ["ZZ"]}]}, "ZZ"),
    ({"priorities": [{"code": "cao_tuoi", "name": "Người cao tuổi", "weight": 0}]}, "weight"),
    ({"timezone": "Asia/Hanoi_typo"}, "múi giờ"),
    ({"anti_starvation": 0}, "anti_starvation"),
    ({"servises": []}, "servises"),
])
def test_configuration_mistakes_are_reported_in_vietnamese_with_the_place(change, message):
    data = {"services": [{"code": "HT", "prefix": "A", "name": "Hộ tịch"}],
            "counters": [{"number": 1, "services": ["HT"]}], **change}
    with pytest.raises(ValueError, match=message) as error:
        queue_config_from_dict(data, "queue.yaml")
    assert str(error.value).startswith("queue.yaml")


def test_seeding_copies_the_file_once_and_keeps_staff_changes(database_url):
    config = load_queue_config()
    with session_scope(database_url) as session:
        assert seed_queue(session, config)
    with session_scope(database_url) as session:
        assert not seed_queue(session, config)
        service = QueueService(config)
        assert [s.code for s in service.services(session)] == [s.code for s in config.services]
        links = session.scalar(select(func.count()).select_from(QueueCounterService))
    assert links == sum(len(c.services) for c in config.counters)
    with session_scope(database_url) as session:
        assert QueueService(config).service_for_field(session, "hộ tịch").code == "HT"
