"""A catalogue the size of the national one for the staff pages' procedure picker: the centre's
default procedures and ~2,600 more whose names sort before «Đăng ký khai sinh» (an «Đ» sorts after
every unaccented letter), so a picker that listed the first 100 by name would never offer it."""

from __future__ import annotations

from sqlalchemy import select

from knowledge_base.store import ProcedureRow
from knowledge_base.sync import sync_defaults
from motcua.db import session_scope

BIRTH = "1.001193"
BIRTH_NAME = "Đăng ký khai sinh"
EXTRA = 2_600


def seed_catalogue(url: str, extra: int = EXTRA) -> int:
    """The defaults and ``extra`` more procedures (copies of the birth registration under other
    codes and names); returns how many procedures there are."""
    sync_defaults(url)
    with session_scope(url) as session:
        birth = session.scalar(select(ProcedureRow).where(ProcedureRow.code == BIRTH))
        assert birth is not None and birth.name == BIRTH_NAME
        for i in range(extra):
            code = f"9.{i:06d}"
            name = f"Cấp giấy phép hoạt động loại {i} cho cơ sở kinh doanh"
            data = dict(birth.data, code=code, name=name, aliases=[])
            session.add(ProcedureRow(code=code, name=name, field="Thử nghiệm", levels="Cấp tỉnh", source="test",
                                     data=data))
    with session_scope(url) as session:
        return len(session.scalars(select(ProcedureRow.code)).all())
