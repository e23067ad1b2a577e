"""The dossier store (hồ sơ). Plain Python: no web or dialogue framework.

- :mod:`.service` — :class:`~.service.DossierService`, the one entry point: each call runs in the
  caller's Session (the caller commits), over the modules below.
- :mod:`.filing` — the application checked; the gap-free daily code and the due date.
- :mod:`.changes` — a status change (history, outbox) and the citizen's notice about it.
- :mod:`.access` — the code in what a citizen typed or scanned, the second factor, centers.
- :mod:`.records` — the application and the records built from the rows for citizens and staff.
- :mod:`.status` — statuses, their Vietnamese names, the allowed changes.
- :mod:`.attachments` — JPEG/PNG/PDF checked by magic bytes, merged into one PDF, SHA-256.
- :mod:`.receipt` — Giấy tiếp nhận hồ sơ và hẹn trả kết quả (PDF, QR of the code).
- :mod:`.outbox` — the transactional outbox to the national portal and its worker.
- :mod:`.portal` — the portal client Protocol, the HTTP client, an in-memory fake.
- :mod:`.notifications` — the notifier Protocol called after commit, and its defaults.
- :mod:`.links` — random link tokens (stored as SHA-256) and the lookup PIN (salted PBKDF2).
- :mod:`.guard` — lock-outs of the citizen's lookups per client and per dossier code.
- :mod:`.upload_stream` — a multipart upload read as a capped stream, checked before its first file.
- :mod:`.models` — the tables (migrations ``0003_dossiers``, ``0006_dossier_privacy``).

Filing from the assistant::

    service = DossierService.from_settings(get_settings())
    database = shared_database(get_settings().sqlalchemy_url)
    filed = database.run(service.file_dossier, DossierApplication(
        procedure_code="1.001193", applicant=Applicant("Nguyễn Thị Lan", "001190012345", "0912345678"),
        values=form_values, form_id="birth_registration", channel="telegram", sender_id=tracker.sender_id))
    dispatcher.utter_message(text=filed.confirmation_text())  # code, due date and the lookup PIN
    token = database.run(service.issue_link, filed.code)  # for declaration_path(filed.code, token)
"""
