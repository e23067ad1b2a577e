"""What the knowledge base knows, as plain dataclasses.

These are the shapes every part of Một Cửa agrees on: the editable YAML files
under ``knowledge_base/procedures/``, the national portal importer, the database
rows and the retrieval index all convert to and from them. No framework here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    """How a dossier may be submitted (hình thức nộp)."""

    IN_PERSON = "truc_tiep"
    ONLINE = "truc_tuyen"
    POST = "buu_chinh"

    @property
    def label(self) -> str:
        return {
            ChannelKind.IN_PERSON: "Trực tiếp",
            ChannelKind.ONLINE: "Trực tuyến",
            ChannelKind.POST: "Dịch vụ bưu chính",
        }[self]


class TimeUnit(StrEnum):
    WORKING_DAY = "ngay_lam_viec"
    DAY = "ngay"
    HOUR = "gio"
    MONTH = "thang"
    UNSPECIFIED = "khong_ro"

    @property
    def label(self) -> str:
        return {
            TimeUnit.WORKING_DAY: "ngày làm việc",
            TimeUnit.DAY: "ngày",
            TimeUnit.HOUR: "giờ",
            TimeUnit.MONTH: "tháng",
            TimeUnit.UNSPECIFIED: "",
        }[self]


@dataclass(frozen=True)
class ProcessingTime:
    value: float
    unit: TimeUnit = TimeUnit.WORKING_DAY
    note: str = ""

    def describe(self) -> str:
        number = f"{self.value:g}".replace(".", ",")
        text = f"{number} {self.unit.label}".strip()
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class Fee:
    """A fee in Vietnamese đồng. ``amount`` is ``None`` when the source gives none."""

    amount: int | None = None
    free: bool = False
    currency: str = "VND"
    note: str = ""

    def describe(self) -> str:
        if self.free:
            base = "Miễn phí"
        elif self.amount is None:
            base = "Chưa có thông tin lệ phí"
        else:
            base = f"{self.amount:,}".replace(",", ".") + (" đồng" if self.currency == "VND" else f" {self.currency}")
        return f"{base} ({self.note})" if self.note else base


@dataclass(frozen=True)
class SubmissionChannel:
    kind: ChannelKind
    time: ProcessingTime | None = None
    fee: Fee | None = None
    description: str = ""


@dataclass(frozen=True)
class RequiredDocument:
    name: str
    copies: int = 1
    original: bool | None = None  # True: bản chính, False: bản sao, None: not stated
    form: str = ""  # mẫu đơn, tờ khai (template name), if any
    note: str = ""

    def describe(self) -> str:
        kind = {True: "bản chính", False: "bản sao", None: "bản"}[self.original]
        text = f"{self.name} ({self.copies} {kind})"
        return f"{text} — mẫu: {self.form}" if self.form else text


@dataclass(frozen=True)
class LegalReference:
    number: str  # e.g. "123/2015/NĐ-CP"
    title: str = ""


@dataclass
class Procedure:
    code: str  # mã thủ tục, e.g. "1.001193"
    name: str
    levels: list[str] = dataclasses.field(default_factory=list)  # "Cấp xã", "Cấp tỉnh", "Cấp bộ"
    field: str = ""  # lĩnh vực
    applicants: str = ""  # đối tượng thực hiện
    competent_agency: str = ""
    receiving_agency: str = ""
    steps: list[str] = dataclasses.field(default_factory=list)
    channels: list[SubmissionChannel] = dataclasses.field(default_factory=list)
    documents: list[RequiredDocument] = dataclasses.field(default_factory=list)
    conditions: str = ""
    result: str = ""
    legal_basis: list[LegalReference] = dataclasses.field(default_factory=list)
    related: list[str] = dataclasses.field(default_factory=list)  # codes of related procedures
    aliases: list[str] = dataclasses.field(default_factory=list)  # how citizens name it
    source: str = ""  # "dichvucong", "default", "staff"
    updated: str = ""  # ISO date of the last update at the source

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Procedure:
        """Build from a plain mapping (YAML, JSON column). Raises ValueError on bad shape."""
        if not isinstance(data, dict):
            raise ValueError("một thủ tục phải là một đối tượng (mapping)")
        code = str(data.get("code") or "").strip()
        name = str(data.get("name") or "").strip()
        if not code:
            raise ValueError("thủ tục thiếu mã (code)")
        if not name:
            raise ValueError(f"thủ tục {code} thiếu tên (name)")
        channels = []
        for ch in data.get("channels") or []:
            time = ch.get("time")
            fee = ch.get("fee")
            channels.append(
                SubmissionChannel(
                    kind=ChannelKind(ch["kind"]),
                    time=ProcessingTime(
                        value=float(time["value"]),
                        unit=TimeUnit(time.get("unit", TimeUnit.WORKING_DAY)),
                        note=str(time.get("note", "")),
                    )
                    if time
                    else None,
                    fee=Fee(
                        amount=None if fee.get("amount") is None else int(fee["amount"]),
                        free=bool(fee.get("free", False)),
                        currency=str(fee.get("currency", "VND")),
                        note=str(fee.get("note", "")),
                    )
                    if fee
                    else None,
                    description=str(ch.get("description", "")),
                )
            )
        documents = [
            RequiredDocument(
                name=str(d["name"]),
                copies=int(d.get("copies", 1)),
                original=d.get("original"),
                form=str(d.get("form", "")),
                note=str(d.get("note", "")),
            )
            for d in data.get("documents") or []
        ]
        legal = [
            LegalReference(number=str(r["number"]), title=str(r.get("title", "")))
            for r in data.get("legal_basis") or []
        ]
        return cls(
            code=code,
            name=name,
            levels=[str(x) for x in data.get("levels") or []],
            field=str(data.get("field", "")),
            applicants=str(data.get("applicants", "")),
            competent_agency=str(data.get("competent_agency", "")),
            receiving_agency=str(data.get("receiving_agency", "")),
            steps=[str(x) for x in data.get("steps") or []],
            channels=channels,
            documents=documents,
            conditions=str(data.get("conditions", "")),
            result=str(data.get("result", "")),
            legal_basis=legal,
            related=[str(x) for x in data.get("related") or []],
            aliases=[str(x) for x in data.get("aliases") or []],
            source=str(data.get("source", "")),
            updated=str(data.get("updated", "")),
        )


@dataclass(frozen=True)
class Synonym:
    """A phrase citizens use and the canonical wording it stands for."""

    phrase: str  # "sổ đỏ"
    canonical: str  # "giấy chứng nhận quyền sử dụng đất"


@dataclass(frozen=True)
class FaqEntry:
    question: str
    answer: str
    procedures: tuple[str, ...] = ()  # procedure codes it points at
