"""Fakes shared by the queue tests: a settable clock, a small centre, a notifier that keeps messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from motcua.queue.config import CounterConfig, PriorityCategory, QueueConfig, ServiceConfig


class Clock:
    """A clock the test moves by hand (timezone-aware, UTC)."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# 08:00 in Hà Nội on a Wednesday.
MORNING = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

SMALL_CENTRE = QueueConfig(
    services=(ServiceConfig("HT", "A", "Hộ tịch", ("Hộ tịch",), 10),
              ServiceConfig("CT", "B", "Chứng thực", ("Chứng thực",), 5),
              ServiceConfig("TN", "T", "Tiếp nhận chung", (), 5)),
    counters=(CounterConfig(1, "Quầy số 1", ("HT",)), CounterConfig(2, "Quầy số 2", ("HT", "CT")),
              CounterConfig(3, "Quầy số 3", ("CT", "TN"))),
    priorities=(PriorityCategory("khuyet_tat", "Người khuyết tật", 3),
                PriorityCategory("cao_tuoi", "Người cao tuổi", 2),
                PriorityCategory("con_nho", "Người đưa con nhỏ", 1)),
    default_service="TN", anti_starvation=2, near_turn_ahead=3,
)


class Sent:
    """A fake notifier: keeps what would have been sent."""

    def __init__(self):
        self.messages: list[tuple[str, str, str]] = []

    def notify(self, channel: str, sender_id: str, text: str, custom: dict | None = None) -> None:
        self.messages.append((channel, sender_id, text))
