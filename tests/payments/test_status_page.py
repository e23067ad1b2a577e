"""The dossier's status page, opened by the payment link the chat sends: the status, the due date and,
while the fee is unpaid, the VietQR image (read back and decoded), the amount and the transfer note;
the receipt link once paid; no QR when free; the same 404 for every refused link, in the payment link's own
words; English on request; no answer to a secret link cached or indexed by search engines."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from actions.forms import DeclarationFiler
from bot.app import create_app
from knowledge_base.messages import render
from motcua.db import shared_database, upgrade_database
from motcua.dossiers.service import DossierService
from motcua.payments.citizen import PAYMENT_LINK, payment_message
from motcua.payments.service import PaymentService
from motcua.payments.vietqr import decode_payload
from tests.dossiers.support import AGENCY, add_staff, application, gateway_settings
from tests.payments.conftest import ACCOUNT, seed_payment_procedures

LATE = {"birth_child_name": "Nguyễn Minh An", "birth_child_birth_date": date(2020, 5, 1)}
ROBOTS_META = '<meta name="robots" content="noindex, nofollow">'
PRIVATE = {"cache-control": "no-store", "vary": "Accept-Language", "x-robots-tag": "noindex, nofollow"}


@pytest.fixture
def url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'page.sqlite3'}"
    upgrade_database(url)
    seed_payment_procedures(url)
    add_staff(url)
    return url


@pytest.fixture
def client(tmp_path, url):
    app = create_app(gateway_settings(tmp_path, url, payment_bank_bin=ACCOUNT.bank_bin,
                                      payment_account_number=ACCOUNT.account_number,
                                      payment_account_name=ACCOUNT.account_name))
    with TestClient(app) as client:
        yield client


def services(url: str) -> tuple[DossierService, PaymentService]:
    payments = PaymentService(agency_code=AGENCY, account=ACCOUNT)
    return DossierService(agency_code=AGENCY, fees=payments), payments


def filed_in_chat(url: str, values: dict = LATE) -> dict:
    dossiers, payments = services(url)
    return DeclarationFiler(dossiers, shared_database(url), "", payments).file(
        application(values=values, form_id="birth_registration"))


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_page_of_an_unpaid_dossier_shows_a_vietqr_that_decodes_to_its_fee_and_note(client, url):
    outcome = filed_in_chat(url)
    code, card = outcome["code"], outcome["payment"]
    assert card["page"].startswith(f"/dossiers/{code}/payment?token=")
    message = payment_message(card)
    assert card["page"] in message["text"]  # the chat says where the page is

    page = client.get(card["page"])
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = text_of(page.text)
    for expected in (f"Hồ sơ {code}", "Đăng ký khai sinh", "Đã tiếp nhận", "Chưa nộp phí", "Số tiền 4.000 đồng",
                     f"Nội dung chuyển khoản {code}", f"Người nhận {ACCOUNT.account_name}"):
        assert expected in text, expected
    assert "Nguyễn" not in page.text and "001190012345" not in page.text  # nothing personal
    image = re.search(r'<img id="vietqr" src="([^"]+)"', page.text)
    assert image is not None
    png = client.get(html.unescape(image.group(1)))
    assert png.status_code == 200
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    decoded = decode_payload(found[0].text)  # what the citizen's banking app reads, tag by tag
    assert (decoded.bank_bin, decoded.account_number, decoded.amount, decoded.note) == \
        (ACCOUNT.bank_bin, ACCOUNT.account_number, 4000, code)


def test_once_paid_the_page_offers_the_receipt_and_no_qr(client, url):
    outcome = filed_in_chat(url)
    _, payments = services(url)
    shared_database(url).run(payments.mark_cash, outcome["code"], actor="staff:thuha")
    page = client.get(outcome["payment"]["page"])
    assert page.status_code == 200
    assert 'id="vietqr"' not in page.text and "Nội dung chuyển khoản" not in page.text
    assert "Đã nộp phí" in text_of(page.text)
    receipt = re.search(r'<a id="receipt" href="([^"]+)"', page.text)
    pdf = client.get(html.unescape(receipt.group(1)))
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_a_free_dossier_page_shows_no_qr(client, url):
    dossiers, _ = services(url)
    on_time = {**LATE, "birth_child_birth_date": date.today() - timedelta(days=3)}
    code = shared_database(url).run(dossiers.file_dossier, application(values=on_time, form_id="birth_registration")).code
    token = shared_database(url).run(dossiers.issue_link, code, purpose=PAYMENT_LINK)
    page = client.get(f"/dossiers/{code}/payment", params={"token": token})
    assert page.status_code == 200
    assert "Không phải nộp phí" in text_of(page.text) and "<img" not in page.text


def test_every_refused_link_to_the_page_answers_the_same_404(client, url):
    outcome = filed_in_chat(url)
    other = filed_in_chat(url)
    dossiers, _ = services(url)
    code = outcome["code"]
    declaration = shared_database(url).run(dossiers.issue_link, code)  # a declaration link does not open the payment page
    other_token = other["payment"]["page"].split("token=")[1]
    answers = [client.get(f"/dossiers/{code}/payment", params={"token": t} if t is not None else None)
               for t in (None, "", "x" * 80, "guess", other_token, declaration)]
    assert {a.status_code for a in answers} == {404} and len({a.text for a in answers}) == 1
    assert code not in answers[0].text


def test_the_page_speaks_english_to_an_english_browser(client, url):
    outcome = filed_in_chat(url)
    page = client.get(outcome["payment"]["page"], headers={"Accept-Language": "en-GB,en;q=0.8"})
    text = text_of(page.text)
    assert page.status_code == 200 and 'lang="en"' in page.text
    for expected in (f"Application {outcome['code']}", "Fee not paid yet", "Amount 4.000 VND", "Transfer note"):
        assert expected in text, expected


def private(answer) -> dict[str, str]:
    return {name: answer.headers.get(name) for name in PRIVATE}


def test_the_page_and_its_refusal_are_kept_out_of_search_engines(client, url):
    outcome = filed_in_chat(url)
    page = client.get(outcome["payment"]["page"])
    refused = client.get(f"/dossiers/{outcome['code']}/payment", params={"token": "guess"})
    english = client.get(f"/dossiers/{outcome['code']}/payment", params={"token": "guess", "lang": "en"})
    assert (page.status_code, refused.status_code, english.status_code) == (200, 404, 404)
    for answer in (page, refused, english):
        assert private(answer) == PRIVATE
        assert answer.text.count(ROBOTS_META) == 1 and answer.text.index(ROBOTS_META) < answer.text.index("</head>")
    # the payment link's own words, not the declaration link's
    assert html.escape(render("page.payment.link_refused")) in refused.text
    assert html.escape(render("page.payment.link_refused", locale="en")) in english.text
    assert "tờ khai" not in refused.text.lower() and "declaration" not in english.text.lower()


def test_the_fee_as_json_by_link_or_by_pin_is_never_cached_nor_indexed(client, url):
    outcome = filed_in_chat(url)
    by_link = client.get(outcome["payment"]["page"].replace("/dossiers/", "/api/v1/dossiers/", 1))
    assert by_link.status_code == 200 and by_link.json()["state"] == "unpaid" and private(by_link) == PRIVATE
    dossiers, _ = services(url)
    filed = shared_database(url).run(dossiers.file_dossier, application(values=LATE, form_id="birth_registration", channel="counter",
                                              sender_id=""))
    by_pin = client.post(f"/api/v1/dossiers/{filed.code}/payment", json={"pin": filed.lookup_pin})
    assert by_pin.status_code == 200, by_pin.text
    assert "token=" in by_pin.json()["qr_png"] and private(by_pin) == PRIVATE
    qr = client.get(by_pin.json()["qr_png"])
    assert qr.status_code == 200 and qr.headers["x-robots-tag"] == "noindex, nofollow"


def test_refused_payment_links_say_so_in_their_own_words_and_the_declaration_keeps_its_own(client, url):
    outcome = filed_in_chat(url)
    dossiers, payments = services(url)
    code = outcome["code"]
    base = f"/api/v1/dossiers/{code}/payment"
    declaration = shared_database(url).run(dossiers.issue_link, code)
    answers = [client.get(base, params={"token": "guess"}), client.get(base, params={"token": declaration}),
               client.get(f"{base}/vietqr.png", params={"token": "guess"}),
               client.get(f"{base}/receipt.pdf", params={"token": "guess"})]
    assert {a.status_code for a in answers} == {404} and len({a.text for a in answers}) == 1
    assert answers[0].json()["detail"] == render("page.payment.link_refused") and private(answers[0]) == PRIVATE
    english = client.get(base, params={"token": "guess"}, headers={"Accept-Language": "en"})
    assert english.json()["detail"] == render("page.payment.link_refused", locale="en")

    refused_declaration = client.get(f"/api/v1/dossiers/{code}/declaration.pdf", params={"token": "guess"})
    assert refused_declaration.json()["detail"] == render("page.dossier.link_refused")
    assert refused_declaration.headers["x-robots-tag"] == "noindex, nofollow"
    pdf = client.get(f"/api/v1/dossiers/{code}/declaration.pdf", params={"token": declaration})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert pdf.headers["x-robots-tag"] == "noindex, nofollow" and pdf.headers["cache-control"] == "no-store"
    shared_database(url).run(payments.mark_cash, code, actor="staff:thuha")
    receipt = client.get(f"{base}/receipt.pdf", params={"token": outcome["payment"]["page"].split("token=")[1]})
    assert receipt.status_code == 200 and receipt.headers["x-robots-tag"] == "noindex, nofollow"
