"""The VietQR payload as a QR code image: SVG for screens (kiosk, desk, chat), PNG for printing and tests.

Drawn with the ``qrcode`` library, as the ticket page's QR code is (:mod:`bot.routes.queue`);
error correction M, as banking apps expect of VietQR codes.
"""

from __future__ import annotations

import io

__all__ = ["vietqr_png", "vietqr_svg"]


def _code(payload: str, box_size: int = 10):
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    if not payload:
        raise ValueError("an empty payload has no QR code")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=box_size)
    code.add_data(payload)
    code.make(fit=True)
    return code


def vietqr_svg(payload: str) -> bytes:
    """``payload`` as an SVG QR code (one path, scales to any size)."""
    import qrcode.image.svg

    out = io.BytesIO()
    _code(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue()


def vietqr_png(payload: str, box_size: int = 8) -> bytes:
    """``payload`` as a black-on-white PNG QR code."""
    out = io.BytesIO()
    _code(payload, box_size).make_image(fill_color="black", back_color="white").save(out)
    return out.getvalue()
