"""Read the national public service portal's procedure records (dichvucong.gov.vn).

The portal publishes each thủ tục hành chính as a web page whose tables arrive
flattened into text, cells run together. This package turns one such record (a
JSON object with keys such as ``ma_thu_tuc``, ``cach_thuc_thuc_hien``,
``thanh_phan_ho_so``) into a :class:`~knowledge_base.schema.Procedure`, and
reads whole catalogue files (``.json``, ``.jsonl``, ``.jsonl.gz``, ``.json.gz``)
without aborting on one bad line.

Plain Python, no framework: the importer, the CLI and the tests all call it.
One module per section of the portal's page (:mod:`.channels`, :mod:`.documents`,
:mod:`.legal_basis`), the record as a whole in :mod:`.records`, the files in :mod:`.files`.

Public functions:

- :func:`parse_channels` — ``cach_thuc_thuc_hien`` → submission channels (time, fee);
- :func:`parse_documents` — ``thanh_phan_ho_so`` → required documents;
- :func:`parse_legal_basis` — ``can_cu_phap_ly`` → legal references;
- :func:`parse_record` — one raw record → :class:`ParsedRecord`;
- :func:`read_records` — a catalogue file → ``(line number, record or RecordError)``;
- :func:`summarize` — how many parsed records got time, fee, documents, legal basis.
"""

from knowledge_base.dichvucong.channels import CHANNEL_HEADER, parse_channels, parse_channels_with_warnings
from knowledge_base.dichvucong.documents import (
    DOCUMENT_HEADER,
    parse_documents,
    parse_documents_with_warnings,
)
from knowledge_base.dichvucong.files import CatalogueFileError, read_records
from knowledge_base.dichvucong.legal_basis import LEGAL_HEADER, parse_legal_basis
from knowledge_base.dichvucong.records import SOURCE, ParsedRecord, RecordError, parse_record, summarize
from knowledge_base.dichvucong.tidy import NO_INFO, tidy_text

__all__ = [
    "CHANNEL_HEADER",
    "DOCUMENT_HEADER",
    "LEGAL_HEADER",
    "NO_INFO",
    "SOURCE",
    "CatalogueFileError",
    "ParsedRecord",
    "RecordError",
    "parse_channels",
    "parse_channels_with_warnings",
    "parse_documents",
    "parse_documents_with_warnings",
    "parse_legal_basis",
    "parse_record",
    "read_records",
    "summarize",
    "tidy_text",
]
