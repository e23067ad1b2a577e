"""Files dossiers in a loop until killed (used by test_dossier_crash.py; not a test itself).

Usage: python tests/dossiers/filing_loop.py <database url>
Prints "ready" after the first filing, then keeps filing, attaching and changing statuses.
"""

from __future__ import annotations

import sys

from motcua.db import shared_database
from motcua.dossiers.attachments import Upload, prepare_attachment
from motcua.dossiers.notifications import MemoryNotifier
from motcua.dossiers.service import DossierService
from tests.dossiers.support import AGENCY, application, jpeg


def main(url: str) -> None:
    db = shared_database(url)
    service = DossierService(agency_code=AGENCY, notifier=MemoryNotifier())
    scan = prepare_attachment([Upload("scan.jpg", jpeg((600, 800)))], label="Giấy chứng sinh")
    i = 0
    while True:
        code = db.run(service.file_dossier, application(sender_id=f"telegram:{i}"), attachments=[scan] if i % 2 else ()).code
        if i == 0:
            print("ready", flush=True)
        if i % 3 == 0:
            db.run(service.receive, code, actor="staff:loop")
        if i % 5 == 0:
            db.run(service.request_supplement, code, "Thiếu giấy tờ.", actor="staff:loop")
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
