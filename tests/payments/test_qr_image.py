"""The VietQR code as an image reads back, with a barcode reader, as the very payload."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import zxingcpp
from PIL import Image

from motcua.payments.qr_image import vietqr_png, vietqr_svg
from motcua.payments.vietqr import build_payload, decode_payload
from tests.payments.conftest import ACCOUNT

CODE = "000.00.04.H51-260310-0001"


def test_the_png_reads_back_as_the_payload():
    payload = build_payload(ACCOUNT, 8000, CODE)
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(vietqr_png(payload))))
    assert [r.text for r in results] == [payload]
    assert decode_payload(results[0].text).note == CODE


def test_the_svg_is_one_drawing():
    svg = ET.fromstring(vietqr_svg(build_payload(ACCOUNT, 8000, CODE)))
    assert svg.tag.endswith("svg") and len([e for e in svg.iter() if e.tag.endswith("path")]) == 1
