"""The message catalogue: gettext files read through Babel, ids to sentences, fields filled by name, mistakes named."""

from __future__ import annotations

import pytest

from knowledge_base.messages import (
    LOCALES,
    Message,
    MessageCatalogue,
    catalogue_files,
    load_catalogue,
    normalise_locale,
    render,
    template_fields,
)

_HEADER = 'msgid ""\nmsgstr ""\n"Language: {locale}\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'


def _po(path, locale, entries):
    body = "".join(f'msgid "{key}"\nmsgstr "{text}"\n\n' for key, text in entries.items())
    path.write_text(_HEADER.format(locale=locale) + body, encoding="utf-8")
    return path


def test_a_message_is_rendered_with_its_fields():
    assert render("form.corrected", label="Họ, chữ đệm và tên", value="Trần Minh Khôi") == (
        "Dạ, tôi đã sửa «Họ, chữ đệm và tên» thành: Trần Minh Khôi.")
    assert Message("form.button.file").text() == "Nộp hồ sơ"
    assert load_catalogue().fields("form.intro") == {"title", "total", "required"}


def test_an_unknown_id_or_a_missing_field_is_named():
    with pytest.raises(KeyError, match="no message 'form.nothing'"):
        render("form.nothing")
    with pytest.raises(KeyError, match="message 'form.corrected' needs the field 'value'"):
        render("form.corrected", label="Tên")


def test_po_files_are_read_and_an_id_in_two_files_or_a_broken_template_is_refused(tmp_path):
    first = _po(tmp_path / "a.po", "vi", {"a.b": "Xin chào {name}", "a.c": "Dạ"})
    catalogue = MessageCatalogue.from_files([first])
    assert catalogue.templates == {"a.b": "Xin chào {name}", "a.c": "Dạ"}
    second = _po(tmp_path / "b.po", "vi", {"a.c": "Vâng"})
    with pytest.raises(ValueError, match="message 'a.c' is also in a.po"):
        MessageCatalogue.from_files([first, second])
    broken = _po(tmp_path / "c.po", "vi", {"a.d": "Xin chào {name"})
    with pytest.raises(ValueError, match="'a.d' is not a valid template"):
        MessageCatalogue.from_files([broken])
    empty = _po(tmp_path / "d.po", "vi", {"a.e": ""})
    with pytest.raises(ValueError, match="'a.e' has no Vietnamese sentence"):
        MessageCatalogue.from_files([empty])


def test_english_falls_back_to_vietnamese_for_what_it_does_not_translate(tmp_path):
    for locale, entries in {"vi": {"a.hello": "Xin chào", "a.bye": "Tạm biệt ông/bà"},
                            "en": {"a.hello": "Hello", "a.bye": ""}}.items():
        folder = tmp_path / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        _po(folder / "x.po", locale, entries)
    english = load_catalogue("en-GB", tmp_path)
    assert english.locale == "en"
    assert english.render("a.hello") == "Hello"
    assert english.render("a.bye") == "Tạm biệt ông/bà"
    assert english.group("a.") == {"a.bye": "Tạm biệt ông/bà", "a.hello": "Hello"}
    assert load_catalogue("fr", tmp_path).render("a.hello") == "Xin chào"


def test_a_language_is_read_from_what_browsers_and_messengers_send():
    assert normalise_locale("en-US") == "en"
    assert normalise_locale("EN_gb") == "en"
    assert normalise_locale("vi") == "vi"
    assert normalise_locale(None) == "vi"
    assert normalise_locale("zh-CN") == "vi"


def test_every_message_of_every_language_renders_with_the_vietnamese_fields():
    vietnamese = load_catalogue("vi")
    assert catalogue_files("vi"), "no Vietnamese catalogue"
    for locale in LOCALES:
        catalogue = load_catalogue(locale)
        for key in catalogue.keys():
            own = catalogue.fields(key)
            assert own == vietnamese.fields(key), f"{locale} {key}: fields {own} ≠ {vietnamese.fields(key)}"
            assert catalogue.render(key, **{name: "x" for name in own}).strip(), key
    assert template_fields("{a} và {b}") == {"a", "b"}


def test_an_english_message_has_a_vietnamese_one():
    vietnamese = set(load_catalogue("vi").templates)
    english = set(load_catalogue("en").templates)
    assert english <= vietnamese, sorted(english - vietnamese)
