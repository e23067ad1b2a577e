"""The paper ticket: a Pillow image with Vietnamese text and a QR code, sent as ESC/POS."""

from __future__ import annotations

import io
import socket
import threading
from datetime import datetime

import pytest
import zxingcpp
from PIL import Image

from devices.printer import (
    WIDTH_80MM,
    EscposTicketPrinter,
    MemoryPrinter,
    TicketPrint,
    print_ticket,
    printer_from_url,
    render_ticket,
)
from knowledge_base.messages import render
from tests.servers import free_port

TICKET = TicketPrint(center_name="Trung tâm Phục vụ hành chính công xã Demo", label="A012",
                     service_name="Hộ tịch", issued_at=datetime(2026, 11, 25, 8, 12), people_ahead=4,
                     estimated_wait_min=15, status_url="http://127.0.0.1:8000/queue/ticket/tok-123",
                     priority_name="Người cao tuổi")


def test_ticket_renders_to_a_png_one_roll_wide_with_a_readable_qr_code():
    image = render_ticket(TICKET)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    png = Image.open(io.BytesIO(buffer.getvalue()))
    assert png.format == "PNG"
    assert png.width == WIDTH_80MM and 600 <= png.height <= 1200
    found = zxingcpp.read_barcodes(png)
    assert [(r.format.name, r.text) for r in found] == [("QRCode", TICKET.status_url)]
    # ink in the top band (centre name) and in the big number: the text really was drawn
    dark = png.convert("L").point(lambda v: 255 if v < 128 else 0)
    assert dark.crop((0, 0, png.width, 80)).getbbox() is not None


def test_a_58mm_ticket_is_narrower_and_still_scans():
    image = render_ticket(TICKET, width=384)
    assert image.width == 384
    assert zxingcpp.read_barcodes(image)[0].text == TICKET.status_url
    with pytest.raises(ValueError):
        render_ticket(TICKET, width=100)


def test_the_dummy_printer_receives_a_raster_image_and_a_cut():
    printer = printer_from_url("dummy")
    outcome = print_ticket(printer, TICKET)
    assert outcome.printed and "A012" in outcome.message
    data = printer.last_output
    assert data.startswith(b"\x1dv0")  # GS v 0: raster bit image
    assert b"\x1dV" in data[-8:]  # GS V: cut
    width_bytes = int.from_bytes(data[4:6], "little")
    assert width_bytes == WIDTH_80MM // 8


def test_a_network_printer_gets_the_same_bytes_over_tcp():
    received = bytearray()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def accept():
        connection, _ = server.accept()
        with connection:
            while chunk := connection.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=accept)
    thread.start()
    outcome = print_ticket(printer_from_url(f"tcp://127.0.0.1:{port}"), TICKET)
    thread.join(5)
    server.close()
    assert outcome.printed
    assert received.startswith(b"\x1dv0") and len(received) > 10_000


def test_a_printer_that_cannot_be_reached_gives_a_polite_message_not_an_exception():
    outcome = print_ticket(printer_from_url(f"tcp://127.0.0.1:{free_port()}"), TICKET)
    assert not outcome.printed
    assert outcome.message == render("print.ticket.failed", label="A012")
    broken = print_ticket(MemoryPrinter(fail="hết giấy"), TICKET)
    assert not broken.printed and broken.message == render("print.ticket.failed", label="A012")
    none = print_ticket(None, TICKET)
    assert not none.printed and none.message == render("print.ticket.no_printer", label="A012")


def test_printer_urls_are_parsed_or_refused_clearly():
    assert printer_from_url("") is None
    assert isinstance(printer_from_url("usb://04b8:0e15"), EscposTicketPrinter)
    assert printer_from_url("dummy?width=384").width == 384
    assert printer_from_url("serial:///dev/ttyUSB0?baudrate=19200").name == "serial /dev/ttyUSB0"
    for bad in ("lp://x", "usb://nope", "tcp://"):
        with pytest.raises(ValueError):
            printer_from_url(bad)
