"""Fixtures of the payment tests: the dossier catalogue (both databases), its database, a clock, the two services."""

from __future__ import annotations

from datetime import datetime

import pytest

from knowledge_base.fee_table import load_fee_table
from knowledge_base.schema import ChannelKind, Fee, Procedure, ProcessingTime, SubmissionChannel
from knowledge_base.store import save_procedure
from motcua.db import Database, session_scope, shared_database
from motcua.dossiers.notifications import MemoryNotifier
from motcua.dossiers.service import DossierService
from motcua.payments.service import PaymentService
from motcua.payments.vietqr import ReceivingAccount
from tests.dossiers.support import AGENCY, Clock, seed_procedures

ACCOUNT = ReceivingAccount("970436", "0011001234567", "TRUNG TAM PHUC VU HCC XA HOA BINH")
LATE_REBIRTH = Procedure(
    code="1.004884", name="Đăng ký lại khai sinh", levels=["Cấp xã"], field="Hộ tịch",
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(5),
                                Fee(note="Lệ phí do Hội đồng nhân dân tỉnh quy định"))],
)
WORDS_ONLY = Procedure(
    code="1.009994", name="Cấp giấy phép xây dựng nhà ở riêng lẻ", levels=["Cấp xã"],
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(15),
                                Fee(note="Lệ phí do Hội đồng nhân dân tỉnh quy định theo Thông tư 85/2019/TT-BTC"))],
)


def seed_payment_procedures(url: str) -> None:
    seed_procedures(url)
    with session_scope(url) as session:
        for procedure in (LATE_REBIRTH, WORDS_ONLY):
            save_procedure(session, procedure, actor="test")


@pytest.fixture
def catalogue(database_url) -> str:
    seed_payment_procedures(database_url)
    return database_url


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 9, 30))


@pytest.fixture
def db(catalogue) -> Database:
    """The database of :func:`catalogue`: ``db.run(dossiers.method, …)`` is one call in a transaction of its own."""
    return shared_database(catalogue)


@pytest.fixture
def dossiers(clock) -> DossierService:
    return DossierService(agency_code=AGENCY, notifier=MemoryNotifier(), clock=clock)


@pytest.fixture
def payments(catalogue, clock) -> PaymentService:
    return PaymentService(agency_code=AGENCY, account=ACCOUNT, fee_table=load_fee_table(),
                                   clock=clock)
