"""The message catalogue: ids to sentences, fields filled by name, mistakes named."""

from __future__ import annotations

import pytest

from knowledge_base.messages import Message, MessageCatalogue, load_catalogue, render


def test_a_message_is_rendered_with_its_fields():
    assert render("form.corrected", label="Họ, chữ đệm và tên", value="Trần Minh Khôi") == (
        "Dạ, tôi đã sửa «Họ, chữ đệm và tên» thành: Trần Minh Khôi.")
    assert Message("form.button.file").text() == "Nộp hồ sơ"
    assert load_catalogue().fields("form.intro") == {"title", "required"}


def test_an_unknown_id_or_a_missing_field_is_named():
    with pytest.raises(KeyError, match="no message 'form.nothing'"):
        render("form.nothing")
    with pytest.raises(KeyError, match="message 'form.corrected' needs the field 'value'"):
        render("form.corrected", label="Tên")


def test_the_file_is_a_tree_of_ids_and_every_leaf_a_sentence(tmp_path):
    path = tmp_path / "messages.yaml"
    path.write_text("a:\n  b: 'Xin chào {name}'\n  c:\n    d: Dạ\n", encoding="utf-8")
    assert MessageCatalogue.from_file(path).templates == {"a.b": "Xin chào {name}", "a.c.d": "Dạ"}
    path.write_text("a:\n  b: 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="message 'a.b' must be a non-empty string"):
        MessageCatalogue.from_file(path)
    path.write_text("a: 'Xin chào {name'\n", encoding="utf-8")
    with pytest.raises(ValueError):
        MessageCatalogue.from_file(path)


def test_every_message_of_the_catalogue_renders_with_its_own_fields():
    catalogue = load_catalogue()
    for key in catalogue.templates:
        text = catalogue.render(key, **{name: "x" for name in catalogue.fields(key)})
        assert text.strip(), key
