"""The one answering action: answer, offer choices, or abstain, from a fake search that returns
each kind of :class:`~retrieval.decision.Decision` (real Tracker and CollectingDispatcher, no server)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import (
    ABSTAIN,
    ASK_WHICH,
    NOT_THESE_ARTICLES,
    NOT_THESE_PROCEDURES,
    OFFER_ARTICLES,
    OFFER_PROCEDURES,
    ActionAnswer,
    aspect_of,
    is_follow_up,
    reads_legal,
)
from actions.answers import Aspect, answer
from knowledge_base.messages import render
from knowledge_base.schema import (
    ChannelKind,
    Fee,
    Procedure,
    ProcessingTime,
    RequiredDocument,
    SubmissionChannel,
    TimeUnit,
)
from retrieval.decision import Decision
from retrieval.results import PassageHit, ProcedureHit
from tests.actions.fakes import BIRTH, FakeKnowledge, tracker

LATE_BIRTH = Procedure(
    code="1.004884", name="Đăng ký lại khai sinh",
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(5, TimeUnit.WORKING_DAY), Fee(free=True))],
    documents=[RequiredDocument("Tờ khai đăng ký lại khai sinh", 1, True)],
)
COPY = Procedure(
    code="2.000815", name="Cấp bản sao trích lục hộ tịch",
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1), Fee(amount=8000))],
)
ARTICLE = PassageHit(document="60/2014/QH13", article="Điều 15", text="Trong thời hạn 60 ngày kể từ ngày sinh con, "
                     "cha hoặc mẹ có trách nhiệm đăng ký khai sinh cho con.", score=0.9,
                     citation="Khoản 1 Điều 15 Luật Hộ tịch 2014", article_title="Trách nhiệm đăng ký khai sinh")
ARTICLE_2 = PassageHit(document="60/2014/QH13", article="Điều 16", text="Người đi đăng ký khai sinh nộp tờ khai.",
                       score=0.7, article_title="Thủ tục đăng ký khai sinh")


def hit(p: Procedure, score: float = 0.5) -> ProcedureHit:
    return ProcedureHit(p.code, p.name, score)


class FakeSearch:
    """Returns the decisions it was given and records what it was asked."""

    def __init__(self, procedures: Decision | None = None, articles: Decision | None = None,
                 ranked: list[PassageHit] | None = None):
        self.procedures = procedures or Decision("abstain")
        self.articles = articles or Decision("abstain")
        self.ranked = ranked or []
        self.asked: list[tuple[str, str]] = []

    def decide_procedures(self, query: str) -> Decision:
        self.asked.append(("procedures", query))
        return self.procedures

    def decide_articles(self, query: str, on: date | None = None) -> Decision:
        self.asked.append(("articles", query))
        return self.articles

    def rank_passages(self, query, depth=10, on=None, within=None):
        self.asked.append(("rank_passages", query))
        return [h for h in self.ranked if within is None or h.document in within], 0.5


class FakeLegal:
    """Stands in for the legal answer writer (tested in test_legal_action.py against a real index)."""

    def __init__(self):
        self.answered: list[tuple[str, PassageHit]] = []

    async def answer_hit(self, dispatcher, question, best, ranked=None):
        self.answered.append((question, best))
        dispatcher.utter_message(text=f"Theo {best.citation or best.article}:", json_message={"legal": best.article})
        return [SlotSet("fallback_count", 0.0)]


async def run(search: FakeSearch | None, t: Tracker, procedures=(BIRTH, LATE_BIRTH, COPY)):
    legal = FakeLegal()
    action = ActionAnswer(FakeKnowledge(list(procedures), search), legal, today=lambda: date(2026, 12, 6))
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events, legal


# -- the three moves -----------------------------------------------------------------------------


async def test_a_confident_search_is_answered_with_the_procedure_and_sets_the_context():
    search = FakeSearch(Decision("answer", (hit(LATE_BIRTH, 0.8),), 0.9))
    messages, events, _ = await run(search, tracker("con tôi 10 tuổi chưa có giấy khai sinh thì làm sao", "nlu_fallback"))
    assert messages[0]["text"] == answer(LATE_BIRTH, Aspect.OVERVIEW).text
    assert SlotSet("procedure_code", LATE_BIRTH.code) in events
    assert search.asked[0] == ("procedures", "con tôi 10 tuổi chưa có giấy khai sinh thì làm sao")


async def test_the_answer_is_about_the_aspect_asked_read_from_the_words_when_the_nlu_was_unsure():
    search = FakeSearch(Decision("answer", (hit(COPY),), 0.9))
    messages, _, _ = await run(search, tracker("xin lai ban sao giay khai sinh het bao nhieu tien", "nlu_fallback"))
    assert messages[0]["text"] == answer(COPY, Aspect.FEE).text


async def test_an_unsure_search_offers_two_to_four_procedures_as_buttons_and_a_way_out():
    search = FakeSearch(Decision("offer", (hit(BIRTH, 0.5), hit(LATE_BIRTH, 0.45), hit(COPY, 0.3)), 0.35))
    messages, events, _ = await run(search, tracker("giấy khai sinh bị rách nát cần gì", "nlu_fallback"))
    (message,) = messages
    assert message["response"] == OFFER_PROCEDURES
    assert message["buttons"] == [
        {"title": "Đăng ký khai sinh", "payload": '/ask_documents{"procedure_code": "1.001193"}'},
        {"title": "Đăng ký lại khai sinh", "payload": '/ask_documents{"procedure_code": "1.004884"}'},
        {"title": "Cấp bản sao trích lục hộ tịch", "payload": '/ask_documents{"procedure_code": "2.000815"}'},
        {"title": render(NOT_THESE_PROCEDURES), "payload": "/request_human"},
    ]
    assert render(NOT_THESE_PROCEDURES) == "Không phải các thủ tục trên"
    assert message["custom"] == {"move": "offer", "kind": "procedure", "confidence": 0.35}
    assert not any(e.get("name") == "procedure_code" and e.get("value") for e in events)  # nothing chosen yet


async def test_a_tapped_choice_answers_that_procedure_for_the_aspect_asked_without_searching():
    search = FakeSearch(Decision("abstain"))
    t = tracker('/ask_documents{"procedure_code": "1.004884"}', "ask_documents",
                entities=[{"entity": "procedure_code", "value": "1.004884"}])
    messages, events, _ = await run(search, t)
    assert messages[0]["text"] == answer(LATE_BIRTH, Aspect.DOCUMENTS).text
    assert SlotSet("procedure_code", "1.004884") in events
    assert search.asked == []


async def test_a_tapped_code_the_catalogue_does_not_know_abstains():
    t = tracker('/ask_procedure{"procedure_code": "9.999999"}', "ask_procedure",
                entities=[{"entity": "procedure_code", "value": "9.999999"}])
    messages, _, _ = await run(FakeSearch(), t)
    assert messages[0]["response"] == ABSTAIN


async def test_when_nothing_fits_it_abstains_plainly_with_staff_and_a_queue_number():
    search = FakeSearch(Decision("abstain", (), 0.05), Decision("abstain", (), 0.1))
    messages, events, _ = await run(search, tracker("giá vàng hôm nay bao nhiêu", "nlu_fallback"))
    (message,) = messages
    assert message["response"] == ABSTAIN
    assert message["custom"]["fallback"] is True and message["custom"]["move"] == "abstain"
    # an unmatched question may still be in the law: both searches were asked before giving up
    assert [kind for kind, _ in search.asked] == ["procedures", "articles"]
    assert not any(e.get("name") == "procedure_code" for e in events)


def test_the_abstain_response_says_so_and_offers_staff_and_a_queue_number():
    domain = Path(__file__).resolve().parents[2] / "domain.yml"
    responses = yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"]
    (abstain,) = responses[ABSTAIN]
    assert abstain["text"].startswith("Xin lỗi, tôi chưa tìm thấy")  # the staff desk counts it as a miss
    assert [b["payload"] for b in abstain["buttons"]] == ["/request_human", "/request_queue_number"]
    # concrete next steps in the catalogue's words, never an intent's name
    assert [b["title"] for b in abstain["buttons"]] == [render("button.request_human"),
                                                         render("button.request_queue_number")]
    assert [b["title"] for b in abstain["buttons"]] == ["Gặp cán bộ", "Lấy số thứ tự"]
    assert responses[OFFER_PROCEDURES][0]["text"].startswith("Ý ông/bà là thủ tục nào?")
    assert "thủ tục nào" in responses[ASK_WHICH][0]["text"]


# -- procedure or law ----------------------------------------------------------------------------


async def test_a_legal_question_answers_the_article_when_the_law_is_the_better_move():
    search = FakeSearch(Decision("offer", (hit(BIRTH), hit(LATE_BIRTH)), 0.3), Decision("answer", (ARTICLE,), 0.8))
    messages, _, legal = await run(search, tracker("quá 60 ngày chưa khai sinh có bị phạt không", "ask_legal"))
    assert legal.answered == [("quá 60 ngày chưa khai sinh có bị phạt không", ARTICLE)]
    assert messages[0]["text"].startswith("Theo Khoản 1 Điều 15")


async def test_a_question_that_sounds_legal_but_asks_papers_stays_on_the_procedure_on_a_tie():
    search = FakeSearch(Decision("answer", (hit(BIRTH),), 0.7), Decision("answer", (ARTICLE,), 0.9))
    messages, _, legal = await run(search, tracker("theo quy định làm khai sinh cần giấy tờ gì", "ask_legal"))
    assert legal.answered == []
    assert messages[0]["text"] == answer(BIRTH, Aspect.DOCUMENTS).text


async def test_a_legal_question_on_a_tie_goes_to_the_law():
    search = FakeSearch(Decision("answer", (hit(BIRTH),), 0.7), Decision("answer", (ARTICLE,), 0.6))
    _, _, legal = await run(search, tracker("luật quy định ai phải đi khai sinh cho con", "nlu_fallback"))
    assert [best for _, best in legal.answered] == [ARTICLE]


async def test_a_procedure_question_does_not_ask_the_law_when_the_procedure_search_is_sure():
    search = FakeSearch(Decision("answer", (hit(BIRTH),), 0.9), Decision("answer", (ARTICLE,), 0.9))
    await run(search, tracker("con mới sinh thì làm giấy gì", "nlu_fallback"))
    assert [kind for kind, _ in search.asked] == ["procedures"]


async def test_unsure_articles_are_offered_by_title_and_a_tap_answers_that_article():
    search = FakeSearch(Decision("abstain"), Decision("offer", (ARTICLE, ARTICLE_2), 0.3), ranked=[ARTICLE_2, ARTICLE])
    messages, _, _ = await run(search, tracker("trách nhiệm của cha mẹ khi sinh con theo luật", "ask_legal"))
    (message,) = messages
    assert message["response"] == OFFER_ARTICLES
    assert message["buttons"] == [
        {"title": "Điều 15 60/2014/QH13: Trách nhiệm đăng ký khai sinh",
         "payload": '/ask_legal{"legal_article": "60/2014/QH13|Điều 15"}'},
        {"title": "Điều 16 60/2014/QH13: Thủ tục đăng ký khai sinh",
         "payload": '/ask_legal{"legal_article": "60/2014/QH13|Điều 16"}'},
        {"title": render(NOT_THESE_ARTICLES), "payload": "/request_human"},
    ]
    tap = tracker('/ask_legal{"legal_article": "60/2014/QH13|Điều 15"}', "ask_legal",
                  entities=[{"entity": "legal_article", "value": "60/2014/QH13|Điều 15"}])
    messages, _, legal = await run(search, tap)
    assert [best for _, best in legal.answered] == [ARTICLE]


# -- follow-ups ----------------------------------------------------------------------------------


async def test_a_follow_up_keeps_the_procedure_in_context_even_when_the_search_would_guess():
    search = FakeSearch(Decision("answer", (hit(COPY),), 0.9))
    t = tracker("còn lệ phí thì sao?", "ask_fee", slots={"procedure_code": LATE_BIRTH.code})
    messages, events, _ = await run(search, t)
    assert messages[0]["text"] == answer(LATE_BIRTH, Aspect.FEE).text
    assert search.asked == []


@pytest.mark.parametrize("text", ["nộp ở đâu", "mất bao lâu", "cần giấy tờ gì", "le phi bao nhieu",
                                  "có mất tiền không", "co ton tien ko"])
async def test_a_follow_up_misread_by_the_nlu_still_keeps_the_context(text):
    t = tracker(text, "nlu_fallback", slots={"procedure_code": BIRTH.code})
    messages, _, _ = await run(FakeSearch(), t)
    assert messages[0]["text"] == answer(BIRTH, aspect_of("nlu_fallback", text)).text


async def test_a_follow_up_with_no_procedure_in_context_asks_which_one():
    search = FakeSearch(Decision("answer", (hit(COPY),), 0.9))
    messages, events, _ = await run(search, tracker("lệ phí bao nhiêu", "ask_fee"))
    assert messages[0]["response"] == ASK_WHICH
    assert search.asked == []
    assert not any(e.get("name") == "procedure_code" for e in events)


async def test_a_procedure_named_in_staff_words_replaces_the_one_in_context():
    t = tracker("thế làm giấy khai sinh mất bao lâu", "ask_processing_time", slots={"procedure_code": COPY.code})
    messages, events, _ = await run(FakeSearch(), t)
    assert messages[0]["text"] == answer(BIRTH, Aspect.TIME).text
    assert SlotSet("procedure_code", BIRTH.code) in events


async def test_a_new_question_with_a_procedure_in_context_is_searched_not_answered_from_context():
    search = FakeSearch(Decision("answer", (hit(COPY),), 0.9))
    t = tracker("xin bản sao trích lục kết hôn mất bao lâu", "ask_processing_time", slots={"procedure_code": BIRTH.code})
    messages, _, _ = await run(search, t)
    assert messages[0]["text"] == answer(COPY, Aspect.TIME).text


async def test_without_a_search_index_an_unnamed_question_abstains():
    messages, _, _ = await run(None, tracker("nhà bị cháy mất sổ đỏ", "nlu_fallback"))
    assert messages[0]["response"] == ABSTAIN


# -- the readings --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("còn lệ phí thì sao?", True), ("thế mất bao lâu", True), ("nop o dau a", True), ("cần giấy tờ gì", True),
    ("đăng ký tạm trú cần giấy tờ gì", False), ("làm sổ hộ nghèo", False), ("chào bạn", False),
    ("có mất tiền không", True), ("xây nhà mặt tiền đường cần xin phép không", False),
    # English: the aspect and nothing else («… for adoption?» names a procedure)
    ("what documents do I need?", True), ("how much does it cost", True), ("where can I do it", True),
    ("What documents do I need for adoption?", False), ("How much does a divorce cost?", False),
    # folded Vietnamese that looks like English filler («an», «thất» → that) is not read as filler
    ("an táng cần giấy tờ gì", False), ("thất nghiệp nộp ở đâu", False),
])
def test_a_follow_up_is_an_aspect_and_nothing_else(text, expected):
    assert is_follow_up(text) is expected


def test_a_follow_up_in_words_the_keywords_miss_counts_when_the_nlu_read_an_aspect():
    assert not is_follow_up("thế có phải nộp gì không")  # no aspect word…
    assert is_follow_up("thế có phải nộp gì không", "ask_fee")  # …but the NLU heard a fee question
    assert not is_follow_up("đăng ký tạm trú có phải nộp gì không", "ask_fee")  # names a procedure


def test_the_aspect_comes_from_the_nlu_first_then_the_words():
    assert aspect_of("ask_documents", "lệ phí bao nhiêu") == Aspect.DOCUMENTS
    assert aspect_of("nlu_fallback", "lam cccd het bao nhieu tien") == Aspect.FEE
    assert aspect_of("nlu_fallback", "mất mấy ngày") == Aspect.TIME
    assert aspect_of("ask_procedure", "căn cứ pháp lý của khai sinh") == Aspect.LEGAL_BASIS
    assert aspect_of("nlu_fallback", "sổ đỏ") == Aspect.OVERVIEW
    assert aspect_of("nlu_fallback", "làm khai tử có mất tiền không") == Aspect.FEE
    assert aspect_of("nlu_fallback", "nhà mặt tiền xây thêm tầng") == Aspect.OVERVIEW  # a street front, not a fee
    # teen code: «j» = «gì», «bn» = «bao nhiêu»
    assert aspect_of("ask_procedure", "dky ho kinh doanh thi can j v ad") == Aspect.DOCUMENTS
    assert aspect_of("nlu_fallback", "lam so do het bn") == Aspect.FEE
    assert aspect_of("nlu_fallback", "mat bn lau v ad") == Aspect.TIME


def test_a_message_reads_legal_from_the_nlu_or_its_words():
    assert reads_legal("ask_legal", "bao nhiêu tuổi được kết hôn")
    assert reads_legal("nlu_fallback", "khong khai sinh co bi phat khong")
    assert reads_legal("nlu_fallback", "theo nghị định 123 thì sao")
    assert not reads_legal("ask_fee", "làm căn cước hết bao nhiêu tiền")


# -- after choices ---------------------------------------------------------------------------------


async def test_choices_replace_the_context_and_a_follow_up_instead_of_a_tap_gets_the_same_choices_for_its_aspect():
    """«lệ phí đăng ký kết hôn» offered three procedures; «nộp ở đâu» typed instead of a tap gets the same three,
    for where to submit — not «which procedure?» with unrelated buttons, not the procedure talked about before."""
    from actions.answering import OFFERED_SLOT

    search = FakeSearch(Decision("offer", (hit(BIRTH, 0.5), hit(LATE_BIRTH, 0.45), hit(COPY, 0.3)), 0.35))
    _, events, _ = await run(search, tracker("giấy khai sinh bị rách nát cần gì", "nlu_fallback",
                                             slots={"procedure_code": "9.999999"}))
    assert SlotSet(OFFERED_SLOT, ["1.001193|documents|1", "1.004884|documents|1", "2.000815|documents|1"]) in events
    assert SlotSet("procedure_code", None) in events  # a new question: the old procedure is not a follow-up's

    offered = {OFFERED_SLOT: [BIRTH.code, LATE_BIRTH.code, COPY.code]}
    messages, events, _ = await run(FakeSearch(), tracker("nộp ở đâu", "ask_submission", slots=offered))
    (message,) = messages
    assert message["response"] == OFFER_PROCEDURES
    assert [b["payload"] for b in message["buttons"][:3]] == [
        '/ask_submission{"procedure_code": "1.001193"}', '/ask_submission{"procedure_code": "1.004884"}',
        '/ask_submission{"procedure_code": "2.000815"}']
    assert message["buttons"][3]["payload"] == "/request_human"
    english, _, _ = await run(FakeSearch(), tracker("what documents do I need?", "ask_documents", slots=offered))
    assert english[0]["buttons"][0]["payload"] == '/ask_documents{"procedure_code": "1.001193"}'


@pytest.mark.parametrize(("typed", "index"), [("2", 1), ("số 3", 2), ("chon 1", 0), ("3.", 2)])
async def test_a_choice_typed_as_its_number_is_answered_and_ends_the_choices(typed, index):
    from actions.answering import OFFERED_SLOT

    codes = [BIRTH.code, LATE_BIRTH.code, COPY.code]
    messages, events, _ = await run(FakeSearch(), tracker(typed, "inform", slots={OFFERED_SLOT: codes}))
    chosen = (BIRTH, LATE_BIRTH, COPY)[index]
    assert messages[0]["text"] == answer(chosen, Aspect.OVERVIEW).text
    assert SlotSet("procedure_code", chosen.code) in events and SlotSet(OFFERED_SLOT, None) in events


async def test_a_number_without_choices_or_beyond_them_is_not_a_pick():
    from actions.answering import OFFERED_SLOT, picked_choice

    assert picked_choice("2", []) is None
    assert picked_choice("4", ["a", "b"]) is None
    assert picked_choice("2 bản sao", ["a", "b"]) is None  # words about copies, not a choice
    messages, _, _ = await run(FakeSearch(), tracker("2", "inform", slots={OFFERED_SLOT: None}))
    assert messages and messages[0].get("response") != OFFER_PROCEDURES


@pytest.mark.parametrize("text", ["what documents do I need?", "how long does it take?", "how much does it cost",
                                  "where can I do it"])
async def test_an_english_follow_up_keeps_the_procedure_in_context(text):
    messages, events, _ = await run(FakeSearch(), tracker(text, "nlu_fallback", slots={"procedure_code": BIRTH.code}))
    assert messages[0]["text"].splitlines()[0] != "" and SlotSet("procedure_code", BIRTH.code) in events
    assert "Đăng ký khai sinh" in messages[0]["text"]


async def test_fill_the_form_is_offered_only_for_a_procedure_with_an_electronic_form():
    search = FakeSearch(Decision("answer", (hit(COPY, 0.8),), 0.9))
    payloads = []
    for has_form in (lambda code: code == BIRTH.code, None):
        action = ActionAnswer(FakeKnowledge([BIRTH, COPY], search), FakeLegal(), has_form=has_form)
        for code in (BIRTH.code, COPY.code):
            dispatcher = CollectingDispatcher()
            await action.run(dispatcher, tracker("lệ phí bao nhiêu", "ask_fee", slots={"procedure_code": code}), {})
            payloads.append([b["payload"] for b in dispatcher.messages[0]["buttons"]])
    birth, copy, birth_unknown, copy_unknown = payloads
    assert "/fill_form" in birth and "/fill_form" not in copy  # no e-form: no button to a dead end
    assert "/request_queue_number" in copy
    assert "/fill_form" in birth_unknown and "/fill_form" in copy_unknown  # not told: offered as before


async def test_a_typed_number_takes_the_choice_for_the_aspect_it_was_offered_for():
    from actions.answering import OFFERED_SLOT

    offered = {OFFERED_SLOT: ["1.001193|fee|1", "1.004884|fee|1"]}
    messages, _, _ = await run(FakeSearch(), tracker("2", "inform", slots=offered))
    assert messages[0]["text"] == answer(LATE_BIRTH, Aspect.FEE).text


async def test_another_question_ends_the_old_choices():
    """Choices offered, then a legal question answered with articles, or a question nothing answers: a «2» typed
    after that is not the old second procedure."""
    from actions.answering import OFFERED_SLOT

    offered = {OFFERED_SLOT: ["1.001193|overview|1", "1.004884|overview|1"]}
    article = PassageHit(document="60/2014/QH13", article="Điều 16", text="...", score=0.9)
    for search in (FakeSearch(), FakeSearch(Decision("abstain"), Decision("offer", (article, article), 0.4)),
                   FakeSearch(Decision("abstain"), Decision("answer", (article,), 0.9))):
        _, events, _ = await run(search, tracker("luật nói gì về việc nuôi chó thả rông", "ask_legal", slots=offered))
        assert SlotSet(OFFERED_SLOT, None) in events, search.procedures
