"""Fixtures the security tests share with the channel tests: fake Rasa, Telegram and Zalo servers,
a migrated SQLite file, channel settings, and the Zalo webhook's clock set to the recorded events."""

from __future__ import annotations

from tests.channels import conftest as _channels

fakes = _channels.fakes
migrated = _channels.migrated
settings = _channels.settings
zalo_clock_at_the_recordings = _channels._zalo_clock_at_the_recordings
