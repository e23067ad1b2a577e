"""``can_cu_phap_ly``: the legal documents a procedure rests on, by number."""

from __future__ import annotations

import re

from knowledge_base.dichvucong.tidy import one_line, tidy_text
from knowledge_base.schema import LegalReference

LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"

# A document number: 60/2014/QH13, 123/2015/NĐ-CP, 163/QĐ-BTP, 01/2022/TTLT-BTC-BTP,
# 53/2010/QĐ-TTg. Only "…QH" takes digits, so "QH1354/2014/QH13" splits in two.
_SEGMENT = r"(?:TTg|[A-ZĐ]*QH\d{2}|[A-ZĐ]+)"
_SEGMENT_LETTER = re.compile(r"[A-ZĐ]")
_DOC_NUMBER = re.compile(rf"(?<!/)\d{{1,4}}(?:\.\d+)?/(?:\d{{4}}/)?{_SEGMENT}(?:-{_SEGMENT})*")
_VOWELS = "aăâeêioôơuưyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
# The start of a Vietnamese syllable (lower case): an optional onset, then vowels.
_SYLLABLE_START = re.compile(rf"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnrstvx])?[{_VOWELS}]+")
_DOC_TYPES = (
    "Luật|Bộ luật|Nghị định|Nghị quyết|Thông tư liên tịch|Thông tư|Quyết định|Pháp lệnh"
    "|Văn bản hợp nhất|Chỉ thị|Lệnh|Công văn|Văn bản"
)
_NEXT_TITLE = re.compile(rf"\s+(?:{_DOC_TYPES})\b")
# The number cell sometimes repeats the type: "…Chính phủNghị định số 92/2018/NĐ-CP".
_CELL_PREFIX = re.compile(rf"(?<=\S)(?:(?:{_DOC_TYPES})(?: số)?|[Ss]ố)\s*$")


def parse_legal_basis(text: str) -> list[LegalReference]:
    """Legal references from ``can_cu_phap_ly``, one per document number, in order.

    ``text`` is ``Tên văn bản pháp lýMã văn bản`` then title and number cells run
    together (``…Luật Hộ tịch123/2015/NĐ-CPThông tư số 08/2025/TT-BTP…``). A number
    closes a pair when the next title is glued to it (or follows as "Nghị định …",
    "Thông tư …"), or the text ends; numbers inside a title are followed by " ngày",
    ",", ")" and stay in the title.
    """
    text = one_line(tidy_text(text))
    if text.startswith(LEGAL_HEADER):
        text = text[len(LEGAL_HEADER) :]
    numbers = [_trim_number(text, m) for m in _DOC_NUMBER.finditer(text)]
    references: dict[str, LegalReference] = {}
    position = 0
    for i, (start, end) in enumerate(numbers):
        after = text[end:]
        glued_duplicate = (
            i + 1 < len(numbers)
            and numbers[i + 1][0] == end
            and text[numbers[i + 1][0] : numbers[i + 1][1]] == text[start:end]
        )
        closes = not after or (not after[0].isspace() and after[0] not in ",.;:)") or _NEXT_TITLE.match(after)
        if glued_duplicate or not closes:
            continue
        number = text[start:end]
        title = _CELL_PREFIX.sub("", text[position:start]).strip(" -–;,.\t")
        position = end
        known = references.get(number)
        if known is None:
            references[number] = LegalReference(number=number, title=title)
        elif len(title) > len(known.title):
            references[number] = LegalReference(number=number, title=title)
    return list(references.values())


def _trim_number(text: str, match: re.Match[str]) -> tuple[int, int]:
    """Fix the edges of a number glued to its neighbours.

    Gives back a capital swallowed from the next title ("NĐ-CPNghị", "TT-BCASỬA ĐỔI"
    → "NĐ-CP", "TT-BCA") and drops a year glued in front ("Luật Cư trú 202068/2020/QH14"
    → "68/2020/QH14").
    """
    start, end = match.span()
    following = text[end : end + 4]
    if following[:1].isalpha() and not _SEGMENT_LETTER.match(following):
        # A Title-case word ("Hướng") lent one capital; an upper-case one ("NGHỊ") maybe more.
        for taken in (1,) if following[0].islower() else (3, 2, 1):
            tail = text[end - taken : end]
            if not (tail.isupper() and tail.isalpha()) or text[end - taken - 1] in "/-":
                continue
            syllable = _SYLLABLE_START.match((tail + following).lower())
            if syllable and syllable.end() > taken:
                end -= taken
                break
    run_start = start
    while run_start > 0 and text[run_start - 1].isdigit():
        run_start -= 1
    digits = text[run_start : text.index("/", start)]
    if len(digits) > 4 and re.match(r"(?:19|20)\d\d", digits) and len(digits) <= 8:
        start = run_start + 4
    return start, end
