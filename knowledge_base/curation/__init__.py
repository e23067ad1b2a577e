"""Staff curation of the knowledge base: search, edit, version and revert; upload legal texts.

Every function takes an open SQLAlchemy session (the caller owns the transaction) and
the acting staff member's name. Every change writes a revision — who, when, the state
before and after — and any revision can be restored, the restoration being one more
revision. What staff change is marked as theirs, so loading the defaults or importing
the national catalogue again keeps it.

Histories live in two tables: procedures in ``procedure_revisions`` (with the importer's
and the defaults' revisions), synonyms, FAQ entries and legal documents' metadata in
``kb_revisions``. A deleted synonym or FAQ entry stays as a row marked ``deleted``.

Errors are :class:`CurationError` subclasses whose message is Vietnamese, fit to show
staff: :class:`NotFound`, :class:`Conflict`, :class:`Invalid`, :class:`UploadRefused`.
Plain Python: no framework.

One module per kind of entity (:mod:`.procedures`, :mod:`.synonyms`, :mod:`.faq`,
:mod:`.legal`, the fee table's amounts in :mod:`.fees`), the history and reverting in
:mod:`.history`, what they return and raise in :mod:`.results`; everything public is importable
from here.
"""

from knowledge_base.curation.faq import add_faq_entry, delete_faq_entry, list_faq_items, update_faq_entry
from knowledge_base.curation.fees import FeeItem, effective_fee_table, list_fee_items, update_fee
from knowledge_base.curation.history import list_revisions, recent_revisions, revert
from knowledge_base.curation.legal import (
    LEGAL_FIELDS,
    get_legal_document,
    list_legal_documents,
    update_legal_metadata,
    upload_legal_document,
)
from knowledge_base.curation.procedures import (
    MAX_NAME_LENGTH,
    SEARCH_LIMIT,
    create_procedure,
    get_procedure_detail,
    search_procedures,
    update_procedure,
    validate_procedure,
)
from knowledge_base.curation.results import (
    ChangeResult,
    Conflict,
    CurationError,
    EntityKind,
    FaqItem,
    FieldChange,
    Invalid,
    LegalDocumentItem,
    NotFound,
    ProcedureDetail,
    ProcedureSummary,
    Revision,
    SynonymItem,
    UploadRefused,
    UploadReport,
)
from knowledge_base.curation.rows import fold
from knowledge_base.curation.synonyms import add_synonym, delete_synonym, list_synonym_items, update_synonym

__all__ = [
    "LEGAL_FIELDS",
    "MAX_NAME_LENGTH",
    "SEARCH_LIMIT",
    "ChangeResult",
    "Conflict",
    "CurationError",
    "EntityKind",
    "FaqItem",
    "FeeItem",
    "FieldChange",
    "Invalid",
    "LegalDocumentItem",
    "NotFound",
    "ProcedureDetail",
    "ProcedureSummary",
    "Revision",
    "SynonymItem",
    "UploadRefused",
    "UploadReport",
    "add_faq_entry",
    "add_synonym",
    "create_procedure",
    "delete_faq_entry",
    "delete_synonym",
    "effective_fee_table",
    "fold",
    "get_legal_document",
    "get_procedure_detail",
    "list_faq_items",
    "list_fee_items",
    "list_legal_documents",
    "list_revisions",
    "list_synonym_items",
    "recent_revisions",
    "revert",
    "search_procedures",
    "update_faq_entry",
    "update_fee",
    "update_legal_metadata",
    "update_procedure",
    "update_synonym",
    "upload_legal_document",
    "validate_procedure",
]
