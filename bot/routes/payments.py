"""Fees over HTTP: the staff API, the citizen's payment links, and the payment gateway's webhook.

- Staff (``/api/v1/staff/payments/{code}``): signed-in staff only (:func:`bot.auth.require_staff`),
  limited to their center's dossiers like the desk (:mod:`bot.routes.dossiers`); each change records
  ``staff:<username>`` in the payment history and the audit log. The receipt PDF too.
- Citizens (``/api/v1/dossiers/{code}/payment…``): the fee, the VietQR code (SVG for screens, PNG for
  Telegram/Zalo) and the receipt, behind a random link token (purpose ``payment``, given in the chat
  that filed the dossier); every refused token answers the same 404 (in the declaration link's shape, in
  its own words). No answer to a link is cached or indexed by search engines. With the
  lookup PIN (``POST …/payment``, throttled like every lookup) the citizen gets a fresh link. The same
  token opens the dossier's status page ``/dossiers/{code}/payment``: its status and due date, and
  while the fee is unpaid the VietQR code to scan, the amount and the transfer note.
- The gateway (``POST /api/v1/payments/webhook/{provider}``): a signed event, verified by its
  :class:`~motcua.payments.provider.PaymentProvider`; a replayed event id changes nothing.

The rules live in :mod:`motcua.payments`; this module only translates HTTP.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.auth import require_staff
from bot.deps import (
    ClientIP,
    DatabaseDep,
    DossiersDep,
    LookupGuardDep,
    PaymentProvidersDep,
    PaymentsDep,
    SettingsDep,
)
from bot.routes.dossier_access import (
    call_service,
    check_second_factor,
    guard_code,
    link_refused,
    pdf_response,
)
from bot.routes.dossiers import (
    Actor,
    ApplicantCheckIn,
    Center,
    DeskCode,
)
from bot.routes.pages import NOINDEX, NOINDEX_META, request_locale
from knowledge_base.messages import render
from motcua.db import Database
from motcua.dossiers.errors import DossierError
from motcua.dossiers.service import DossierService
from motcua.payments.citizen import PAYMENT_LINK, format_amount, payment_paths
from motcua.payments.models import PaymentState
from motcua.payments.provider import WebhookRejected
from motcua.payments.service import PaymentService, PaymentView

log = logging.getLogger(__name__)


Payments = PaymentsDep
Providers = PaymentProvidersDep

PAYMENT_LINK_REFUSED = "page.payment.link_refused"
PRIVATE = {"Cache-Control": "no-store", "Vary": "Accept-Language", **NOINDEX}
"""The headers of every answer to a citizen's payment link: never cached, never indexed."""


class WaiverIn(BaseModel):
    reason: str = Field(..., max_length=500, description="lý do miễn: hộ nghèo, người có công, người khuyết tật…")


router = APIRouter(prefix="/api/v1/staff/payments", tags=["staff payments"], dependencies=[Depends(require_staff)])


@router.get("/{code}", summary="Lệ phí và tình trạng nộp phí / a dossier's fee and payment")
async def payment_state(code: DeskCode, actor: Actor, center: Center, database: DatabaseDep,
                        payments: Payments) -> Any:
    return await call_service(database.run, payments.payment, code, actor=actor, center=center)


@router.get("/{code}/vietqr", summary="Mã VietQR để chuyển khoản lệ phí / the VietQR payment request")
async def payment_vietqr(code: DeskCode, center: Center, database: DatabaseDep, payments: Payments) -> Any:
    return await call_service(database.run, payments.vietqr, code, center=center)


@router.post("/{code}/cash", summary="Đã thu tiền mặt / paid in cash at the counter")
async def payment_cash(code: DeskCode, actor: Actor, center: Center, database: DatabaseDep,
                       payments: Payments) -> Any:
    return await call_service(database.run, payments.mark_cash, code, actor=actor, center=center)


@router.post("/{code}/waive", summary="Miễn lệ phí, ghi lý do / waive the fee with a reason")
async def payment_waive(code: DeskCode, body: WaiverIn, actor: Actor, center: Center, database: DatabaseDep,
                        payments: Payments) -> Any:
    return await call_service(database.run, payments.waive, code, body.reason, actor=actor, center=center)


@router.get("/{code}/vietqr.svg", summary="Mã VietQR (ảnh SVG) / the VietQR code as SVG",
            responses={200: {"content": {"image/svg+xml": {}}}})
async def payment_vietqr_svg(code: DeskCode, center: Center, database: DatabaseDep, payments: Payments) -> Response:
    from motcua.payments.qr_image import vietqr_svg

    request = await call_service(database.run, payments.vietqr, code, center=center)
    return Response(vietqr_svg(request.payload), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


def _receipt_pdf(database: Database, payments: PaymentService, code: str, center_name: str,
                 center: str | None = None) -> bytes:
    """The receipt's data in a transaction of its own; the PDF drawn after it is committed."""
    from motcua.payments.receipt import render_payment_receipt

    return render_payment_receipt(database.run(payments.receipt, code, center=center), center_name=center_name)


@router.get("/{code}/receipt.pdf", summary="Biên lai thu phí, lệ phí (PDF) / the payment receipt",
            responses={200: {"content": {"application/pdf": {}}}})
async def payment_receipt(code: DeskCode, center: Center, settings: SettingsDep, database: DatabaseDep,
                          payments: Payments) -> Response:
    data = await call_service(_receipt_pdf, database, payments, code, settings.center_name, center)
    return pdf_response(data, f"bien-lai-{code}.pdf")


# --- citizens -------------------------------------------------------------------------------------

citizen_router = APIRouter(tags=["payments"])


def citizen_view(view: PaymentView, token: str, account_name: str, locale: str) -> dict[str, Any]:
    """What the holder of a payment link sees: the fee and its state; the QR while unpaid; the receipt after.
    Nothing personal (no name, no number of the applicant)."""
    paths = payment_paths(view.code, token)
    out: dict[str, Any] = {"code": view.code, "state": view.state.value,
                           "state_label": render(f"payment.state.{view.state.value}", locale=locale),
                           "amount": view.amount,
                           "amount_text": render("payment.amount", locale=locale, amount=format_amount(view.amount)),
                           "status": paths["status"]}
    if view.state == PaymentState.UNPAID and view.vietqr_enabled:
        out.update(note=view.code, account_name=account_name, qr_svg=paths["qr_svg"], qr_png=paths["qr_png"])
    if view.state in (PaymentState.PAID, PaymentState.WAIVED):
        out.update(paid_at=view.paid_at.isoformat() if view.paid_at else None,
                   method=view.method.value if view.method else None, receipt_pdf=paths["receipt_pdf"])
    return out


def _linked(session: Session, dossiers: DossierService, code: str, token: str) -> str | None:
    detail = dossiers.linked_dossier(session, code, token, purpose=PAYMENT_LINK)
    return detail.code if detail is not None else None


async def _linked_payment(database: Database, dossiers: DossierService, payments: PaymentService, code: str,
                          token: str) -> PaymentView | None:
    """The dossier's payment when ``token`` is a live payment link to it; None for every refusal."""
    linked = await run_in_threadpool(database.run, _linked, dossiers, code, token)
    if linked is None:
        return None
    try:
        return await run_in_threadpool(database.run, payments.payment, linked)
    except DossierError:  # a fee the center has not priced: as if there were nothing to see
        return None


def _refused(request: Request) -> Response:
    """The one answer to every refused payment link."""
    return link_refused(request_locale(request), PAYMENT_LINK_REFUSED)


def _private(body: dict[str, Any]) -> Response:
    return JSONResponse(jsonable_encoder(body), headers=PRIVATE)


def _account_name(payments: PaymentService) -> str:
    return payments.account.account_name if payments.account is not None else ""


@citizen_router.get("/api/v1/dossiers/{code}/payment", summary="Lệ phí của hồ sơ, theo đường dẫn trợ lý gửi")
async def citizen_payment(code: str, request: Request, dossiers: DossiersDep, database: DatabaseDep,
                          payments: Payments,
                          token: str = "") -> Any:
    view = await _linked_payment(database, dossiers, payments, code, token)
    if view is None:
        return _refused(request)
    return _private(citizen_view(view, token, _account_name(payments), request_locale(request)))


@citizen_router.post("/api/v1/dossiers/{code}/payment", summary="Lệ phí của hồ sơ, với mã tra cứu (PIN)")
async def citizen_payment_with_pin(code: str, body: ApplicantCheckIn, request: Request, client: ClientIP,
                                   dossiers: DossiersDep, database: DatabaseDep, guard: LookupGuardDep, payments: Payments) -> Any:
    code = guard_code(guard, client, code)
    locale = request_locale(request)
    await check_second_factor(database, dossiers, guard, client, code, body.model_dump(),
                              render("page.dossier.factors_mismatch",
                                                                           locale=locale))
    try:
        view = await run_in_threadpool(database.run, payments.payment, code)
    except DossierError:  # a fee the center has not priced yet
        return _private({"code": code, "state": "undetermined",
                         "state_label": render("payment.state.undetermined", locale=locale)})
    token = await run_in_threadpool(database.run, dossiers.issue_link, code, purpose=PAYMENT_LINK)
    return _private(citizen_view(view, token, _account_name(payments), locale))


async def _qr_payload(database: Database, dossiers: DossierService, payments: PaymentService, code: str,
                      token: str) -> str | None:
    view = await _linked_payment(database, dossiers, payments, code, token)
    if view is None or view.state != PaymentState.UNPAID or payments.account is None:
        return None
    try:
        return (await run_in_threadpool(database.run, payments.vietqr, view.code)).payload
    except DossierError:
        return None


@citizen_router.get("/api/v1/dossiers/{code}/payment/vietqr.svg", summary="Mã VietQR nộp lệ phí (SVG)",
                    responses={200: {"content": {"image/svg+xml": {}}}})
async def citizen_vietqr_svg(code: str, request: Request, dossiers: DossiersDep, database: DatabaseDep,
                             payments: Payments,
                             token: str = "") -> Response:
    from motcua.payments.qr_image import vietqr_svg

    payload = await _qr_payload(database, dossiers, payments, code, token)
    if payload is None:  # a refused link, or nothing left to pay: the same answer
        return _refused(request)
    return Response(vietqr_svg(payload), media_type="image/svg+xml", headers={"Cache-Control": "no-store", **NOINDEX})


@citizen_router.get("/api/v1/dossiers/{code}/payment/vietqr.png", summary="Mã VietQR nộp lệ phí (PNG)",
                    responses={200: {"content": {"image/png": {}}}})
async def citizen_vietqr_png(code: str, request: Request, dossiers: DossiersDep, database: DatabaseDep,
                             payments: Payments,
                             token: str = "") -> Response:
    from motcua.payments.qr_image import vietqr_png

    payload = await _qr_payload(database, dossiers, payments, code, token)
    if payload is None:
        return _refused(request)
    return Response(vietqr_png(payload), media_type="image/png", headers={"Cache-Control": "no-store", **NOINDEX})


@citizen_router.get("/api/v1/dossiers/{code}/payment/receipt.pdf", summary="Biên lai lệ phí (PDF)",
                    responses={200: {"content": {"application/pdf": {}}}})
async def citizen_payment_receipt(code: str, request: Request, settings: SettingsDep, dossiers: DossiersDep,
                                  database: DatabaseDep,
                                  payments: Payments, token: str = "") -> Response:
    view = await _linked_payment(database, dossiers, payments, code, token)
    if view is None:
        return _refused(request)
    if view.state not in (PaymentState.PAID, PaymentState.WAIVED):
        raise HTTPException(409, detail=render("payment.no_receipt", locale=request_locale(request)))
    data = await call_service(_receipt_pdf, database, payments, view.code, settings.center_name)
    return pdf_response(data, f"bien-lai-{view.code}.pdf")


# --- the citizen's status page ---------------------------------------------------------------------


def _status_page(center_name: str, locale: str, detail: Any, view: PaymentView | None, token: str,
                 account_name: str | None) -> str:
    """The dossier's status page for the holder of its payment link (nothing personal on it);
    ``account_name`` is the receiving account's holder while the fee can be paid by VietQR, else None."""
    def say(key: str, **fields: Any) -> str:
        return html.escape(render(key, locale=locale, **fields))

    def row(key: str, value: str) -> str:
        return f"<tr><th>{say(key)}</th><td>{html.escape(value)}</td></tr>"

    paths = payment_paths(detail.code, token)
    due = f"{detail.due_date:%d/%m/%Y}" if detail.due_date else render("page.payment.due_unknown", locale=locale)
    rows = (row("page.payment.procedure", detail.procedure_name)
            + row("page.payment.status", detail.status.label_in(locale)) + row("page.payment.due", due))
    if view is None:  # a fee the center has not priced yet
        fee = f'<p class="payment-state">{say("payment.state.undetermined")}</p>'
    else:
        amount = render("payment.amount", locale=locale, amount=format_amount(view.amount))
        fee = (f'<p class="payment-state" id="payment-state" data-state="{view.state.value}">'
               f'{say(f"payment.state.{view.state.value}")}</p>')
        if view.state == PaymentState.UNPAID:
            fee += (f'<table class="ticket-rows">{row("page.payment.amount", amount)}'
                    + (row("page.payment.account", account_name) + row("page.payment.note", view.code)
                       if account_name is not None else "") + "</table>")
            if account_name is not None:
                fee += (f'<figure class="ticket-qr payment-qr"><img id="vietqr" src="{html.escape(paths["qr_png"])}" '
                        f'width="240" height="240" alt="{say("page.kiosk.payment_qr_alt", amount=amount)}">'
                        f'<figcaption>{say("page.kiosk.payment_qr")}</figcaption></figure>')
            else:
                fee += f'<p>{say("page.payment.cash_only")}</p>'
        elif view.state in (PaymentState.PAID, PaymentState.WAIVED):
            fee += (f'<p><a id="receipt" href="{html.escape(paths["receipt_pdf"])}">'
                    f'{say("page.payment.receipt")}</a></p>')
    title = render("page.payment.title", locale=locale, code=detail.code)
    return (f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="referrer" content="no-referrer">{NOINDEX_META}<title>{html.escape(title)}</title>'
            f'<link rel="stylesheet" href="/static/board.css"><link rel="stylesheet" href="/static/ticket.css">'
            f'</head><body class="ticket-page"><h1>{html.escape(center_name)}</h1>'
            f'<h2>{html.escape(title)}</h2><table class="ticket-rows">{rows}</table>'
            f'<h2>{say("page.payment.fee_heading")}</h2>{fee}</body></html>')


@citizen_router.get("/dossiers/{code}/payment", response_class=HTMLResponse,
                    summary="Trang tình trạng hồ sơ và lệ phí, theo đường dẫn trợ lý gửi")
async def citizen_status_page(code: str, request: Request, settings: SettingsDep, dossiers: DossiersDep,
                              database: DatabaseDep,
                              payments: Payments, token: str = "") -> Response:
    locale = request_locale(request)
    detail = await run_in_threadpool(database.run, dossiers.linked_dossier, code, token, purpose=PAYMENT_LINK)
    if detail is None:  # the same answer for every refused link
        page = (f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">{NOINDEX_META}<title>'
                f'{html.escape(settings.center_name)}</title></head><body><p>'
                f'{html.escape(render(PAYMENT_LINK_REFUSED, locale=locale))}</p></body></html>')
        return HTMLResponse(page, status_code=404, headers=PRIVATE)
    try:
        view: PaymentView | None = await run_in_threadpool(database.run, payments.payment, detail.code)
    except DossierError:  # not priced yet
        view = None
    payable = payments.account is not None and view is not None and view.state == PaymentState.UNPAID
    page = _status_page(settings.center_name, locale, detail, view, token,
                        _account_name(payments) if payable else None)
    return HTMLResponse(page, headers=PRIVATE)


# --- the payment gateway --------------------------------------------------------------------------


@citizen_router.post("/api/v1/payments/webhook/{provider}", summary="Cổng thanh toán báo đã nhận tiền (có ký)")
async def provider_webhook(provider: str, request: Request, providers: Providers, database: DatabaseDep,
                           payments: Payments) -> Any:
    gateway = providers.get(provider)
    if gateway is None:
        raise HTTPException(404, detail="unknown payment provider")
    body = await request.body()
    if len(body) > 16_384:
        raise HTTPException(413, detail="event too large")
    try:
        event = gateway.verify(body, request.headers)
    except WebhookRejected as exc:
        log.warning("payment webhook from %s refused: %s", provider, exc)
        raise HTTPException(401, detail="rejected") from None
    result = await run_in_threadpool(database.run, payments.record_provider_payment, event.provider,
                                     event.event_id, event.code, event.amount, paid_at=event.paid_at)
    return {"outcome": result.outcome.value, "dossier_code": result.dossier_code}
