"""Filling the birth-registration declaration with the real assistant: Rasa 3.6 with the trained
model, the action server and the gateway's kiosk channel — from «điền tờ khai» to a filed
dossier whose declaration PDF downloads.

One conversation, in order: an identity card scanned at the kiosk (device agent → gateway →
kiosk page → chat socket) and confirmed; a question in the middle; wrong values refused with
their reason and corrected; a correction from the summary; filing.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from websockets.sync.client import connect

from actions.answers import Aspect, answer
from bot.devices import DEVICE_COOKIE, DEVICE_HEADER
from knowledge_base.curation.fees import effective_fee_table
from knowledge_base.store import get_procedure
from motcua.db import session_scope
from motcua.devices import add_device
from motcua.dossier_code import parse_dossier_code
from motcua.dossiers.models import DossierRow
from tests.stack import running_stack, stack_settings
from tests.test_end_to_end import Kiosk

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEVICE = "quay-form-1"
REQUESTER_QR = "001190012345||Nguyễn Thị Lan|15031990|Nữ|Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # A generous deadline: this checks the dialogue, not the latency (other work shares the CPU);
    # and a citizen filling a form answers faster than the chat rate limit allows a chatter.
    settings = stack_settings(tmp_path_factory.mktemp("form-sqlite"), rasa_timeout_s=15.0,
                              rate_limit_per_minute=600.0, rate_limit_burst=100)
    with running_stack(settings) as running:
        yield running


class KioskWithScanner(Kiosk):
    """The kiosk page: its chat socket, and its device socket that receives the scanner's codes."""

    def __init__(self, gateway_port: int, session: str, device: str, key: str):
        enrolled = {"Cookie": f"{DEVICE_COOKIE}={key}"}  # what /kiosk/enrol leaves in the kiosk's browser
        super().__init__(gateway_port, session, headers=enrolled)
        self.port, self.device, self.key = gateway_port, device, key
        self.events = connect(f"ws://127.0.0.1:{gateway_port}/ws/kiosk/events?session={session}",
                              open_timeout=5, additional_headers=enrolled)
        assert json.loads(self.events.recv(timeout=5)) == {"type": "ready", "device": device}

    def scan(self, data: str) -> list[dict]:
        """The device agent posts the scan; the page passes the frame it receives on to the chat."""
        response = httpx.post(f"http://127.0.0.1:{self.port}/api/v1/devices/events",
                              json={"device": self.device, "event": "cccd_scanned", "data": data},
                              headers={DEVICE_HEADER: self.key}, timeout=5)
        assert response.status_code == 200 and response.json()["delivered"] == 1, response.text
        frame = json.loads(self.events.recv(timeout=5))
        assert frame == {"type": "device", "event": "cccd_scanned", "data": data}
        self.ws.send(json.dumps(frame))
        while True:
            reply = json.loads(self.ws.recv(timeout=20))
            if reply["type"] != "typing":
                return reply["messages"]

    def say(self, text: str, payload: str | None = None) -> list[dict]:
        self.ws.send(json.dumps({"type": "message", "text": text, "payload": payload}))
        while True:
            frame = json.loads(self.ws.recv(timeout=20))
            if frame["type"] != "typing":
                return frame["messages"]

    def close(self) -> None:
        self.events.close()
        super().close()


def register_kiosk(stack, name: str) -> str:
    """``motcua devices add NAME --kind kiosk``: the key an admin pastes at /kiosk/enrol."""
    with session_scope(stack.settings.sqlalchemy_url) as session:
        return add_device(session, name, "kiosk", actor="test")[1]


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def payloads(messages: list[dict]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def asks(messages: list[dict], prompt_start: str) -> bool:
    """The last message asks the question whose prompt starts with ``prompt_start``."""
    return bool(messages) and prompt_start in (messages[-1].get("text") or "")


def test_filling_the_birth_declaration_from_first_question_to_filed_dossier_and_pdf(stack):
    kiosk = KioskWithScanner(stack.settings.gateway_port, "form-e2e", DEVICE, register_kiosk(stack, DEVICE))

    reply = kiosk.say("tôi muốn điền tờ khai khai sinh")
    assert "Tờ khai đăng ký khai sinh" in text_of(reply), reply
    assert asks(reply, "Xin ông/bà cho biết họ, chữ đệm và tên của mình"), reply

    # (c) The card is scanned at the kiosk: shown, confirmed, the requester's fields filled.
    reply = kiosk.scan(REQUESTER_QR)
    shown = text_of(reply)
    assert "Nguyễn Thị Lan" in shown and "*********345" in shown and "Số 12 Tràng Tiền" in shown, reply
    assert "001190012345" not in shown  # read back masked; the dossier keeps the whole number
    assert payloads(reply) == ["/affirm", "/deny"]
    reply = kiosk.say("Đồng ý", "/affirm")
    assert "tôi đã điền các thông tin từ thẻ căn cước" in text_of(reply)
    assert asks(reply, "Ông/bà là gì của cháu được khai sinh?"), reply
    assert "Mẹ" in payloads(reply)

    reply = kiosk.say("Mẹ", "Mẹ")
    assert asks(reply, "Xin ông/bà cho số điện thoại"), reply
    assert "Bỏ qua" in payloads(reply)
    reply = kiosk.say("0912 345 678")
    assert asks(reply, "Cháu được đặt họ, chữ đệm và tên là gì?"), reply

    # (b) A question in the middle: answered from the knowledge base, then the same question.
    reply = kiosk.say("lệ phí bao nhiêu?")
    with session_scope(stack.settings.sqlalchemy_url) as session:
        birth = get_procedure(session, "1.001193")
        rules = effective_fee_table(session).rules_for("1.001193")  # the centre's fee table, said with the fee
    assert answer(birth, Aspect.FEE, fee_rules=rules).text in text_of(reply), reply
    assert asks(reply, "Cháu được đặt họ, chữ đệm và tên là gì?"), reply

    reply = kiosk.say("trần minh khang")
    assert asks(reply, "Cháu sinh ngày, tháng, năm nào?"), reply

    # (a) Wrong values: the reason, the same question again; then the right value.
    reply = kiosk.say("31/02/2024")
    assert "Ngày 31/02/2024 không có thật" in text_of(reply), reply
    assert asks(reply, "Cháu sinh ngày, tháng, năm nào?"), reply
    reply = kiosk.say("15 tháng 3 năm 2024")
    assert asks(reply, "Cháu là bé trai hay bé gái?"), reply

    for typed, next_prompt in [
        ("Nam", "Cháu mang dân tộc gì?"),
        ("Kinh", "Cháu mang quốc tịch nào?"),
        ("Việt Nam", "Cháu sinh ở đâu"),
        ("Trạm y tế xã Tân Lập, tỉnh Phú Thọ", "Quê quán của cháu ở đâu?"),
        ("Xã Tân Lập, tỉnh Phú Thọ", "Họ, chữ đệm và tên của mẹ cháu là gì?"),
        ("Nguyễn Thị Lan", "Mẹ cháu sinh ngày, tháng, năm nào?"),
        ("15/03/1990", "Mẹ cháu là người dân tộc gì?"),
        ("Kinh", "Mẹ cháu mang quốc tịch nào?"),
        ("Việt Nam", "Xin cho biết số căn cước của mẹ cháu"),
    ]:
        reply = kiosk.say(typed)
        assert asks(reply, next_prompt), (typed, reply)

    reply = kiosk.say("0011900123456")  # 13 digits
    assert "Số căn cước phải có đúng 12 chữ số, số ông/bà nhập có 13 chữ số" in text_of(reply), reply
    assert asks(reply, "Xin cho biết số căn cước của mẹ cháu"), reply
    reply = kiosk.say("001190012345")
    assert asks(reply, "Mẹ cháu đang cư trú ở đâu?"), reply

    for typed, next_prompt in [
        ("Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội", "Họ, chữ đệm và tên của cha cháu là gì?"),
        ("Trần Văn Hùng", "Cha cháu sinh ngày, tháng, năm nào?"),
        ("02/09/1988", "Cha cháu là người dân tộc gì?"),
        ("Kinh", "Cha cháu mang quốc tịch nào?"),
        ("Việt Nam", "Xin cho biết số căn cước của cha cháu"),
        ("Bỏ qua", "Cha cháu đang cư trú ở đâu?"),
        # the parents' marriage certificate is asked so the registry can look it up; optional
        ("Số 12 Tràng Tiền, Hoàn Kiếm, Hà Nội", "Nếu cha và mẹ cháu đã đăng ký kết hôn"),
        ("Bỏ qua", "Cha và mẹ cháu đăng ký kết hôn ở đâu"),
        ("Bỏ qua", "Cha và mẹ cháu đăng ký kết hôn ngày nào?"),
    ]:
        reply = kiosk.say(typed, typed if typed == "Bỏ qua" else None)
        assert asks(reply, next_prompt), (typed, reply)

    reply = kiosk.say("Bỏ qua", "Bỏ qua")
    summary = text_of(reply)
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in summary and "Trần Minh Khang" in summary, reply
    assert "*********345" in summary and "001190012345" not in summary and "0912345678" not in summary
    assert payloads(reply) == ["/affirm", "/correct_field", "/cancel"]

    # (d) A correction of an earlier field from the summary, then back to the summary.
    reply = kiosk.say("sửa lại tên cháu")
    assert asks(reply, "Cháu được đặt họ, chữ đệm và tên là gì?"), reply
    assert "Hiện đang khai: Trần Minh Khang" in text_of(reply)
    reply = kiosk.say("Trần Minh Khôi")
    assert "tôi đã sửa «Họ, chữ đệm và tên» thành: Trần Minh Khôi" in text_of(reply), reply
    assert "TỜ KHAI ĐĂNG KÝ KHAI SINH" in text_of(reply) and "Trần Minh Khôi" in text_of(reply)

    # (e) Filing: the dossier code, due date and the link to the declaration PDF.
    reply = kiosk.say("Nộp hồ sơ", "/affirm")
    done = text_of(reply)
    code = re.search(r"Mã số hồ sơ: (\S+)", done)[1]
    assert str(parse_dossier_code(code)) == code
    assert code.startswith(stack.settings.agency_code + "-")
    assert "Ngày hẹn trả kết quả:" in done
    pin = re.search(r"Mã tra cứu: (\d{6})\b", done)[1]  # the second factor of a later lookup
    public = httpx.get(f"http://127.0.0.1:{stack.settings.gateway_port}/api/v1/dossiers/{code}", timeout=5).json()
    assert public["procedure_name"] == "" and "Lan" not in json.dumps(public, ensure_ascii=False)
    verified = httpx.post(f"http://127.0.0.1:{stack.settings.gateway_port}/api/v1/dossiers/lookup",
                          json={"code": code, "pin": pin}, timeout=5).json()
    assert verified["verified"] is True and "khai sinh" in verified["procedure_name"], verified
    link = re.search(r"(http://\S+/api/v1/dossiers/\S+/declaration\.pdf\?token=[\w-]+)", done)[1]

    with session_scope(stack.settings.sqlalchemy_url) as session:
        row = session.scalar(select(DossierRow).where(DossierRow.code == code))
        assert row is not None
        assert (row.form_id, row.procedure_code, row.channel) == ("birth_registration", "1.001193", "kiosk")
        assert row.values["birth_child_name"] == "Trần Minh Khôi"
        assert row.values["birth_child_birth_date"] == "2024-03-15"
        assert row.values["birth_requester_cccd"] == "001190012345"  # from the scanned card
        assert row.values["birth_mother_cccd"] == "001190012345"
        assert row.values["birth_requester_relationship"] == "Mẹ"
        assert "birth_father_cccd" not in row.values  # skipped
        assert (row.applicant_name, row.applicant_phone) == ("Nguyễn Thị Lan", "0912345678")

    pdf = httpx.get(link, timeout=20)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = unicodedata.normalize("NFC", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert "Trần Minh Khôi" in text and code in text
    forged = httpx.get(link.rsplit("=", 1)[0] + "=" + "0" * 32, timeout=10)
    assert forged.status_code == 404

    # The conversation goes on normally after the form.
    reply = kiosk.say("cảm ơn em")
    assert reply and "Cháu" not in text_of(reply)
    kiosk.close()


def test_cancelling_in_the_middle_clears_the_form_and_a_new_one_starts_fresh(stack):
    kiosk = KioskWithScanner(stack.settings.gateway_port, "form-e2e-cancel", DEVICE + "-b",
                             register_kiosk(stack, DEVICE + "-b"))
    reply = kiosk.say("tôi muốn điền tờ khai khai sinh")
    assert asks(reply, "Xin ông/bà cho biết họ, chữ đệm và tên của mình"), reply
    reply = kiosk.say("Nguyễn Thị Lan")
    assert asks(reply, "Ông/bà đang cư trú ở đâu"), reply
    reply = kiosk.scan("001190012345|Nguyễn Thị Lan|15031990")  # a malformed payload
    assert "không phải mã QR của thẻ căn cước" in text_of(reply), reply
    assert asks(reply, "Ông/bà đang cư trú ở đâu"), reply
    reply = kiosk.say("thôi không khai nữa")
    assert "tôi đã dừng việc điền tờ khai" in text_of(reply), reply
    reply = kiosk.say("tôi muốn điền tờ khai khai sinh")
    assert asks(reply, "Xin ông/bà cho biết họ, chữ đệm và tên của mình"), reply
    assert "Hiện đang khai" not in text_of(reply)
    kiosk.close()
