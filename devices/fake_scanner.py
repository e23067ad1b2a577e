"""A scanner for tests and demos: a pseudo-terminal that behaves like a serial QR scanner.

The agent opens :attr:`FakeScanner.path` exactly as it would open ``/dev/ttyACM0``;
:meth:`FakeScanner.scan` "beeps" one code (the text and a CR, as real scanners send).

    python -m devices.fake_scanner      # prints the device path, then sends each line you type
"""

from __future__ import annotations

import os
import sys
import tty


class FakeScanner:
    def __init__(self, terminator: bytes = b"\r"):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.terminator = terminator

    def scan(self, text: str) -> None:
        os.write(self._master, text.encode("utf-8") + self.terminator)

    def close(self) -> None:
        """Unplug: the agent reading the device sees its end."""
        for fd in (self._slave, self._master):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> FakeScanner:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


CCCD_EXAMPLE = "001099012345|012345678|Nguyễn Văn An|15031990|Nam|Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội|01072021"
DOSSIER_EXAMPLE = "000.00.04.H51-250312-0007"


def main() -> int:
    with FakeScanner() as scanner:
        print(f"Máy quét giả / fake scanner: {scanner.path}  (gõ một dòng rồi Enter; Ctrl-D để thoát)")
        print(f"Ví dụ CCCD: {CCCD_EXAMPLE}\nVí dụ mã hồ sơ: {DOSSIER_EXAMPLE}")
        for line in sys.stdin:
            scanner.scan(line.rstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
