"""The queue's typed words are one list: what shows a held number in the queue action is, mid-form,
a request for something else and never an answer."""

import pytest

from knowledge_base.form_turns import FallbackWords
from motcua.queue.words import LOOKUP_WORDS, NEW_NUMBER_WORDS, looks_up

TYPED_LOOKUPS = ["Xem lại số của tôi", "còn mấy người nữa ạ", "số của mình tới chưa", "bao lâu nữa thì tới lượt",
                 "gọi tới số B 005 chưa", "Đến lượt tôi chưa"]


@pytest.mark.parametrize("text", TYPED_LOOKUPS)
def test_a_typed_lookup_shows_the_held_number_and_is_no_form_answer(text):
    assert looks_up(text)
    assert FallbackWords.question(text)


@pytest.mark.parametrize("text", ["cho tôi lấy số", "bốc số thứ tự", "lay stt"])
def test_asking_for_a_new_number_is_no_lookup_but_is_no_form_answer_either(text):
    assert not looks_up(text)
    assert FallbackWords.question(text)


@pytest.mark.parametrize("text", ["Nguyễn Văn Minh", "Số 12 Tràng Tiền, Hoàn Kiếm", "0912345678"])
def test_names_addresses_and_numbers_are_neither(text):
    assert not looks_up(text)
    assert not FallbackWords.question(text)


def test_the_form_reads_every_queue_word():
    assert set(LOOKUP_WORDS) | set(NEW_NUMBER_WORDS) <= set(FallbackWords.REQUEST_PHRASES)
