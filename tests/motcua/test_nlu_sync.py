"""motcua.nlu_sync: the procedure lookup table written from the knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from motcua import nlu_sync


def _entries(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (table,) = data["nlu"]
    assert table["lookup"] == "procedure"
    return [line[2:] for line in table["examples"].splitlines() if line.startswith("- ")]


def test_strip_diacritics_handles_d_with_stroke():
    assert nlu_sync.strip_diacritics("Đăng ký khai tử") == "Dang ky khai tu"
    assert nlu_sync.strip_diacritics("sổ đỏ") == "so do"


def test_lookup_holds_names_aliases_and_unaccented_forms_sorted(tmp_path):
    out = tmp_path / "lookup.yml"
    changed = nlu_sync.sync_lookups({"Đăng ký khai sinh": ["giấy ks", "Khai  sinh"]}, out)
    assert changed is True
    entries = _entries(out)
    assert entries == sorted(entries)
    assert len(entries) == len(set(entries))
    for expected in ["đăng ký khai sinh", "dang ky khai sinh", "giấy ks", "giay ks", "khai sinh"]:
        assert expected in entries


def test_second_sync_with_same_names_reports_no_change(tmp_path):
    out = tmp_path / "lookup.yml"
    names = {"đăng ký kết hôn": ["kết hôn"], "chứng thực bản sao": ["sao y"]}
    assert nlu_sync.sync_lookups(names, out) is True
    before = out.read_text(encoding="utf-8")
    # same names in another order: same file
    assert nlu_sync.sync_lookups(dict(reversed(list(names.items()))), out) is False
    assert out.read_text(encoding="utf-8") == before
    assert nlu_sync.sync_lookups({**names, "đăng ký tạm trú": []}, out) is True


def test_empty_names_are_refused(tmp_path):
    with pytest.raises(ValueError):
        nlu_sync.sync_lookups({}, tmp_path / "lookup.yml")


def test_reads_knowledge_base_files(tmp_path):
    kb = tmp_path / "procedures"
    kb.mkdir()
    (kb / "khai_sinh.yaml").write_text(
        "code: '1.001193'\nname: Đăng ký khai sinh\naliases: [giấy khai sinh, làm giấy ks]\n",
        encoding="utf-8",
    )
    (kb / "ket_hon.yaml").write_text("code: '1.000894'\nname: Đăng ký kết hôn\n", encoding="utf-8")
    out = tmp_path / "lookup.yml"
    result = nlu_sync.sync_from_knowledge_base(kb, out)
    assert result.source == str(kb)
    assert result.procedures == 2
    assert result.changed is True
    assert "lam giay ks" in _entries(out)


def test_falls_back_to_built_in_list_when_knowledge_base_is_empty(tmp_path):
    out = tmp_path / "lookup.yml"
    result = nlu_sync.sync_from_knowledge_base(tmp_path / "missing", out)
    assert result.source == "built-in"
    assert "so do" in _entries(out)


def test_procedure_file_without_name_is_an_error(tmp_path):
    kb = tmp_path / "procedures"
    kb.mkdir()
    (kb / "broken.yaml").write_text("code: '1.0'\naliases: [x]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.yaml"):
        nlu_sync.read_procedure_names(kb)


def test_checked_in_lookup_is_in_sync_with_the_knowledge_base(tmp_path):
    """nlu_data/lookup_procedures.yml is what `motcua nlu sync` would write now."""
    out = tmp_path / "lookup.yml"
    nlu_sync.sync_from_knowledge_base(nlu_sync.PROCEDURES_DIR, out)
    assert out.read_text(encoding="utf-8") == nlu_sync.LOOKUP_PATH.read_text(encoding="utf-8")
