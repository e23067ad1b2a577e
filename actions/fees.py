"""The centre's fee table as the answers read it: the rules in force for one procedure.

A dossier is charged what :func:`motcua.payments.fees.quote_fee` finds in the table in force
(:func:`knowledge_base.curation.fees.effective_fee_table`: the seed ``knowledge_base/fees.yaml`` with
the amounts staff set on the curation page laid over it). The fee answer reads that same table, so
that what the assistant says a procedure costs is what the cashier collects.

Freshness: the seed is read once per process (:func:`~knowledge_base.fee_table.default_fee_table`,
as the payment service reads it; a change to the YAML needs a restart, for both). Staff edits live
in the database and are read at each fee answer about a procedure the seed names — one small query,
nothing cached, so an amount staff change is said from the next question on, without the
``/index/refresh`` the curation page sends for other edits. A procedure the seed does not name
costs no query at all.
"""

from __future__ import annotations

from typing import Protocol

from knowledge_base.curation.fees import effective_fee_table
from knowledge_base.fee_table import FeeRule, FeeTable, default_fee_table
from motcua.db import Database

__all__ = ["FeeRules", "FeeTableInForce"]


class FeeRules(Protocol):
    """The centre's rules for one procedure, conditional ones first (a :class:`FeeTable` is one)."""

    def rules_for(self, procedure_code: str) -> list[FeeRule]: ...


class FeeTableInForce:
    """The table in force in ``database``: ``seed`` (default ``knowledge_base/fees.yaml``) with staff edits."""

    def __init__(self, database: Database, seed: FeeTable | None = None) -> None:
        if not isinstance(database, Database):
            raise TypeError(f"database must be a motcua.db.Database, got {type(database).__name__}")
        self.database = database
        self._seed = seed

    @property
    def seed(self) -> FeeTable:
        if self._seed is None:
            self._seed = default_fee_table()
        return self._seed

    def rules_for(self, procedure_code: str) -> list[FeeRule]:
        if not self.seed.rules_for(procedure_code):  # staff edit amounts only, never add a rule
            return []
        with self.database.session() as session:
            return effective_fee_table(session, self.seed).rules_for(procedure_code)
