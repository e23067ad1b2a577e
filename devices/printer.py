"""Queue tickets on a thermal printer: drawn as an image, sent as ESC/POS.

The ticket is rendered with Pillow and the DejaVu font, so Vietnamese diacritics
print on any ESC/POS printer whatever code pages it has; the image goes out through
python-escpos. The printer comes from one URL in the settings (``MOTCUA_PRINTER_URL``):

- ``""`` — no printer at this kiosk;
- ``dummy`` — keep the bytes in memory (tests, demos);
- ``tcp://192.168.1.50:9100`` — a network printer (raw port 9100);
- ``usb://04b8:0e15`` — a USB printer by vendor:product id (needs ``pyusb``);
- ``serial:///dev/ttyUSB0?baudrate=9600`` — a serial printer (needs ``pyserial``).

Options for any of them: ``?profile=TM-T20II`` (python-escpos profile), ``?width=384`` (58 mm rolls).

A failure never loses the ticket: :func:`print_ticket` returns a
:class:`PrintOutcome` with a Vietnamese message for the citizen and for staff. Every word
printed or shown comes from the message catalogue (``print.ticket.*``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlparse

import qrcode
from PIL import Image, ImageDraw, ImageFont

from knowledge_base.messages import render

log = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
WIDTH_80MM = 576
"""Printable dots across an 80 mm roll at 203 dpi (58 mm rolls: 384, add ``?width=384``)."""
DEFAULT_PROFILE = "TM-T20II"
"""A common 80 mm python-escpos profile; another one with ``?profile=NAME`` in the URL."""


class PrinterError(Exception):
    """The printer could not print (absent, offline, out of paper…)."""


@dataclass(frozen=True)
class TicketPrint:
    """What a paper ticket says."""

    center_name: str
    label: str
    service_name: str
    issued_at: datetime  # already in the centre's time zone
    people_ahead: int
    estimated_wait_min: int
    status_url: str
    priority_name: str = ""


@dataclass(frozen=True)
class PrintOutcome:
    printed: bool
    message: str


class TicketPrinter(Protocol):
    def print_image(self, image: Image.Image) -> None:
        """Print one ticket image and cut; raise :class:`PrinterError` on failure."""


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError as exc:
        raise PrinterError(f"font {FONT_DIR / name} missing: install fonts-dejavu-core") from exc


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if draw.textlength(candidate, font=font) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _qr_image(data: str, size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=8)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    modules = image.width
    scale = max(1, size // modules)
    return image.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


def render_ticket(ticket: TicketPrint, width: int = WIDTH_80MM) -> Image.Image:
    """The ticket as a grayscale image ``width`` dots wide (black on white), cropped to its content."""
    if width < 300:
        raise ValueError(f"ticket width {width} too small: at least 300 dots")
    margin = 16
    inner = width - 2 * margin
    canvas = Image.new("L", (width, 2000), 255)
    draw = ImageDraw.Draw(canvas)
    y = margin

    def centred(text: str, font: ImageFont.FreeTypeFont, gap: int = 6) -> None:
        nonlocal y
        for line in _wrap(draw, text, font, inner):
            left, top, right, bottom = draw.textbbox((0, 0), line, font=font)
            draw.text(((width - (right - left)) // 2 - left, y - top), line, font=font, fill=0)
            y += int(bottom - top) + gap

    centred(ticket.center_name.upper(), _font(24, bold=True))
    y += 4
    draw.line((margin, y, width - margin, y), fill=0, width=2)
    y += 14
    centred(render("print.ticket.heading"), _font(26))
    y += 6
    label_size = 150 if len(ticket.label) <= 4 else 120
    centred(ticket.label, _font(label_size, bold=True), gap=14)
    centred(ticket.service_name, _font(30, bold=True))
    if ticket.priority_name:
        centred(render("print.ticket.priority", name=ticket.priority_name), _font(24))
    y += 8
    if ticket.people_ahead:
        centred(render("print.ticket.ahead", count=ticket.people_ahead), _font(24))
        centred(render("print.ticket.wait", minutes=ticket.estimated_wait_min), _font(24))
    else:
        centred(render("print.ticket.no_wait"), _font(24))
    issued = render("print.ticket.issued_at", time=f"{ticket.issued_at:%H:%M}", date=f"{ticket.issued_at:%d/%m/%Y}")
    centred(issued, _font(22))
    y += 10
    qr = _qr_image(ticket.status_url, min(260, inner))
    canvas.paste(qr, ((width - qr.width) // 2, y))
    y += qr.height + 8
    centred(render("print.ticket.scan"), _font(22))
    centred(render("print.ticket.thanks"), _font(22))
    y += margin
    return canvas.crop((0, 0, width, y))


def thermal_image(image: Image.Image) -> Image.Image:
    """Black and white without dithering: text stays crisp on a thermal head."""
    return image.convert("L").point(lambda v: 255 if v >= 160 else 0).convert("1", dither=Image.Dither.NONE)


class EscposTicketPrinter:
    """Prints through a python-escpos printer made fresh for each ticket by ``connect``."""

    def __init__(self, connect: Callable[[], object], name: str = "escpos", width: int = WIDTH_80MM):
        self.connect = connect
        self.name = name
        self.width = width
        self.last_output: bytes = b""  # what a Dummy printer received (tests, demos)

    def print_image(self, image: Image.Image) -> None:
        printer = None
        try:
            printer = self.connect()
            printer.image(thermal_image(image))  # type: ignore[attr-defined]
            printer.cut()  # type: ignore[attr-defined]
            output = getattr(printer, "output", None)
            if isinstance(output, bytes):
                self.last_output = output
        except PrinterError:
            raise
        except Exception as exc:  # python-escpos raises many kinds: all mean "did not print"
            raise PrinterError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        finally:
            if printer is not None:
                try:
                    printer.close()  # type: ignore[attr-defined]
                except Exception:  # closing a broken connection must not hide the real error
                    log.debug("printer close failed", exc_info=True)


class MemoryPrinter:
    """A fake printer that keeps the images (tests); ``fail`` makes it refuse."""

    def __init__(self, fail: str = ""):
        self.images: list[Image.Image] = []
        self.fail = fail

    def print_image(self, image: Image.Image) -> None:
        if self.fail:
            raise PrinterError(self.fail)
        self.images.append(image)


def printer_from_url(url: str, timeout_s: float = 3.0) -> TicketPrinter | None:
    """The printer a settings URL names (see the module docstring); None when empty."""
    url = (url or "").strip()
    if not url:
        return None
    parsed = urlparse(url)
    scheme = parsed.scheme or parsed.path
    options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    profile = options.get("profile", DEFAULT_PROFILE)  # python-escpos printer profile
    width = int(options.get("width", WIDTH_80MM))
    if scheme == "dummy":
        from escpos.printer import Dummy

        return EscposTicketPrinter(lambda: Dummy(profile=profile), "dummy", width)
    if scheme == "tcp":
        if not parsed.hostname:
            raise ValueError(f"printer URL {url!r}: expected tcp://host:port")
        from escpos.printer import Network

        host, port = parsed.hostname, parsed.port or 9100

        def network():
            printer = Network(host, port=port, timeout=timeout_s, profile=profile)
            printer.open()
            return printer

        return EscposTicketPrinter(network, f"tcp://{host}:{port}", width)
    if scheme == "usb":
        ids = (parsed.netloc or parsed.path).strip("/").split(":")
        if len(ids) != 2:
            raise ValueError(f"printer URL {url!r}: expected usb://VENDOR:PRODUCT in hex")
        vendor, product = (int(x, 16) for x in ids)

        def usb():
            from escpos.printer import Usb

            if not Usb.is_usable():
                raise PrinterError("USB printing needs pyusb: pip install pyusb")
            printer = Usb(vendor, product, timeout=int(timeout_s * 1000), profile=profile)
            printer.open()
            return printer

        return EscposTicketPrinter(usb, f"usb {vendor:04x}:{product:04x}", width)
    if scheme == "serial":
        devfile = parsed.path or parsed.netloc
        baudrate = int(options.get("baudrate", 9600))

        def serial():
            from escpos.printer import Serial

            if not Serial.is_usable():
                raise PrinterError("serial printing needs pyserial: pip install pyserial")
            printer = Serial(devfile, baudrate=baudrate, timeout=timeout_s, profile=profile)
            printer.open()
            return printer

        return EscposTicketPrinter(serial, f"serial {devfile}", width)
    raise ValueError(f"printer URL {url!r}: use dummy, tcp://, usb:// or serial://")


def print_ticket(printer: TicketPrinter | None, ticket: TicketPrint) -> PrintOutcome:
    """Render and print; never raises: the outcome says what the citizen should be told."""
    if printer is None:
        return PrintOutcome(False, render("print.ticket.no_printer", label=ticket.label))
    try:
        printer.print_image(render_ticket(ticket, getattr(printer, "width", WIDTH_80MM)))
    except PrinterError as exc:
        log.warning("ticket %s not printed: %s", ticket.label, exc)
        return PrintOutcome(False, render("print.ticket.failed", label=ticket.label))
    return PrintOutcome(True, render("print.ticket.printed", label=ticket.label))


__all__ = [
    "EscposTicketPrinter", "MemoryPrinter", "PrintOutcome", "PrinterError", "TicketPrint", "TicketPrinter",
    "print_ticket", "printer_from_url", "render_ticket", "thermal_image",
]
