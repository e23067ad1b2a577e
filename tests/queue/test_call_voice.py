"""The spoken call-out: Vietnamese words for numbers, espeak-ng WAV, cached."""

from __future__ import annotations

import shutil

import pytest

from devices.voice import EspeakVoice, VoiceError, number_words, spoken_call, spoken_label


@pytest.mark.parametrize("n, words", [
    (0, "không"), (5, "năm"), (10, "mười"), (12, "mười hai"), (15, "mười lăm"), (21, "hai mươi mốt"),
    (24, "hai mươi tư"), (45, "bốn mươi lăm"), (100, "một trăm"), (105, "một trăm lẻ năm"),
    (110, "một trăm mười"), (999, "chín trăm chín mươi chín"), (1005, "một nghìn không trăm lẻ năm"),
])
def test_numbers_are_read_the_vietnamese_way(n, words):
    assert number_words(n) == words


def test_a_call_reads_letters_by_name_and_the_number_as_a_whole():
    assert spoken_label("A012") == "a mười hai"
    assert spoken_label("G105") == "giê một trăm lẻ năm"
    assert spoken_call("A012", 3) == "Xin mời số a mười hai, đến quầy số ba."
    with pytest.raises(ValueError):
        spoken_label("không phải số")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng chưa cài (apt-get install espeak-ng)")
def test_espeak_makes_a_wav_once_and_serves_it_from_the_cache(tmp_path):
    voice = EspeakVoice(tmp_path)
    first = voice.say(spoken_call("A012", 3))
    assert first[:4] == b"RIFF" and first[8:12] == b"WAVE" and len(first) > 20_000
    assert voice.say(spoken_call("A012", 3)) == first
    assert voice.synthesised == 1
    fresh = EspeakVoice(tmp_path)  # a restarted gateway reads the disk cache
    assert fresh.say(spoken_call("A012", 3)) == first and fresh.synthesised == 0


def test_a_missing_espeak_is_a_clear_error(tmp_path):
    with pytest.raises(VoiceError, match="espeak"):
        EspeakVoice(tmp_path, executable="espeak-ng-not-here").say("xin chào")
