"""Every answer reads cleanly on every channel: the 47 default procedures and 50 catalogue ones.

For each procedure and each answer type, on the kiosk screen, Zalo and Telegram: no bare number
(«: 1.»), no double stop, no empty section, a document count that agrees with its list, no
«Thủ tục» prefix in a name, every page within the channel's limit, the pages together the whole
answer cut between words, and a «Xem thêm» button on every page but the last.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import ActionAnswer
from actions.answers import KIOSK_SCREEN, AnswerRef, Aspect, answer, body_lines, say
from channels.registry import kinds
from knowledge_base.defaults import load_default_procedures
from knowledge_base.schema import Procedure
from tests.actions.fakes import BIRTH, FakeKnowledge, tracker

CATALOGUE = Path(__file__).resolve().parents[3] / "shared" / "data" / "dichvucong_procedures.jsonl.gz"
ASPECTS = [Aspect.OVERVIEW, Aspect.DOCUMENTS, Aspect.FEE, Aspect.TIME, Aspect.SUBMISSION, Aspect.STEPS,
           Aspect.LEGAL_BASIS]
LIMITS = {"kiosk": KIOSK_SCREEN.max_text, "zalo": kinds()["zalo"].capabilities.max_text,
          "telegram": kinds()["telegram"].capabilities.max_text}
SEED, SAMPLE = 19, 50

_BARE_NUMBER = re.compile(r"(?:^|[:«(]\s*)\d+(?:[.,]\d+)?\s*[.»)]?\s*$")
_DOUBLE_STOP = re.compile(r"\.\s*\.")
_COUNTS = re.compile(r"(\d+) giấy tờ")


def _catalogue_sample() -> list[Procedure]:
    if not CATALOGUE.exists():
        pytest.skip(f"the national catalogue is not here ({CATALOGUE}): ../shared/data is absent")
    from knowledge_base.dichvucong import parse_record

    with gzip.open(CATALOGUE, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    return [parse_record(r).procedure for r in random.Random(SEED).sample(records, SAMPLE)]


def _check_pages(procedure: Procedure, aspect: str, limit: int) -> list[str]:
    """Every page of one answer, checked against the limit and against each other."""
    first = answer(procedure, aspect, limit=limit)
    pages = [first] + [answer(procedure, aspect, limit=limit, part=n) for n in range(2, first.pages + 1)]
    source = first.text.rsplit("\n", 1)[1]
    for number, page in enumerate(pages, start=1):
        assert len(page.text) <= limit, (procedure.code, aspect, limit, number)
        more = [b for b in page.buttons if b["title"] == say("more")]
        if number < len(pages):
            entity = re.search(r'"procedure_code": "([^"]+)"', more[0]["payload"])[1]
            assert AnswerRef.parse(entity) == AnswerRef(procedure.code, aspect, number + 1)
        else:
            assert not more, (procedure.code, aspect, number)
        assert page.text.endswith(source)
    bodies = [page.text[: -len(source) - 1] for page in pages]
    whole = "\n".join(body_lines(procedure, aspect))
    assert " ".join(bodies).split() == whole.split(), "pages cut inside a word or lost text"
    return bodies


def _check_text(procedure: Procedure, aspect: str) -> None:
    lines = body_lines(procedure, aspect)
    text = "\n".join(lines)
    where = (procedure.code, aspect)
    assert not _DOUBLE_STOP.search(text), (where, _DOUBLE_STOP.search(text))
    assert "«Thủ tục" not in text and "«thủ tục" not in text, where
    for index, line in enumerate(lines):
        assert not _BARE_NUMBER.search(line), (where, line)
        if line.endswith(":"):  # a heading: something follows it
            assert index + 1 < len(lines) and lines[index + 1].lstrip().startswith(("•", "–")), (where, line)
    if aspect == Aspect.DOCUMENTS:
        bullets = sum(line.startswith("• ") for line in lines)
        said = [int(n) for n in _COUNTS.findall(lines[0])]
        assert not said or sum(said) == bullets, (where, lines[0], bullets)
        for index, line in enumerate(lines):
            group = re.fullmatch(r".+ \((\d+)\):", line)
            if group:
                following = 0
                for item in lines[index + 1:]:
                    if not item.startswith("• "):
                        break
                    following += 1
                assert following == int(group[1]), (where, line)
    if aspect == Aspect.OVERVIEW:
        documents = sum(line.startswith("• ") for line in body_lines(procedure, Aspect.DOCUMENTS))
        said = [int(n) for line in lines if line.startswith("Hồ sơ cần") for n in _COUNTS.findall(line)]
        assert not said or sum(said) == documents, (where, said, documents)


def _check(procedures: list[Procedure]) -> None:
    for procedure in procedures:
        for aspect in ASPECTS:
            _check_text(procedure, aspect)
            for limit in LIMITS.values():
                _check_pages(procedure, aspect, limit)


def test_the_47_default_procedures_read_cleanly_on_every_channel():
    procedures = load_default_procedures()
    assert len(procedures) == 47
    _check(procedures)


def test_a_paper_needed_only_in_some_cases_is_not_listed_as_required():
    """«Văn bản ủy quyền (khi nhờ người khác đi thay)» is for some citizens only: under «Tùy trường hợp»."""
    birth = next(p for p in load_default_procedures() if p.code == "1.001193")
    text = "\n".join(body_lines(birth, Aspect.DOCUMENTS))
    required, optional = text.split(say("documents_optional", count=4))
    for conditional in ("Văn bản ủy quyền", "Biên bản về việc trẻ bị bỏ rơi", "mang thai hộ",
                        "Giấy tờ chứng minh nơi cư trú"):
        assert conditional in optional and conditional not in required, conditional
    assert "Giấy chứng sinh" in required and "Giấy chứng sinh" not in optional


def test_50_catalogue_procedures_read_cleanly_on_every_channel():
    _check(_catalogue_sample())


GARBLED_BIRTH = Procedure(
    code="1.001193", name="Thủ tục đăng ký khai sinh", source="dichvucong",
    steps=["- Nếu lựa chọn hình thức nộp hồ sơ trực tiếp, người yêu cầu nộp hồ sơ đăng ký khai tâm Phục vụ "
           "hành chính công có thẩm quyền.",
           "Người yêu cầu cung cấp thông tin theo mẫu, hoàn tất việc sinh tại Trung",
           "nộp hồ sơ.",
           "- Cán bộ tiếp nhận hồ sơ kiểm tra tính đầy đủ của hồ sơ."],
    receiving_agency="Ủy ban Nhân dân xã, phường, thị trấn..",
)


def test_garbled_spans_are_left_out_of_the_short_answer_and_marked_in_the_detail():
    short = answer(GARBLED_BIRTH, Aspect.STEPS).text
    assert "khai tâm" not in short and "tại Trung\n" not in short and "\n• Nộp hồ sơ." not in short
    assert "Cán bộ tiếp nhận hồ sơ kiểm tra tính đầy đủ của hồ sơ." in short
    assert say("steps_garbled") in short
    detail = answer(GARBLED_BIRTH, Aspect.STEPS, portal=True).text
    assert "khai tâm" in detail and say("steps_garbled_mark") in detail


def test_a_catalogue_name_place_and_time_read_for_people():
    from knowledge_base.schema import ChannelKind, Fee, ProcessingTime, SubmissionChannel, TimeUnit

    procedure = Procedure(
        code=GARBLED_BIRTH.code, name=GARBLED_BIRTH.name, source="dichvucong",
        receiving_agency=GARBLED_BIRTH.receiving_agency,
        channels=[SubmissionChannel(ChannelKind.ONLINE, ProcessingTime(1, TimeUnit.UNSPECIFIED), Fee(free=True))])
    overview = answer(procedure, Aspect.OVERVIEW).text
    assert "Thủ tục «Đăng ký khai sinh»." in overview
    assert "Nơi giải quyết: Ủy ban Nhân dân xã, phường, thị trấn.\n" in overview
    assert "»: 1." not in overview and say("time_no_unit") in overview
    assert "Cổng Dịch vụ công quốc gia" in overview.rsplit("\n", 1)[1]  # the source is shown


async def test_the_portal_detail_is_a_button_away_with_its_source():
    catalogue = Procedure(code=BIRTH.code, name="Thủ tục đăng ký khai sinh", source="dichvucong",
                          steps=["Nộp hồ sơ tại Trung tâm Phục vụ hành chính công."])
    knowledge = FakeKnowledge([BIRTH], catalogue=[catalogue])
    dispatcher = CollectingDispatcher()
    await ActionAnswer(knowledge).run(dispatcher, tracker("làm giấy khai sinh cần giấy tờ gì", "ask_documents"), {})
    first = dispatcher.messages[0]
    assert first["text"] == answer(BIRTH, Aspect.DOCUMENTS).text  # the centre's words
    button = next(b for b in first["buttons"] if b["title"] == say("portal_button"))
    entity = re.search(r'"procedure_code": "([^"]+)"', button["payload"])[1]
    dispatcher = CollectingDispatcher()
    tapped = tracker(button["payload"], "ask_procedure",
                     entities=[{"entity": "procedure_code", "value": entity}])
    await ActionAnswer(knowledge).run(dispatcher, tapped, {})
    detail = dispatcher.messages[0]["text"]
    assert detail.startswith(say("portal_intro"))
    assert detail.endswith("(Nguồn: Cổng Dịch vụ công quốc gia, thủ tục 1.001193 — Đăng ký khai sinh)")


async def test_xem_them_continues_a_long_answer_on_the_citizens_channel():
    long = Procedure(code="9.000001", name="Thủ tục dài", steps=[f"Bước số {i} có nhiều chữ để đọc." * 5
                                                                 for i in range(1, 60)])
    knowledge = FakeKnowledge([long])
    seen: list[str] = []
    entities = [{"entity": "procedure_code", "value": AnswerRef(long.code, Aspect.STEPS).entity()}]
    for _ in range(40):
        dispatcher = CollectingDispatcher()
        message = tracker("/ask_procedure", "ask_procedure", entities=entities)
        message.latest_message["metadata"] = {"channel": "zalo"}
        await ActionAnswer(knowledge).run(dispatcher, message, {})
        reply = dispatcher.messages[0]
        assert len(reply["text"]) <= LIMITS["zalo"]
        seen.append(reply["text"])
        more = [b for b in reply["buttons"] if b["title"] == say("more")]
        if not more:
            break
        entities = [{"entity": "procedure_code",
                     "value": re.search(r'"procedure_code": "([^"]+)"', more[0]["payload"])[1]}]
    assert len(seen) > 1 and "Bước số 59" in seen[-1]
