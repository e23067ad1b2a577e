"""Putting the diacritics back on an answer typed without them: «nguyen minh an» → «Nguyễn Minh An».

Many citizens type Vietnamese without its marks (an old phone, a kiosk keyboard they do not know);
a declaration must carry the name as it is written. :func:`restore` proposes the accented form of
an unaccented answer, one syllable at a time: each syllable's candidates are the accented
syllables of a vocabulary that lose their marks to it («an» → an, ân, ấn, ẩn…), each with a count,
and the choice is scored

- for a person's name, by the syllable's place in it: the surname first, the given name last,
  the middle names between (hand-written lists of common names, :data:`SURNAME_WORDS`…);
- for an address or a text, by a bigram model over the words the project already holds (the
  procedures, forms and FAQ of ``knowledge_base``, the provinces of :mod:`motcua.identity`),
  interpolated with the unigram counts; in an address, the name after a kind of place («xã»,
  «tỉnh», :data:`ADDRESS_KIND_WORDS`) must be a place the project holds, written as it writes it.

When it is unsure — a syllable with no candidate, or two candidates too close to tell — it
proposes nothing (:attr:`Restoration.sure` is false). :func:`readings` then gives the few likeliest
accented readings («pham thi hoa» → Phạm Thị Hoa, Phạm Thị Hòa, Phạm Thị Hoà) for the citizen to
choose from, or to keep the answer as typed. How often
it is right is measured in ``tests/motcua/test_accents.py`` on names and addresses written for the
test, not used to build the vocabulary.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge_base.text import strip_diacritics
from motcua.identity import PROVINCE_CODES

__all__ = ["ADDRESS_KIND_WORDS", "ETHNIC_GROUP_WORDS", "MOST_READINGS", "NATIONALITY_WORDS", "Restoration", "Restorer",
           "is_unaccented", "known_value", "readings", "restore", "restorer", "tone_variant"]

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge_base"

# Common surnames, middle names and given-name syllables, most common first within each tier
# (written here from general knowledge of Vietnamese names; the counts are tiers, not statistics).
SURNAME_WORDS = (
    "Nguyễn",
    "Trần Lê Phạm",
    "Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý",
    "Đào Đoàn Vương Trịnh Trương Đinh Lâm Phùng Mai Tô Hà Tạ Lương Lưu Quách Cao Châu Kiều Thái Tăng Chu Lã Văn "
    "Mạc Khúc Nghiêm Triệu Từ Hứa Thân Giang Đàm Ninh Ông La Âu Doãn Tôn Quan Diệp Kim Viên Lục Nông Thạch Mông",
)
MIDDLE_NAME_WORDS = (
    "Văn Thị",
    "Minh Thanh Ngọc Quốc Hoàng Đức Thu Xuân Hữu Công Anh Kim Hồng Bảo Gia",
    "Quang Tuấn Thành Trung Mạnh Đình Duy Thế Hải Phương Thúy Mai Thùy Khánh Nhật Như Diệu Bích Hoài Tiến Trọng "
    "Việt Hà Cẩm Tường Vĩnh Phúc Kiều Lan Mỹ Ngọc Tú Hiếu Thái Văn Chí Bá Trí Tấn Nhân Khắc Huy Hùng Thiên "
    "Đăng Hoài Phước Vân Tuyết Hương Diễm Quỳnh Trúc Yến Cao Viết Doãn Đắc Uyên Khải Lệ",
)
GIVEN_NAME_WORDS = (
    "An Anh Hùng Dũng Hương Lan Linh Minh Nam Trang Tuấn Hà Hải Hằng Hoa Huy Long Mai Nga Phương Sơn Thảo "
    "Thủy Trung Tú Vy Yến Hiếu Hiền Hoàng Huyền Khánh Ngọc Quân Quang Thành Thắng Thu Tùng Việt Vinh Nhung",
    "Bảo Bình Chi Cường Duy Dung Dương Đạt Đức Giang Hạnh Hân Hiệp Hòa Hồng Huệ Hưng Hường Khang Khoa Khôi Kiên "
    "Kiệt Loan Lộc Lợi Luân Ly Mạnh My Mỹ Ngân Nghĩa Nguyên Nhân Nhi Oanh Phát Phong Phúc Phượng Quốc Quyên "
    "Quỳnh Tài Tâm Tân Thanh Thịnh Thư Tiến Toàn Trâm Trinh Trí Tuyết Uyên Vân Xuân Vũ Đông Điệp Hậu Hợp Tín",
    "Ánh Bích Cúc Diệp Diễm Đào Định Giao Hào Hậu Hiển Hoan Hồ Kha Khải Khiêm Lâm Lành Lệ Liên Liễu Loan Lực "
    "Lương Mẫn Mận Na Nghi Ngoan Nhàn Nhã Nhiên Nhu Nhật Phi Phú Phụng Phước Quế Quý Sang Sáng Sen Tám Thái "
    "Thăng Thân Thiện Thiều Thoa Thơ Thông Thuận Thương Tiên Tiệp Tịnh Tình Toản Trà Triều Trọng Trúc Tuệ Tuyền "
    "Tường Uy Vĩ Viên Vượng Xoan Ý Yên Cảnh Chiến Chinh Công Cương Đan Đạo Đăng Điền Độ Giáp Hạ Hải Hiệu "
    "Hoạt Huân Khương Kỳ Lam Lạc Lĩnh Luyến Mến Miên Nguyệt Ninh Phấn Phòng Quyết Sinh Soa Sửu Thái Thìn Thoại "
    "Thục Thường Tịnh Trường Tuân Tuyên Tỵ Vạn Văn Vỹ Bắc Bằng Biên Cần Chung Chương Dậu Diệu Dinh Đảm Hiên",
)
_TIER_COUNTS = (20, 6, 2, 1)

# The 54 ethnic groups of Viet Nam, as written in civil registration.
ETHNIC_GROUP_WORDS = (
    "Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "Mông", "Dao", "Gia Rai", "Ê Đê", "Ba Na", "Sán Chay",
    "Chăm", "Cơ Ho", "Xơ Đăng", "Sán Dìu", "Hrê", "Ra Glai", "Mnông", "Thổ", "Xtiêng", "Khơ Mú", "Bru - Vân Kiều",
    "Cơ Tu", "Giáy", "Tà Ôi", "Mạ", "Giẻ Triêng", "Co", "Chơ Ro", "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào", "La Chí",
    "Kháng", "Phù Lá", "La Hủ", "La Ha", "Pà Thẻn", "Lự", "Ngái", "Chứt", "Lô Lô", "Mảng", "Cơ Lao", "Bố Y", "Cống",
    "Si La", "Pu Péo", "Rơ Măm", "Brâu", "Ơ Đu",
)
# Nationalities a commune's civil registration meets most.
NATIONALITY_WORDS = (
    "Việt Nam", "Lào", "Campuchia", "Trung Quốc", "Hàn Quốc", "Nhật Bản", "Thái Lan", "Đài Loan", "Hoa Kỳ", "Pháp",
    "Đức", "Nga", "Anh", "Úc", "Ca-na-đa", "Singapore", "Malaysia", "Philippines", "Indonesia", "Myanmar",
)

# Words that name a kind of place in an address; the words after one, up to a comma or a number,
# are the place's own name («xã Tân Lập»), capitalised.
ADDRESS_KIND_WORDS = (
    "tổ dân phố", "khu dân cư", "thành phố", "thị trấn", "thị xã", "khu phố", "khu vực", "số nhà", "xã", "phường",
    "tỉnh", "huyện", "quận", "thôn", "xóm", "ấp", "bản", "làng", "buôn", "phố", "đường", "ngõ", "ngách", "hẻm",
    "kiệt", "khóm", "tổ", "khu", "số", "đội",
)

MOST_READINGS = 3
"""At most this many readings are offered for an answer the restorer is unsure of."""
READING_FLOOR = 0.02
"""A syllable's form less than this share as likely as its best form is not offered."""

Options = list[tuple[float, str]]
"""One token's forms, best first, each with its likelihood relative to the best (1.0)."""

_SYLLABLE_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
_TOKEN_RE = re.compile(r"[^\W\d_]+|[^\w]+|\d+|_", re.UNICODE)


def _key(syllable: str) -> str:
    return strip_diacritics(syllable).casefold()


def is_unaccented(text: str) -> bool:
    """Letters in it, and none of them with a Vietnamese mark (nor «đ»): what :func:`restore` works on."""
    letters = [ch for ch in unicodedata.normalize("NFC", text or "") if ch.isalpha()]
    return bool(letters) and all("a" <= ch.casefold() <= "z" for ch in letters)


def known_value(text: str, values: Iterable[str]) -> str | None:
    """The one of ``values`` that ``text`` is, compared without case, marks nor spacing
    («viet nam» → «Việt Nam», «e de» → «Ê Đê»); None when it is none of them or several."""
    wanted = "".join(_SYLLABLE_RE.findall(_key(text)))
    if not wanted:
        return None
    same = [v for v in values if "".join(_SYLLABLE_RE.findall(_key(v))) == wanted]
    return same[0] if len(same) == 1 else None


def _capitalise(syllable: str) -> str:
    return syllable[:1].upper() + syllable[1:]


@dataclass(frozen=True)
class Restoration:
    """The proposed text and whether the restorer is sure of every syllable of it."""

    text: str
    sure: bool
    unsure: tuple[str, ...] = ()  # the typed syllables it could not tell

    @property
    def proposal(self) -> str | None:
        return self.text if self.sure else None


class Restorer:
    """Syllable counts (by role for names; unigrams and bigrams for the rest) and the choice between them.

    ``margin`` is how much more likely the chosen syllable must be than the next one (a ratio).
    """

    def __init__(self, name_roles: dict[str, Counter[str]], unigrams: Counter[str],
                 bigrams: Counter[tuple[str, str]], places: Iterable[str] = (), *, margin: float = 4.0):
        self.name_roles = name_roles
        self.unigrams = unigrams
        self.bigrams = bigrams
        self.margin = margin
        self.places = _phrase_table(places)
        self.kinds = _phrase_table(ADDRESS_KIND_WORDS)
        self.folded_pairs = {(_key(a), _key(b)) for a, b in bigrams}
        self.total = sum(unigrams.values()) or 1
        self.forms: dict[str, set[str]] = defaultdict(set)
        for counter in (unigrams, *name_roles.values()):
            for syllable in counter:
                self.forms[_key(syllable)].add(syllable)
        self.following: Counter[str] = Counter()
        for (first, _), count in bigrams.items():
            self.following[first] += count

    @classmethod
    def from_texts(cls, texts: Iterable[str], places: Iterable[str] = (), *, margin: float = 4.0) -> Restorer:
        """Built from the hand-written name lists, ``texts`` (the project's words) and ``places`` (place names
        as written, «Nghệ An»)."""
        roles: dict[str, Counter[str]] = {"surname": Counter(), "middle": Counter(), "given": Counter()}
        for role, tiers in (("surname", SURNAME_WORDS), ("middle", MIDDLE_NAME_WORDS), ("given", GIVEN_NAME_WORDS)):
            for tier, words in enumerate(tiers):
                for word in words.split():
                    roles[role][word.casefold()] += _TIER_COUNTS[min(tier, len(_TIER_COUNTS) - 1)]
        unigrams: Counter[str] = Counter()
        bigrams: Counter[tuple[str, str]] = Counter()
        for text in texts:
            for run in re.split(r"[^\w\s]+|\d+", unicodedata.normalize("NFC", text)):
                lowered = [w.casefold() for w in _SYLLABLE_RE.findall(run)]
                unigrams.update(lowered)
                bigrams.update(zip(lowered, lowered[1:], strict=False))
        return cls(roles, unigrams, bigrams, places, margin=margin)

    # -- choosing -----------------------------------------------------------------------------

    def candidates(self, typed: str) -> list[str]:
        return sorted(self.forms.get(_key(typed), ()))

    def _name_weight(self, syllable: str, role: str) -> float:
        """The syllable's count in its role, and a little of its count in the others (a given name may be a
        middle name); the project's other words do not count: a syllable no name list has is unknown."""
        other = sum(c[syllable] for r, c in self.name_roles.items() if r != role)
        return self.name_roles[role][syllable] * 10 + other * 0.2

    def restore_name(self, text: str) -> Restoration:
        """A person's name: each syllable by its role (surname, middle, given), capitalised."""
        words = text.split()
        chosen: list[str] = []
        unsure: list[str] = []
        for position, typed in enumerate(words):
            role = "surname" if position == 0 else "given" if position == len(words) - 1 else "middle"
            scored = sorted(((self._name_weight(c, role), c) for c in self.candidates(typed)), reverse=True)
            scored = [(w, c) for w, c in scored if w > 0]
            if not scored or (len(scored) > 1 and scored[0][0] < self.margin * scored[1][0]):
                unsure.append(typed)
                chosen.append(typed)
                continue
            chosen.append(scored[0][1])
        return Restoration(" ".join(_capitalise(w) for w in chosen), not unsure, tuple(unsure))

    def _ranked(self, scored: Iterable[tuple[float, str]]) -> Options:
        """The forms worth offering, best first: one when it is far ahead (:attr:`margin`), else up to
        :data:`MOST_READINGS` of those at least :data:`READING_FLOOR` as likely as the best."""
        ordered = sorted(((w, c) for w, c in scored if w > 0), reverse=True)
        if not ordered:
            return []
        top = ordered[0][0]
        options = [(w / top, c) for w, c in ordered if w / top >= READING_FLOOR][:MOST_READINGS]
        if len(options) > 1 and options[0][0] >= self.margin * options[1][0]:
            return options[:1]
        return options

    def name_options(self, text: str) -> list[Options]:
        """A person's name as tokens (syllables and the spaces between), each with its capitalised forms."""
        words = text.split()
        tokens: list[Options] = []
        for position, typed in enumerate(words):
            role = "surname" if position == 0 else "given" if position == len(words) - 1 else "middle"
            options = self._ranked((self._name_weight(c, role), c) for c in self.candidates(typed))
            if tokens:
                tokens.append([(1.0, " ")])
            tokens.append([(score, _capitalise(form)) for score, form in options] or [(1.0, _capitalise(typed))])
        return tokens

    def _probability(self, previous: str | None, syllable: str) -> float:
        unigram = (self.unigrams[syllable] + 0.1) / (self.total + 1)
        if previous is None or not self.following[previous]:
            return unigram
        return 0.7 * self.bigrams[(previous, syllable)] / self.following[previous] + 0.3 * unigram

    def _best_path(self, words: Sequence[str]) -> list[str] | None:
        """Viterbi over the candidates of each word (None when a word has none)."""
        lattice = [self.candidates(w) for w in words]
        if any(not options for options in lattice):
            return None
        best: dict[str, tuple[float, list[str]]] = {
            c: (math.log(self._probability(None, c)), [c]) for c in lattice[0]}
        for options in lattice[1:]:
            best = {c: max(((score + math.log(self._probability(prev, c)), path + [c])
                            for prev, (score, path) in best.items()), key=lambda item: item[0])
                    for c in options}
        return max(best.values(), key=lambda item: item[0])[1]

    def _local(self, path: Sequence[str], index: int, syllable: str) -> float:
        previous = path[index - 1] if index else None
        score = self._probability(previous, syllable)
        if index + 1 < len(path):
            score *= self._probability(syllable, path[index + 1])
        return score

    def _general(self, words: Sequence[str]) -> tuple[list[str], list[str]]:
        """Words outside a place name, by the bigram model: (the chosen forms, the words it is unsure of).

        A word is sure when it has one candidate far ahead of the others in its context, and when
        it is seen next to a neighbour in the project's words (or alone, when it stands alone)."""
        path = self._best_path([w.casefold() for w in words])
        if path is None:
            return list(words), [w for w in words if not self.candidates(w)]
        unsure = []
        for place, typed in enumerate(words):
            scores = sorted((self._local(path, place, c) for c in self.candidates(typed)), reverse=True)
            attested = (len(path) == 1 and self.unigrams[path[0]] >= 3) or any(
                self.bigrams[pair] for pair in zip(path[max(place - 1, 0):place + 2],
                                                   path[max(place - 1, 0) + 1:place + 2], strict=False))
            if (len(scores) > 1 and scores[0] < self.margin * scores[1]) or not attested:
                unsure.append(typed)
        return path, unsure

    def restore_text(self, text: str, *, address: bool = False) -> Restoration:
        """A text or an address; in an address, the name after a kind of place («xã», «tỉnh»…) must be a
        place the project knows, and is capitalised. Numbers and punctuation are kept as typed."""
        tokens = _TOKEN_RE.findall(text)
        out = list(tokens)
        unsure: list[str] = []
        for segment in _syllable_runs(tokens):
            forms, doubtful = self._segment([tokens[i] for i in segment], address)
            unsure += doubtful
            for place, form in zip(segment, forms, strict=True):
                out[place] = form
        return Restoration(_capitalise("".join(out)), not unsure, tuple(unsure))

    def _pieces(self, words: list[str]) -> list[tuple[str, list[str]]]:
        """An address's run of words in pieces: ``("fixed", forms)`` (a kind of place, a place the project
        holds), ``("plain", words)`` (to read by the bigram model) or ``("place", words)`` (the name of a
        place the project does not hold)."""
        keys = [w.casefold() for w in words]
        whole = self.places.get(" ".join(keys))
        if whole is not None:
            return [("fixed", whole.split())]
        pieces: list[tuple[str, list[str]]] = []
        plain: list[str] = []
        index = 0
        while index < len(words):
            kind = _longest(self.kinds, keys, index)
            if kind is not None and plain and (_key(keys[index - 1]), _key(keys[index])) in self.folded_pairs:
                kind = None  # «ủy ban», «y tế xã»: words the project says together, not a kind of place
            if kind is None:
                plain.append(words[index])
                index += 1
                continue
            if plain:
                pieces.append(("plain", plain))
                plain = []
            kind_words = kind.split()
            pieces.append(("fixed", kind_words))
            index += len(kind_words)
            name_end = index
            while name_end < len(words) and _longest(self.kinds, keys, name_end) is None:
                name_end += 1
            if name_end > index:
                place = self.places.get(" ".join(keys[index:name_end]))
                pieces.append(("place", words[index:name_end]) if place is None else ("fixed", place.split()))
                index = name_end
        if plain:
            pieces.append(("plain", plain))
        return pieces

    def _segment(self, words: list[str], address: bool) -> tuple[list[str], list[str]]:
        """One run of words between numbers and punctuation."""
        if not address:
            return self._general(words)
        forms: list[str] = []
        unsure: list[str] = []
        for kind, part in self._pieces(words):
            if kind == "fixed":
                forms += part
            elif kind == "place":
                unsure += part
                forms += part
            else:
                chosen, doubtful = self._general(part)
                forms += chosen
                unsure += doubtful
        return forms, unsure

    # -- readings to choose from ---------------------------------------------------------------

    def _general_options(self, words: Sequence[str]) -> list[Options]:
        """Each word's forms in its context (the best path of the bigram model); a word none of whose
        neighbours has a form is read by its counts alone."""
        path = self._best_path([w.casefold() for w in words])
        if path is None:
            return [self._ranked((self.unigrams[c] + 0.1, c) for c in self.candidates(w)) or [(1.0, w)]
                    for w in words]
        return [self._ranked((self._local(path, place, c), c) for c in self.candidates(typed)) or [(1.0, typed)]
                for place, typed in enumerate(words)]

    def _place_options(self, words: Sequence[str]) -> list[Options]:
        """A place the project does not hold, capitalised; places are mostly named like people («Lê Lợi»,
        «Quỳnh Lưu»), so a syllable's forms are weighed by the name lists and by the project's words, each
        count as a share of the largest of its kind (the fees' «đồng» outnumbers any name)."""
        options = []
        for typed in words:
            forms = self.candidates(typed)
            named = {form: sum(c[form] for c in self.name_roles.values()) for form in forms}
            top_named, top_seen = max(named.values(), default=0) or 1, max(
                (self.unigrams[form] for form in forms), default=0) or 1
            scored = ((named[form] / top_named + self.unigrams[form] / top_seen, form) for form in forms)
            options.append([(score, _capitalise(form)) for score, form in self._ranked(scored)]
                           or [(1.0, _capitalise(typed))])
        return options

    def _segment_options(self, words: list[str], address: bool) -> list[Options]:
        if not address:
            return self._general_options(words)
        options: list[Options] = []
        for kind, part in self._pieces(words):
            if kind == "fixed":
                options += [[(1.0, form)] for form in part]
            elif kind == "place":
                options += self._place_options(part)
            else:
                options += self._general_options(part)
        return options

    def text_options(self, text: str, *, address: bool = False) -> list[Options]:
        """A text or an address as tokens, each with its forms (numbers, spaces and punctuation as typed)."""
        tokens = _TOKEN_RE.findall(text)
        options: list[Options] = [[(1.0, token)] for token in tokens]
        for segment in _syllable_runs(tokens):
            found = self._segment_options([tokens[i] for i in segment], address)
            for place, forms in zip(segment, found, strict=True):
                options[place] = forms
        return options


def _syllable_runs(tokens: Sequence[str]) -> list[list[int]]:
    """The positions of the syllables of each run of words (spaces between them allowed; a number or
    punctuation ends a run): what the readings are chosen for, one run at a time."""
    runs: list[list[int]] = []
    segment: list[int] = []
    for index, token in enumerate([*tokens, ","]):
        if index < len(tokens) and (_SYLLABLE_RE.fullmatch(token) or token.isspace()):
            if not token.isspace():
                segment.append(index)
            continue
        if segment:
            runs.append(segment)
        segment = []
    return runs


def _combine(tokens: Sequence[Options], limit: int) -> list[str]:
    """The ``limit`` likeliest texts made of one form per token (a beam search), likeliest first."""
    beams: list[tuple[float, str]] = [(1.0, "")]
    for options in tokens:
        grown = [(score * share, text + form) for score, text in beams for share, form in options]
        beams = sorted(grown, key=lambda beam: -beam[0])[:limit]
    return [text for _, text in beams]


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_TONE_PAIRS = ("oa", "oe", "uy")  # the vowel pairs whose tone mark is written either way: «hòa» / «hoà»


def tone_variant(text: str) -> str:
    """``text`` with the tone mark of each open «oa», «oe», «uy» syllable on the other vowel («Hòa» ⇄
    «Hoà», «Thủy» ⇄ «Thuỷ»): both spellings are found on identity cards, and only the citizen knows theirs."""
    def switch(match: re.Match[str]) -> str:
        syllable = unicodedata.normalize("NFD", match.group(0))
        tones = [ch for ch in syllable if ch in _TONE_MARKS]
        bare = "".join(ch for ch in syllable if ch not in _TONE_MARKS)
        folded = bare.casefold()
        if len(tones) != 1 or not folded.endswith(_TONE_PAIRS) or folded.startswith("qu"):
            return match.group(0)
        on_first, on_second = bare[:-1] + tones[0] + bare[-1:], bare + tones[0]
        moved = on_second if syllable == on_first else on_first if syllable == on_second else syllable
        return unicodedata.normalize("NFC", moved)

    return _SYLLABLE_RE.sub(switch, unicodedata.normalize("NFC", text))


def _phrase_table(phrases: Iterable[str]) -> dict[str, str]:
    """Folded phrase → the phrase as written; a folded form two phrases share is left out (unsure)."""
    table: dict[str, str] = {}
    clashes: set[str] = set()
    for phrase in phrases:
        words = _SYLLABLE_RE.findall(unicodedata.normalize("NFC", phrase))
        key = " ".join(_key(w) for w in words)
        written = " ".join(words)
        if key in table and table[key].casefold() != written.casefold():
            clashes.add(key)
        table.setdefault(key, written)
    return {key: value for key, value in table.items() if key not in clashes}


def _longest(table: dict[str, str], keys: Sequence[str], index: int, most: int = 3) -> str | None:
    """The longest phrase of ``table`` starting at ``keys[index]`` (the phrase as written), or None."""
    for length in range(min(most, len(keys) - index), 0, -1):
        found = table.get(" ".join(_key(k) for k in keys[index:index + length]))
        if found is not None:
            return found
    return None


def project_texts(directory: Path = KNOWLEDGE_DIR) -> list[str]:
    """The words the project holds: the centre's YAML files (procedures, forms, FAQ…) and the provinces."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(directory.rglob("*.yaml"))]
    return texts + list(project_places()) + list(ETHNIC_GROUP_WORDS) + list(NATIONALITY_WORDS)


def project_places() -> list[str]:
    """The place names the project holds: the provinces (and a city's name without «Thành phố»)."""
    names = list(PROVINCE_CODES.values())
    return names + [n.split(" ", 2)[2] for n in names if n.startswith("Thành phố ")]


@lru_cache(maxsize=1)
def restorer() -> Restorer:
    """The restorer over the project's words, built once per process."""
    return Restorer.from_texts(project_texts(), project_places())


def restore(text: str, kind: str = "text") -> str | None:
    """The accented form of an unaccented ``text`` (``kind``: ``name``, ``address`` or ``text``),
    or None when the text has marks already, when nothing would change, or when unsure."""
    cleaned = " ".join(str(text or "").split())
    if not is_unaccented(cleaned):
        return None
    engine = restorer()
    result = engine.restore_name(cleaned) if kind == "name" else engine.restore_text(cleaned,
                                                                                   address=kind == "address")
    proposal = result.proposal
    if proposal is None or proposal == cleaned or not any(not ch.isascii() for ch in proposal):
        return None
    return proposal


def readings(text: str, kind: str = "text", limit: int = MOST_READINGS) -> list[str]:
    """The likeliest accented readings of an unaccented ``text`` (``kind``: ``name``, ``address`` or
    ``text``), likeliest first, for the citizen to choose from when :func:`restore` is unsure: each syllable
    the restorer cannot tell offers its likeliest forms, and an «oa», «oe», «uy» written either way
    (:func:`tone_variant`) fills the list up. Empty when the text has marks, or no reading adds any."""
    cleaned = " ".join(str(text or "").split())
    if not is_unaccented(cleaned) or limit < 1:
        return []
    engine = restorer()
    tokens = engine.name_options(cleaned) if kind == "name" else \
        engine.text_options(cleaned, address=kind == "address")
    found: list[str] = []
    for reading in _combine(tokens, limit):
        reading = _capitalise(reading)
        if reading not in found and not is_unaccented(reading):
            found.append(reading)
    for reading in list(found):
        variant = tone_variant(reading)
        if len(found) < limit and variant not in found:
            found.append(variant)
    return found[:limit]
