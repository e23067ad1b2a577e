"""The queue (hàng đợi) of the centre: numbers, counters, calls — framework-free rules over the database.

- :mod:`.service` — :class:`~.service.QueueService`: issue a number, call, recall, start, finish,
  transfer, pause a counter, save services and counters; each in the caller's session.
- :mod:`.limits` — how many numbers a chat conversation, and an anonymous client address, may take.
- :mod:`.waits` — the people ahead of a ticket and the expected minutes.
- :mod:`.board` — the hall display and the day's statistics (reading only).
- :mod:`.views` — the dataclasses the service answers with, and the sentences about them.
- :mod:`.models` — the tables, and the ticket, counter and event enums stored in them.
- :mod:`.config` — the services, counters and priority groups of ``queue.yml``.
"""
