"""The default procedures' fees and times against the national catalogue and the law.

Each channel's processing time and fee either agrees with what the national catalogue
publishes for the same procedure, or its note names the legal document that says
otherwise, and that document is listed in the procedure's legal basis. A fee that holds
only for a period (a temporary reduction) states the fee in force first.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from knowledge_base.defaults import load_default_procedures
from knowledge_base.dichvucong import parse_record, read_records
from knowledge_base.schema import Fee, Procedure, ProcessingTime, SubmissionChannel, TimeUnit

CATALOGUE = "dichvucong_procedures.jsonl.gz"

# "60/2014/QH13", "123/2015/NĐ-CP", "64/2025/TT-BTC", "01/2022/TT-BTP"
DOCUMENT_NUMBER = re.compile(r"\d+/\d{4}/[A-ZĐ][A-ZĐa-z0-9-]*")
# "Từ nay đến hết 31/12/2026: 25.000 đồng (giảm 50%); từ 01/01/2027: 50.000 đồng …"
PERIOD = re.compile(r"đến hết (?:ngày )?(\d{1,2})/(\d{1,2})/(\d{4})")
TODAY_FIRST = re.compile(r"^Từ nay đến hết (\d{1,2})/(\d{1,2})/(\d{4}): ([\d.]+) đồng")


@pytest.fixture(scope="module")
def procedures() -> list[Procedure]:
    return load_default_procedures()


@pytest.fixture(scope="module")
def catalogue(shared_data: Path, procedures) -> dict[str, Procedure]:
    path = shared_data / CATALOGUE
    if not path.exists():
        pytest.skip(f"không có danh mục thủ tục quốc gia ở {path} (national catalogue absent): bỏ qua")
    wanted = {p.code for p in procedures}
    found: dict[str, Procedure] = {}
    for _line, record in read_records(path):
        if isinstance(record, dict) and str(record.get("ma_thu_tuc", "")).strip() in wanted:
            procedure = parse_record(record).procedure
            found[procedure.code] = procedure
    return found


# --- what "agrees" means -----------------------------------------------------------------


def same_time(ours: ProcessingTime, theirs: ProcessingTime | None) -> bool:
    """The catalogue gives no time, or the same number in the same unit (or in none)."""
    if theirs is None:
        return True
    return ours.value == theirs.value and theirs.unit in (ours.unit, TimeUnit.UNSPECIFIED)


def same_fee(ours: Fee, theirs: Fee | None) -> bool:
    """The catalogue gives no fee, or both are free, or both name the same amount."""
    if theirs is None or (theirs.amount is None and not theirs.free):
        return True
    if ours.free or theirs.free:
        return ours.free and theirs.free
    return ours.amount == theirs.amount


def counterparts(channel: SubmissionChannel, official: Procedure) -> list[SubmissionChannel]:
    """The catalogue's channel of the same kind; all of its channels when it lists no such kind."""
    same_kind = [c for c in official.channels if c.kind == channel.kind]
    return same_kind or list(official.channels)


def cites_its_legal_basis(note: str, procedure: Procedure) -> bool:
    listed = {reference.number for reference in procedure.legal_basis}
    return any(number in listed for number in DOCUMENT_NUMBER.findall(note))


def disagreements(procedure: Procedure, official: Procedure) -> list[str]:
    """Each time or fee that differs from the catalogue without a note citing the overriding law."""
    found = []
    for channel in procedure.channels:
        others = counterparts(channel, official)
        where = f"{procedure.code} {channel.kind.value}"
        time, fee = channel.time, channel.fee
        if time is not None and others and not any(same_time(time, c.time) for c in others):
            if not cites_its_legal_basis(time.note, procedure):
                theirs = "; ".join(c.time.describe() for c in others if c.time)
                found.append(f"{where}: thời hạn {time.describe()} ≠ danh mục {theirs}")
        if fee is not None and others and not any(same_fee(fee, c.fee) for c in others):
            if not cites_its_legal_basis(fee.note, procedure):
                theirs = "; ".join(c.fee.describe()[:60] for c in others if c.fee)
                found.append(f"{where}: lệ phí {fee.describe()[:60]} ≠ danh mục {theirs}")
    return found


# --- the rule itself, on made-up procedures -----------------------------------------------


def _procedure(time: dict, fee: dict, legal: list[str]) -> Procedure:
    return Procedure.from_dict(
        {
            "code": "1.000001",
            "name": "Thủ tục thử",
            "channels": [{"kind": "truc_tiep", "time": time, "fee": fee}],
            "legal_basis": [{"number": number} for number in legal],
        }
    )


OFFICIAL = _procedure({"value": 3, "unit": "khong_ro"}, {"amount": 50000}, [])


def test_same_time_and_fee_as_the_catalogue_agree():
    ours = _procedure({"value": 3, "unit": "ngay_lam_viec"}, {"amount": 50000}, [])
    assert disagreements(ours, OFFICIAL) == []


def test_a_different_fee_without_a_citation_is_reported():
    ours = _procedure({"value": 3}, {"amount": 25000, "note": "Giảm một nửa"}, [])
    (problem,) = disagreements(ours, OFFICIAL)
    assert "lệ phí 25.000 đồng" in problem and "50.000 đồng" in problem


def test_a_different_time_citing_a_law_outside_the_legal_basis_is_reported():
    time = {"value": 5, "note": "Theo Điều 5 Nghị định 1/2020/NĐ-CP"}
    ours = _procedure(time, {"amount": 50000}, ["2/2020/NĐ-CP"])
    (problem,) = disagreements(ours, OFFICIAL)
    assert problem.startswith("1.000001 truc_tiep: thời hạn 5 ngày làm việc")


def test_a_difference_citing_a_listed_law_is_accepted():
    fee = {"amount": 25000, "note": "Giảm 50% theo Thông tư 64/2025/TT-BTC"}
    ours = _procedure({"value": 3}, fee, ["64/2025/TT-BTC"])
    assert disagreements(ours, OFFICIAL) == []


def test_a_fee_set_by_the_province_is_not_free():
    official = _procedure({"value": 3}, {"free": True}, [])
    ours = _procedure({"value": 3}, {"amount": None, "note": "Do Hội đồng nhân dân tỉnh quy định"}, [])
    assert len(disagreements(ours, official)) == 1


# --- the default procedures ---------------------------------------------------------------


@pytest.mark.shared_data
def test_every_default_procedure_is_in_the_catalogue(procedures, catalogue):
    assert sorted(p.code for p in procedures if p.code not in catalogue) == []


@pytest.mark.shared_data
def test_fees_and_times_agree_with_the_catalogue_or_cite_the_law(procedures, catalogue):
    problems = [
        problem
        for procedure in procedures
        if procedure.code in catalogue
        for problem in disagreements(procedure, catalogue[procedure.code])
    ]
    assert problems == []


def test_a_fee_for_a_limited_period_states_the_fee_in_force_first(procedures):
    """«Từ nay đến hết 31/12/2026: 25.000 đồng (giảm 50%); từ 01/01/2027: 50.000 đồng»."""
    periods = 0
    for procedure in procedures:
        checked = date.fromisoformat(procedure.updated)
        for channel in procedure.channels:
            fee = channel.fee
            if fee is None or not PERIOD.search(fee.note):
                continue
            periods += 1
            where = f"{procedure.code} {channel.kind.value}"
            first = TODAY_FIRST.match(fee.note)
            assert first, f"{where}: lệ phí có thời hạn phải nêu mức đang áp dụng trước: {fee.note}"
            day, month, year, amount = first.groups()
            assert date(int(year), int(month), int(day)) >= checked, f"{where}: thời hạn đã qua"
            assert fee.amount == int(amount.replace(".", "")), f"{where}: amount khác mức đang áp dụng"
            assert fee.describe().startswith(f"{amount} đồng"), where
            after = re.search(r"từ (\d{2})/(\d{2})/(\d{4}): ([\d.]+) đồng", fee.note)
            assert after, f"{where}: thiếu mức thu sau thời hạn"
    assert periods, "the CCCD fees halved until 31/12/2026 should be stated with their period"


# --- what the citizen must bring ----------------------------------------------------------


def _by_code(procedures, code: str) -> Procedure:
    return next(p for p in procedures if p.code == code)


def test_marriage_asks_the_abroad_marital_status_certificate_and_nothing_the_registry_looks_up(procedures):
    """NĐ 123/2015 Điều 10 khoản 2 (a certificate from the embassy) and Điều 3 khoản 5 (the registry looks up)."""
    marriage = _by_code(procedures, "1.000894")
    names = [d.name.casefold() for d in marriage.documents]
    abroad = [d for d in marriage.documents if "tình trạng hôn nhân" in d.name.casefold()]
    assert len(abroad) == 1 and abroad[0].original is True
    assert "cơ quan đại diện" in abroad[0].name.casefold() and "Điều 10 khoản 2" in abroad[0].note
    assert not any("cư trú" in name for name in names)
    assert (
        "Điều 3 khoản 5" in marriage.conditions
        and "chỉ khi không tra được mới phải bổ sung" not in marriage.conditions
    )


def test_business_household_changes_state_the_ten_day_deadline(procedures):
    change = _by_code(procedures, "2.000720")
    assert "10 ngày kể từ ngày có thay đổi" in change.conditions
    assert any("10 ngày" in step for step in change.steps)
