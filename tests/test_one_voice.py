"""One voice: what a citizen reads or hears comes from the message catalogue, and it says «Tôi» and «ông/bà».

Two checks. The register: no message of the catalogue, no response of ``domain.yml`` and no text of
the center's default files (procedures, forms, FAQ, the center's own page) addresses the citizen as
«em», «anh/chị», «bạn», «mình» or «quý khách». The literals: the modules that produce what a citizen
reads (the action server, the form dialogue, the channels, the gateway's citizen routes, printed
tickets and receipts, spoken calls) hold no Vietnamese sentence outside the catalogue. Words kept in
code to *recognise* what a citizen typed are data, not messages: they are exempt when assigned to a
module-level name ending in ``_WORDS``, ``_PATTERNS``, ``_PATTERN``, ``_RE``, ``_KEYWORDS`` or
``_SYNONYMS``, or written inside ``re.compile(…)``. Docstrings, log calls and API documentation
(``summary=``, ``description=``, ``help=``) are for developers. A line a staff member reads, in a
module that also serves citizens, carries the comment ``# staff-facing``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from knowledge_base.domain_responses import DOMAIN_FILE, domain_texts, sync_domain
from knowledge_base.messages import load_catalogue

ROOT = Path(__file__).resolve().parent.parent

VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)

# Another register than «Tôi … ông/bà». «trẻ em», «em bé», «anh chị em» and «anh/chị ruột» (siblings),
# «của mình», «chính mình», «tự mình» (one's own) are not ways of addressing someone.
OTHER_REGISTER = {
    "em": re.compile(r"(?<!trẻ )(?<!chị )\bem\b(?! bé)", re.IGNORECASE),
    "anh/chị": re.compile(r"\banh\s*/\s*chị\b(?! ruột)|\banh chị\b(?! em)", re.IGNORECASE),
    "bạn": re.compile(r"\bbạn\b(?! bè)", re.IGNORECASE),
    "mình": re.compile(r"(?<!của )(?<!chính )(?<!tự )\bmình\b", re.IGNORECASE),
    "quý khách": re.compile(r"\bquý khách\b", re.IGNORECASE),
}

CITIZEN_MODULES = sorted({
    *ROOT.glob("actions/*.py"),
    *ROOT.glob("channels/*.py"),
    *(ROOT / "knowledge_base" / name for name in (
        "defaults.py", "form_dialogue.py", "form_replies.py", "form_turns.py", "forms.py", "legal_library.py",
        "rendering.py", "schema.py")),
    *(ROOT / "bot" / name for name in (
        "devices.py", "dialogue.py", "gateway.py", "limits.py", "notifications.py", "queue_runtime.py",
        "ratelimit.py", "speech.py", "staff_desk.py", "validation.py")),
    *(ROOT / "bot" / "routes" / name for name in (
        "chat.py", "dossiers.py", "kiosk.py", "legal.py", "pages.py", "queue.py", "ratings.py", "webhooks.py",
        "widget.py")),
    *(ROOT / "motcua" / name for name in (
        "validators.py", "declaration.py", "dossier_code.py", "queue/views.py", "queue/waits.py",
        "queue/service.py", "queue/models.py", "dossiers/service.py", "dossiers/filing.py", "dossiers/records.py",
        "dossiers/status.py", "dossiers/receipt.py", "dossiers/access.py", "dossiers/changes.py",
        "dossiers/attachments.py", "dossiers/upload_stream.py", "dossiers/guard.py")),
    *(ROOT / "devices" / name for name in ("voice.py", "printer.py")),
})

_EXEMPT_NAME = re.compile(r"(_WORDS|_PATTERNS|_PATTERN|_RE|_KEYWORDS|_SYNONYMS)$")
_DEVELOPER_KWARGS = {"summary", "description", "help", "response_description", "tags"}
_LOGGERS = {"log", "logger", "logging", "_log", "LOG", "LOGGER"}


# In the center's files «mình» is mostly a third person's «own» («việc mình làm», «giấy tờ mình có»);
# there only the unambiguous ways of addressing are checked.
DATA_REGISTER = ("em", "anh/chị", "bạn", "quý khách")


def other_register(text: str, names=tuple(OTHER_REGISTER)) -> list[str]:
    return [name for name in names if OTHER_REGISTER[name].search(text)]


def test_the_register_check_tells_the_voices_apart():
    assert other_register("Dạ, em sẽ giúp anh/chị điền tờ khai") == ["em", "anh/chị"]
    assert other_register("Mời bạn khai tiếp, mình đợi nhé") == ["bạn", "mình"]
    assert other_register("Quý khách vui lòng chờ") == ["quý khách"]
    assert other_register("Dạ, tôi sẽ giúp ông/bà đăng ký khai sinh cho trẻ em, em bé dưới 6 tuổi") == []
    assert other_register("Người tự dịch giấy tờ của mình; cha mẹ, anh chị em ruột; anh/chị ruột; bạn bè") == []
    assert other_register("Xin ghi tên mình", DATA_REGISTER) == []


def test_every_message_of_the_catalogue_speaks_in_one_register():
    catalogue = load_catalogue("vi")
    wrong = {key: other_register(text) for key, text in catalogue.templates.items() if other_register(text)}
    assert not wrong, wrong


def _strings(data) -> list[str]:
    """The texts of a default file, less its everyday names (words citizens type, often unaccented)."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [text for key, value in data.items() if key != "aliases" for text in _strings(value)]
    if isinstance(data, list):
        return [text for value in data for text in _strings(value)]
    return []


def test_the_centers_default_files_speak_in_the_same_register():
    files = [*ROOT.glob("knowledge_base/procedures/*.yaml"), *ROOT.glob("knowledge_base/forms/*.yaml"),
             ROOT / "knowledge_base" / "faq.yaml", ROOT / "knowledge_base" / "center.yaml"]
    assert len(files) > 40
    wrong = []
    for path in files:
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            if found := other_register(text, DATA_REGISTER):
                wrong.append(f"{path.relative_to(ROOT)}: {found}: {text[:90]}")
    assert not wrong, "\n".join(wrong)


def test_rasas_responses_are_the_catalogues_words():
    current = DOMAIN_FILE.read_text(encoding="utf-8")
    texts = domain_texts(current)
    assert len(texts) > 30 and any(t.key == "button.request_human" for t in texts)
    assert sync_domain(current) == current, "domain.yml differs from the catalogue: run «motcua messages domain»"


def test_the_domain_sync_takes_words_from_the_catalogue_and_keeps_the_rest():
    domain = ('version: "3.1"\nresponses:\n  # a comment\n  utter_x:\n    - text: "cũ"\n      buttons:\n'
              '        - title: "nút cũ"\n          payload: "/request_human"\n        - title: "khác"\n'
              '          payload: "/ask_procedure{\\"procedure\\": \\"a\\"}"\n    - text: "hai"\n')
    from knowledge_base.messages import MessageCatalogue

    catalogue = MessageCatalogue({"response.utter_x": "Mới \"một\"", "response.utter_x.2": "Hai",
                                  "button.request_human": "Gặp cán bộ", "response.utter_x.button.2": "Khác"})
    synced = sync_domain(domain, catalogue)
    assert yaml.safe_load(synced)["responses"]["utter_x"] == [
        {"text": "Mới \"một\"", "buttons": [{"title": "Gặp cán bộ", "payload": "/request_human"},
                                             {"title": "Khác", "payload": '/ask_procedure{"procedure": "a"}'}]},
        {"text": "Hai"}]
    assert "  # a comment\n" in synced


def _docstrings(tree: ast.AST) -> set[int]:
    """Strings standing alone as statements: docstrings, attribute docstrings — never said to anyone."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def _exempt_nodes(tree: ast.AST) -> set[int]:
    """Constants under a recogniser assignment, a ``re.compile`` call, a log call or a developer keyword."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and _EXEMPT_NAME.search(t.id) for t in targets) and node.value:
                roots.append(node.value)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value
                if isinstance(owner, ast.Name) and (owner.id in _LOGGERS or (owner.id == "re" and func.attr in {
                        "compile", "search", "match", "fullmatch", "sub", "split", "findall"})):
                    roots.append(node)
            roots += [kw.value for kw in node.keywords if kw.arg in _DEVELOPER_KWARGS]
    return {id(sub) for root in roots for sub in ast.walk(root)}


def citizen_literals(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    skip = _docstrings(tree) | _exempt_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
            continue
        if not VIETNAMESE.search(node.value):
            continue
        if any("# staff-facing" in lines[n - 1] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)):
            continue
        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:70]!r}")
    return found


def test_the_literal_check_finds_a_sentence_and_spares_recognisers(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '"""Trả lời."""\nimport re\nimport logging\nlog = logging.getLogger()\n'
        'CANCEL_WORDS = {"thôi", "hủy"}\nDATE_RE = re.compile("ngày")\n'
        'def f():\n    log.info("đã xong")\n    if re.search("tờ khai", "x"):\n        pass\n'
        '    staff = "Cán bộ"  # staff-facing\n    return "Xin chào ông/bà"\n', encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert citizen_literals(module) == ["m.py:12: 'Xin chào ông/bà'"]
    finally:
        ROOT = saved


@pytest.mark.parametrize("path", CITIZEN_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_citizen_facing_code_says_nothing_outside_the_catalogue(path):
    assert path.exists(), path
    assert citizen_literals(path) == []


def _rendered_ids() -> dict[str, str]:
    """Every ``render("…")`` / ``Message("…")`` id written in the code, with where it is."""
    found: dict[str, str] = {}
    for folder in ("actions", "bot", "channels", "devices", "knowledge_base", "motcua", "retrieval"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in {"render", "Message"} and isinstance(node.args[0].value, str):
                    found[node.args[0].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_id_the_code_renders_is_in_the_catalogue():
    catalogue = load_catalogue("vi")
    used = _rendered_ids()
    assert len(used) > 20
    missing = {key: where for key, where in used.items() if key not in catalogue.templates}
    assert not missing, missing
