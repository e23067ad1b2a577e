"""The kiosk's device agent: reads a scanner and reports each scan to the gateway.

A QR/barcode scanner is either a serial device (``/dev/ttyACM0``: lines ended by CR or
LF) or a keyboard wedge (it "types" into a terminal: read it from stdin). Each line is
classified and POSTed to ``/api/v1/devices/events``, which hands it to the kiosk page
showing on this device:

- a chip identity card's QR (fields joined by ``|``) → ``cccd_scanned``
- a dossier code such as ``000.00.04.H51-200221-0001`` (on a receipt) → ``dossier_scanned``

Anything else is ignored (logged). Run::

    python -m devices.agent --device quay-1 --source /dev/ttyACM0
    python -m devices.agent --device quay-1 --source -        # keyboard-wedge scanner
    python -m devices.agent --gateway https://motcua.local --key "$MOTCUA_DEVICE_KEY" ...

The gateway accepts scans only from a registered kiosk: ``motcua devices add quay-1
--kind kiosk`` prints the key once; pass it as ``--key`` (or ``MOTCUA_DEVICE_KEY``) and
use the same name as ``--device``. The old shared ``--token`` (``MOTCUA_DEVICE_TOKEN``)
still works when the gateway sets one.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import termios
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import httpx

from motcua.dossier_code import find_dossier_codes

log = logging.getLogger("devices.agent")

MAX_LINE = 2000  # bytes; a scanner never sends more, junk is cut
BAUD_RATES = {9600: termios.B9600, 19200: termios.B19200, 38400: termios.B38400, 57600: termios.B57600,
              115200: termios.B115200}


@dataclass(frozen=True)
class Scan:
    event: str  # "cccd_scanned" | "dossier_scanned"
    data: str


def classify(line: str) -> Scan | None:
    """What a scanned line is, or None when it is neither a CCCD QR nor a dossier code."""
    text = "".join(ch for ch in line if ch.isprintable()).strip()
    if not text:
        return None
    if "|" in text:
        return Scan("cccd_scanned", text)
    codes = find_dossier_codes(text)
    if codes:
        return Scan("dossier_scanned", str(codes[0]))
    return None


def split_lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Bytes as they come from the device → lines (CR, LF or CRLF ended), UTF-8 decoded."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while True:
            ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
            if not ends:
                break
            end = min(ends)
            line, buffer = buffer[:end], buffer[end + 1:]
            if line:
                yield line[:MAX_LINE].decode("utf-8", "replace")
        if len(buffer) > MAX_LINE:  # no terminator in sight: junk, drop it
            buffer = b""
    if buffer.strip():
        yield buffer[:MAX_LINE].decode("utf-8", "replace")


def read_device(path: str, baud: int | None = None) -> Iterator[bytes]:
    """Chunks from a serial device (raw mode, optional baud rate) or a file; stops at its end."""
    fd = os.open(path, os.O_RDONLY | os.O_NOCTTY)
    try:
        if os.isatty(fd):
            tty.setraw(fd, termios.TCSANOW)  # TCSAFLUSH would drop a scan already waiting
            if baud:
                attrs = termios.tcgetattr(fd)
                attrs[4] = attrs[5] = BAUD_RATES[baud]
                termios.tcsetattr(fd, termios.TCSANOW, attrs)
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the device went away (unplugged, pty closed)
                return
            if not chunk:
                return
            yield chunk
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO) -> Iterator[bytes]:
    """A keyboard-wedge scanner typing into stdin: one line at a time."""
    yield from iter(stream.readline, b"")


class GatewayReporter:
    """POSTs scans to the gateway, retrying a little when it is restarting."""

    def __init__(self, gateway_url: str, device: str, token: str = "", client: httpx.Client | None = None,
                 retries: int = 3, backoff_s: float = 0.5, key: str = ""):
        if not device:
            raise ValueError("device must not be empty")
        self.url = gateway_url.rstrip("/") + "/api/v1/devices/events"
        self.device = device
        self.headers = {"X-Device-Key": key} if key else {"X-Device-Token": token} if token else {}
        self.client = client or httpx.Client(timeout=5.0)
        self.retries = retries
        self.backoff_s = backoff_s

    def report(self, scan: Scan) -> int | None:
        """How many kiosk pages got the scan; None when the gateway could not be reached."""
        body = {"device": self.device, "event": scan.event, "data": scan.data}
        for attempt in range(self.retries):
            try:
                response = self.client.post(self.url, json=body, headers=self.headers)
                if response.status_code == 200:
                    return int(response.json().get("delivered", 0))
                log.error("gateway refused the scan: %s %s", response.status_code, response.text[:200])
                return None  # a 4xx will not get better by retrying
            except httpx.HTTPError as exc:
                log.warning("gateway unreachable (%s), attempt %d", exc, attempt + 1)
                time.sleep(self.backoff_s * (2 ** attempt))
        return None

    def close(self) -> None:
        self.client.close()


def run(lines: Iterator[str], reporter: GatewayReporter,
        on_scan: Callable[[Scan, int | None], None] | None = None) -> int:
    """Report every recognised line; returns how many were reported."""
    reported = 0
    for line in lines:
        scan = classify(line)
        if scan is None:
            log.info("ignored a scan that is neither a CCCD nor a dossier code (%d characters)", len(line))
            continue
        delivered = reporter.report(scan)
        reported += delivered is not None
        log.info("%s → %s kiosk page(s)", scan.event, delivered)
        if on_scan is not None:
            on_scan(scan, delivered)
    return reported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.agent",
        description="Đọc máy quét (CCCD, mã hồ sơ) và gửi sự kiện tới cổng Một Cửa / "
                    "read a scanner and report each scan to the gateway.")
    parser.add_argument("--gateway", default=os.environ.get("MOTCUA_GATEWAY_URL", "http://127.0.0.1:8000"),
                        help="địa chỉ cổng / gateway URL")
    parser.add_argument("--device", required=True, help="mã kiosk, trùng ?device= của trang kiosk / kiosk id")
    parser.add_argument("--source", default="-", help="thiết bị (/dev/ttyACM0), tệp, hoặc - (bàn phím) / source")
    parser.add_argument("--baud", type=int, choices=sorted(BAUD_RATES), help="tốc độ cổng nối tiếp / baud rate")
    parser.add_argument("--key", default=os.environ.get("MOTCUA_DEVICE_KEY", ""),
                        help="khóa thiết bị từ motcua devices add (MOTCUA_DEVICE_KEY) / device key")
    parser.add_argument("--token", default=os.environ.get("MOTCUA_DEVICE_TOKEN", ""),
                        help="mã dùng chung cũ (MOTCUA_DEVICE_TOKEN) / legacy shared token")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    chunks = read_stream(sys.stdin.buffer) if args.source == "-" else read_device(args.source, args.baud)
    if not args.key and not args.token:
        parser.error("cần --key (khóa thiết bị từ «motcua devices add») / --key is required")
    reporter = GatewayReporter(args.gateway, args.device, args.token, key=args.key)
    try:
        run(split_lines(chunks), reporter)
    except KeyboardInterrupt:
        pass
    finally:
        reporter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
