"""Fees and payments of dossiers (lệ phí, thanh toán): plain Python, no web framework.

- :mod:`.vietqr` — the dynamic VietQR payload (NAPAS / EMVCo merchant-presented QR): build,
  decode, CRC-16/CCITT-FALSE; the center's receiving account.
- :mod:`.fees` — the fee a dossier owes, from the procedure's fee for the way it was submitted
  and the center's fee table (``knowledge_base/fees.yaml``).
- :mod:`.models` — the tables: a dossier's payment, its history, the imported bank-statement lines.
- :mod:`.statement` — reading a bank statement (CSV: date, amount, note).
- :mod:`.service` — :class:`~motcua.payments.service.PaymentService`: fee, payload, cash, waiver,
  statement import; one transaction per call, every change in the payment history and the audit log.

This package imports nothing heavy at import time, so :mod:`motcua.settings` may use :mod:`.vietqr`.
"""
