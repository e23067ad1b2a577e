"""Chaos: citizens keep being served while processes die and the outside world goes away.

For SQLite (a throw-away data directory) and PostgreSQL at 127.0.0.1:5432 (a throw-away
database, dropped at the end), the whole assistant runs under ``motcua serve`` — the
supervisor that restarts a dead child — with the national portal, the Telegram Bot API and Zalo's
OA API replaced by local fakes (:mod:`devices.fake_portal`, ``tests/channels/fakes.py``) that the
benchmark takes down and brings back. Meanwhile:

- **citizens** (threads), each one after the other: a question through the REST chat; a queue
  number through Telegram (``/laysothutu`` posted to ``/webhooks/telegram`` as Telegram would,
  resent as a person would when no answer comes); a dossier filed at the desk API with its
  ``Idempotency-Key`` (resent with the same key on a dropped connection, 5xx or 429, as the desk
  page does). Every third citizen also asks a question over Zalo (a signed ``user_send_text``
  posted to ``/webhooks/zalo``, ``X-ZEvent-Signature`` = ``mac=`` + sha256 of app id + body +
  timestamp + OA secret key; asked again when no answer comes). Each remembers what it was *told*:
  the number's label, the dossier's code, which platform events the gateway acknowledged;
- **staff** call the next number at the counters, so «your turn» notices go out to Telegram;
- **chaos** ``kill -9``s a random serving child of ``motcua serve`` (Rasa, action server,
  gateway — the gateway carries the portal outbox worker and the notification relay) every few
  seconds, and takes the fake portal, the fake Telegram and the fake Zalo down and up again.

At the end it waits for every child to serve again and for the outboxes to drain, then checks
in the database: **lost** — a dossier or number a citizen was told about that is not there, a
notice / portal message marked sent that the fake never received, a Telegram or Zalo event the
gateway acknowledged (200) that was never handled (the webhook inbox), or a Zalo citizen whose
acknowledged question got no answer at all; **duplicated** — more than one dossier for one
citizen's filing key, or more than one number for one citizen's request; **stuck** — a notice,
portal message or inbox event neither done nor dead after the recovery window. One
JSON line per database; all of them go to ``bench/results/chaos.json`` (``chaos-quick.json``
with ``--quick``).

Run: ``.venvs/app/bin/python bench/bench_chaos.py [--quick] [--db sqlite|postgres|both]``
(``--quick``: 10 kills a database, a few minutes; the full run: 200 kills).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.auth import COOKIE as STAFF_COOKIE  # noqa: E402
from bot.dialogue import BUSY  # noqa: E402
from devices.fake_portal import EVENTS_PATH, PortalState, create_portal_app  # noqa: E402
from knowledge_base.messages import render  # noqa: E402
from motcua.db import session_scope, upgrade_database  # noqa: E402
from motcua.dossiers.models import DossierNotification, DossierRow, PortalOutboxRow  # noqa: E402
from motcua.models import InboundEvent  # noqa: E402
from motcua.queue.models import QueueNotification, QueueTicket  # noqa: E402
from motcua.supervisor import read_status  # noqa: E402
from tests.channels.fakes import (  # noqa: E402
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    ZALO_APP_ID,
    ZALO_APP_SECRET,
    ZALO_OA_SECRET,
    fake_telegram_api,
    fake_zalo_api,
    zalo_signature,
)
from tests.servers import free_port, serve_in_thread  # noqa: E402

MOTCUA = ROOT / ".venvs" / "app" / "bin" / "motcua"
MODELS = ROOT / "var" / "models"
STAFF, STAFF_PASSWORD = "chaos.staff", "mat-khau-hon-loan-1"
PROCEDURE = "1.001193"  # Đăng ký khai sinh, in the default catalogue
TICKET_SERVICE, TICKET_COUNTER = "TN", 5  # what /laysothutu gets without naming a service; the counter serving it
LABEL = re.compile(r"\b([A-Z]\d{3,4})\b")
ZALO_ACCESS, ZALO_REFRESH = "chaos-access-0", "chaos-refresh-0"
ZALO_OA = "579745863508352884"  # the OA's id, as the recipient of a citizen's event
ZALO_QUESTION = "lệ phí đăng ký khai sinh là bao nhiêu"
ZALO_EVERY = 3  # one citizen in this many also asks over Zalo
VICTIMS = ("rasa", "action-server", "gateway")
RETRIED = {429, 500, 502, 503, 504}


FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
GIVEN = ("Lan", "Mai", "Hoa", "Hương", "Thảo", "Ngọc", "Yến", "Trang", "Hạnh")
CCCD_PREFIX = "0011"  # Hà Nội, a man born in the 1900s: every citizen of the run has a CCCD of his own


def cccd_of(i: int) -> str:
    return f"{CCCD_PREFIX}{i:08d}"


@dataclass
class Plan:
    kills: int
    kill_every_s: tuple[float, float]
    outage_every: int  # one portal or Telegram outage per this many kills
    outage_s: tuple[float, float]
    workers: int
    drain_s: float  # the recovery window for the outboxes, after every child serves again
    citizen_deadline_s: float


QUICK = Plan(kills=10, kill_every_s=(2.0, 5.0), outage_every=3, outage_s=(4.0, 10.0), workers=6, drain_s=150.0,
             citizen_deadline_s=90.0)
FULL = Plan(kills=200, kill_every_s=(2.0, 5.0), outage_every=4, outage_s=(5.0, 20.0), workers=8, drain_s=180.0,
            citizen_deadline_s=150.0)


# --- the outside world, going down and coming back ---------------------------------------------------

class Flapping:
    """A fake server on a fixed port that can be taken down and brought back, keeping its state."""

    def __init__(self, app) -> None:
        self.app, self.port = app, free_port()
        self._stack: ExitStack | None = None
        self._lock = threading.Lock()  # a timer bringing it back may meet the final bring-up
        self.outages = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        with self._lock:
            self._up()

    def _up(self) -> None:
        if self._stack is None:
            stack = ExitStack()
            for _ in range(50):  # the port may take a moment to be free again
                try:
                    stack.enter_context(serve_in_thread(self.app, self.port))
                    break
                except (RuntimeError, OSError, SystemExit):
                    time.sleep(0.2)
            else:
                raise RuntimeError(f"fake server could not listen on {self.port} again")
            self._stack = stack

    def down(self) -> None:
        with self._lock:
            self._down()

    def _down(self) -> None:
        if self._stack is not None:
            self.outages += 1
            self._stack.close()
            self._stack = None


# --- the stack under motcua serve ---------------------------------------------------------------------

@dataclass
class Serve:
    data_dir: Path
    url: str
    env: dict[str, str]
    gateway: str
    action: str
    rasa: str
    process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 600.0) -> None:
        log = open(self.data_dir / "serve.log", "ab")  # noqa: SIM115 - kept by the child
        self.process = subprocess.Popen([str(MOTCUA), "serve"], cwd=ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"motcua serve stopped (code {self.process.returncode}); see {self.data_dir}/serve.log")
            status = read_status(self.data_dir)
            if status and status.get("supervisor_pid") == self.process.pid and self.all_ready():
                return
            time.sleep(1.0)
        raise RuntimeError(f"motcua serve not ready in {timeout_s:g} s; see {self.data_dir}/serve.log")

    def children(self) -> dict[str, dict]:
        status = read_status(self.data_dir) or {}
        return {name: record for name, record in (status.get("services") or {}).items() if isinstance(record, dict)}

    def ready(self, name: str) -> bool:
        """The child answers as it does when it serves (Rasa: with its model loaded)."""
        url = {"gateway": f"{self.gateway}/health", "action-server": f"{self.action}/health",
               "rasa": f"{self.rasa}/"}[name]
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code < 500 or name == "gateway"

    def all_ready(self) -> bool:
        children = self.children()
        return all(children.get(name, {}).get("state") == "running" and self.ready(name) for name in VICTIMS)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --- what the citizens were told, and what the benchmark saw ------------------------------------------

@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    citizens: int = 0
    busy_answers: int = 0
    chat_answers: int = 0
    retries: int = 0
    told_dossiers: dict[str, str] = field(default_factory=dict)  # filing key -> code
    told_tickets: dict[int, str] = field(default_factory=dict)  # Telegram chat id -> label
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # channel -> event ids the gateway took
    zalo_asked: dict[str, int] = field(default_factory=dict)  # Zalo user id -> questions the gateway took
    zalo_answered: int = 0  # Zalo citizens who saw an answer before their deadline
    gave_up: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)  # what the desk answered when it refused a filing
    kills: list[dict] = field(default_factory=list)
    calls: int = 0
    telegram_reasks: int = 0
    zalo_reasks: int = 0

    def took(self, channel: str, event_id: str, response: httpx.Response | None) -> bool:
        """Whether the gateway acknowledged the event (a 200: taken now, or earlier by a try whose answer was lost)."""
        if response is None or response.status_code != 200:
            return False
        with self.lock:
            self.acknowledged[channel].add(event_id)
        return True

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)


class Client:
    """An HTTP client that tries again as a real one does: on a dropped connection, busy or 5xx."""

    def __init__(self, base: str, tally: Tally, headers: dict[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=base, timeout=20.0, headers=headers or {})
        self.tally = tally

    def call(self, method: str, path: str, deadline: float, **kwargs) -> httpx.Response | None:
        pause = 0.3
        while time.monotonic() < deadline:
            try:
                response = self.http.request(method, path, **kwargs)
                if response.status_code not in RETRIED:
                    return response
            except httpx.HTTPError:
                pass
            self.tally.add("retries")
            time.sleep(pause)
            pause = min(pause * 1.5, 3.0)
        return None

    def close(self) -> None:
        self.http.close()


def telegram_update(update_id: int, chat_id: int, text: str) -> dict:
    person = {"id": chat_id, "is_bot": False, "first_name": "Dân", "language_code": "vi"}
    return {"update_id": update_id, "message": {"message_id": update_id, "date": int(time.time()), "text": text,
                                                 "chat": {"id": chat_id, "type": "private"}, "from": person}}


def zalo_request(user_id: str, msg_id: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A signed ``user_send_text`` as Zalo posts it: ``mac=`` + sha256(app id + body + timestamp + OA secret)."""
    timestamp = str(int(time.time() * 1000))
    event = {"app_id": ZALO_APP_ID, "user_id_by_app": user_id, "event_name": "user_send_text",
             "timestamp": timestamp, "sender": {"id": user_id}, "recipient": {"id": ZALO_OA},
             "message": {"msg_id": msg_id, "text": text}}
    raw = json.dumps(event, ensure_ascii=False).encode()
    return raw, {"X-ZEvent-Signature": zalo_signature(ZALO_APP_ID, raw, timestamp, ZALO_OA_SECRET),
                 "Content-Type": "application/json"}


class Citizens:
    def __init__(self, run: str, gateway: str, staff_token: str, telegram, zalo, tally: Tally, plan: Plan) -> None:
        self.run, self.gateway, self.staff_token, self.telegram, self.zalo = run, gateway, staff_token, telegram, zalo
        self.tally, self.plan = tally, plan
        self.updates = iter(range(10_000_000, 10**9))
        self.update_lock = threading.Lock()

    def next_update(self) -> int:
        with self.update_lock:
            return next(self.updates)

    def sent_to(self, chat_id: int) -> list[str]:
        return [str(p.get("text", "")) for m, p in list(self.telegram.state.calls)
                if m == "sendMessage" and str(p.get("chat_id")) == str(chat_id)]

    def zalo_sent_to(self, user_id: str) -> int:
        return sum(1 for _token, body in list(self.zalo.state.sent) if body["recipient"]["user_id"] == user_id)

    def ask_over_zalo(self, i: int, citizen: Client, deadline: float) -> None:
        """A question over Zalo; asked again (a new message) when no answer comes within 20 s."""
        tally, user_id, asked, answered = self.tally, f"{8_100_000_000 + i}", 0, False
        while not answered and time.monotonic() < deadline:
            if asked:
                tally.add("zalo_reasks")
            msg_id = f"chaos-{self.run}-{i}-{asked}"
            asked += 1
            raw, headers = zalo_request(user_id, msg_id, ZALO_QUESTION)
            response = citizen.call("POST", "/webhooks/zalo", deadline, content=raw, headers=headers)
            if tally.took("zalo", f"msg:{msg_id}", response):
                with tally.lock:
                    tally.zalo_asked[user_id] = tally.zalo_asked.get(user_id, 0) + 1
            waited = time.monotonic() + 20.0
            while not answered and time.monotonic() < min(waited, deadline):
                answered = self.zalo_sent_to(user_id) > 0
                time.sleep(0.3)
        if answered:
            tally.add("zalo_answered")
        else:
            with tally.lock:
                tally.gave_up["zalo"] += 1

    def serve(self, i: int) -> None:
        tally, deadline = self.tally, time.monotonic() + self.plan.citizen_deadline_s
        citizen = Client(self.gateway, tally)
        desk = Client(self.gateway, tally, {"Authorization": f"Bearer {self.staff_token}"})
        try:
            # 1. a question in the REST chat: answered, or the polite busy answer while Rasa is away
            reply = citizen.call("POST", "/api/v1/messages", deadline,
                                 json={"sender": f"chaos-{self.run}-{i}", "text": "xin chào"})
            if reply is not None and reply.status_code == 200:
                tally.add("busy_answers" if reply.json().get("outcome") == "busy" else "chat_answers")
            # 2. a queue number through Telegram; asked again when no answer comes, as a person would
            chat_id = 5_000_000 + i
            headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            label, asked = None, 0
            while label is None and time.monotonic() < deadline:
                if asked:
                    tally.add("telegram_reasks")  # no number came back within 20 s: the person asks again
                asked += 1
                update = telegram_update(self.next_update(), chat_id, "/laysothutu")
                response = citizen.call("POST", "/webhooks/telegram", deadline, json=update, headers=headers)
                tally.took("telegram", str(update["update_id"]), response)
                waited = time.monotonic() + 20.0
                while label is None and time.monotonic() < min(waited, deadline):
                    for text in self.sent_to(chat_id):
                        match = LABEL.search(text)
                        if match:
                            label = match[1]
                            break
                    time.sleep(0.3)
            if label is not None:
                with tally.lock:
                    tally.told_tickets[chat_id] = label
            else:
                with tally.lock:
                    tally.gave_up["ticket"] += 1
            # 2b. some citizens ask over Zalo too
            if i % ZALO_EVERY == 0:
                self.ask_over_zalo(i, citizen, deadline)
            # 3. a dossier filed at the desk, with the key the desk page makes when its form opens
            key = f"chaos-{self.run}-{i:05d}"
            body = {"procedure_code": PROCEDURE, "applicant_name": f"{FAMILY[i % len(FAMILY)]} Thị {GIVEN[i % len(GIVEN)]}",
                    "applicant_cccd": cccd_of(i), "values": {}}
            filed = desk.call("POST", "/api/v1/staff/dossiers", deadline, json=body, headers={"Idempotency-Key": key})
            if filed is not None and filed.status_code in (200, 201):
                with tally.lock:
                    tally.told_dossiers[key] = filed.json()["code"]
            else:
                with tally.lock:
                    tally.gave_up["dossier" if filed is None else f"dossier_{filed.status_code}"] += 1
                    if filed is not None:
                        tally.refusals[str(filed.json().get("detail"))[:200]] += 1
        finally:
            citizen.close()
            desk.close()
            tally.add("citizens")


def staff_calls(gateway: str, token: str, tally: Tally, stop: threading.Event) -> None:
    """A counter calling the next number now and then: «your turn» notices for the Telegram citizens."""
    desk = Client(gateway, tally, {"Authorization": f"Bearer {token}"})
    try:
        while not stop.wait(2.0):
            response = desk.call("POST", f"/api/v1/queue/counters/{TICKET_COUNTER}/call-next", time.monotonic() + 5)
            if response is not None and response.status_code == 200 and response.json().get("ticket"):
                tally.add("calls")
    finally:
        desk.close()


def chaos(serve: Serve, portal: Flapping, telegram: Flapping, zalo: Flapping, plan: Plan, rng: random.Random,
          tally: Tally) -> None:
    recovering: set[str] = set()
    guard = threading.Lock()
    watchers: list[threading.Thread] = []

    def watch(name: str, old_pid: int, killed_at: float) -> None:
        while True:
            record = serve.children().get(name, {})
            # serving again, from a new process
            if record.get("state") == "running" and record.get("pid") not in (None, old_pid) and serve.ready(name):
                break
            time.sleep(0.25)
        with tally.lock:
            tally.kills.append({"service": name, "recovery_s": round(time.monotonic() - killed_at, 1)})
        with guard:
            recovering.discard(name)

    kills = 0
    outages: set[int] = set()
    while kills < plan.kills:
        time.sleep(rng.uniform(*plan.kill_every_s))
        if kills % plan.outage_every == 0 and kills not in outages:
            outages.add(kills)
            victim_server = rng.choice([portal, telegram, zalo])
            victim_server.down()
            threading.Timer(rng.uniform(*plan.outage_s), victim_server.up).start()
        # a child that serves: one still coming back from an earlier kill is left alone (killing Rasa again
        # while it loads its model would keep it down for good and measure the schedule, not the recovery)
        children = serve.children()
        with guard:
            serving = [n for n in VICTIMS if n not in recovering and children.get(n, {}).get("state") == "running"
                       and children[n].get("pid")]
        if not serving:
            continue
        name = rng.choice(serving)
        pid = int(children[name]["pid"])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        kills += 1
        with guard:
            recovering.add(name)
        watcher = threading.Thread(target=watch, args=(name, pid, time.monotonic()), daemon=True)
        watcher.start()
        watchers.append(watcher)
    for watcher in watchers:
        watcher.join(timeout=300)


# --- the verdict ---------------------------------------------------------------------------------------

def verdict(url: str, tally: Tally, portal_state: PortalState, telegram_app, zalo_app, run: str) -> dict:
    received = Counter((str(p.get("chat_id")), str(p.get("text", ""))) for m, p in list(telegram_app.state.calls)
                       if m == "sendMessage")
    zalo_received = Counter((str(b["recipient"]["user_id"]), str(b["message"].get("text", "")))
                            for _token, b in list(zalo_app.state.sent))
    got = {"telegram": received, "zalo": zalo_received}
    accepted = set(portal_state.accepted)
    detail: Counter = Counter()
    with session_scope(url) as session:
        codes = set(session.scalars(select(DossierRow.code)))
        for code in tally.told_dossiers.values():
            if code not in codes:
                detail["lost_dossiers"] += 1
        # one citizen = one applicant (one CCCD, one filing key): more than one dossier for one is a duplicate
        per_applicant = session.execute(select(DossierRow.applicant_cccd, func.count()).where(
            DossierRow.applicant_cccd.like(f"{CCCD_PREFIX}%")).group_by(DossierRow.applicant_cccd)).all()
        detail["duplicated_dossiers"] = sum(n - 1 for _, n in per_applicant if n > 1)
        dossiers = sum(n for _, n in per_applicant)
        tickets: dict[str, list[tuple]] = defaultdict(list)
        for sender, label, issued, called in session.execute(
                select(QueueTicket.sender_id, QueueTicket.label, QueueTicket.issued_at, QueueTicket.called_at)
                .where(QueueTicket.sender_id.like("telegram:%")).order_by(QueueTicket.id)):
            tickets[sender or ""].append((label, issued, called))
        for chat_id, label in tally.told_tickets.items():
            if label not in [t[0] for t in tickets.get(f"telegram:{chat_id}", [])]:
                detail["lost_tickets"] += 1
        for held in tickets.values():
            # a second number while the first still waited is a duplicate («one number a service»);
            # one asked for after the first was called (the person asked again, unanswered) is a new request
            for (_, _, called), (_, issued, _) in zip(held, held[1:], strict=False):
                detail["duplicated_tickets" if called is None or called > issued else "tickets_asked_again"] += 1
        rows_per_text: Counter = Counter()
        for table in (QueueNotification, DossierNotification):
            queue_calls = table.source == "queue" if table is QueueNotification else table.id.is_not(None)
            for state, channel, sender, text, call in session.execute(
                    select(table.state, table.channel, table.sender_id, table.text, queue_calls)):
                if state == "pending":
                    detail["stuck_notices"] += 1
                elif state == "dead":
                    detail["dead_notices"] += 1
                elif state == "sent" and channel in got and \
                        got[channel][(sender.removeprefix(f"{channel}:"), text)] == 0:
                    detail["lost_notices"] += 1
                detail["notices"] += 1
                if state == "sent" and channel == "telegram" and call:
                    rows_per_text[(sender.removeprefix("telegram:"), text)] += 1
        # at least once, not exactly once: a relay killed after a send and before its record sends again
        detail["notices_received_twice"] = sum(max(0, received[key] - n) for key, n in rows_per_text.items())
        for state, key in session.execute(select(PortalOutboxRow.state, PortalOutboxRow.idempotency_key)):
            if state == "pending":
                detail["stuck_portal"] += 1
            elif state == "dead":
                detail["dead_portal"] += 1
            elif state == "sent" and key not in accepted:
                detail["lost_portal"] += 1
            detail["portal_messages"] += 1
        # the webhook inbox: every event the gateway acknowledged was handled, none left pending
        handled: dict[tuple[str, str], str] = {}
        for state, channel, event_id in session.execute(
                select(InboundEvent.state, InboundEvent.channel, InboundEvent.event_id)):
            handled[(channel, event_id or "")] = state
            if state == "pending":
                detail["stuck_inbox"] += 1
            elif state == "dead":
                detail["dead_inbox"] += 1
            detail["inbox_events"] += 1
        for channel, ids in tally.acknowledged.items():
            detail["lost_events"] += sum(1 for event_id in ids if (channel, event_id) not in handled)
    # a Zalo citizen whose questions the gateway took, and who never got any answer
    zalo_users = Counter(user for user, _ in zalo_received.elements())
    detail["lost_zalo_answers"] = sum(1 for user in tally.zalo_asked if zalo_users[user] == 0)
    busy = render(BUSY)
    detail["busy_telegram"] = sum(n for (_, text), n in received.items() if text == busy)
    detail["busy_zalo"] = sum(n for (_, text), n in zalo_received.items() if text == busy)
    return {
        "dossiers": dossiers,
        "lost": detail["lost_dossiers"] + detail["lost_tickets"] + detail["lost_notices"] + detail["lost_portal"]
        + detail["lost_events"] + detail["lost_zalo_answers"],
        "duplicated": detail["duplicated_dossiers"] + detail["duplicated_tickets"],
        "stuck": detail["stuck_notices"] + detail["stuck_portal"] + detail["stuck_inbox"],
        "detail": dict(sorted(detail.items())),
    }


def outboxes_pending(url: str) -> int:
    with session_scope(url) as session:
        return sum(session.scalar(select(func.count()).select_from(table).where(table.state == "pending")) or 0
                   for table in (QueueNotification, DossierNotification, PortalOutboxRow, InboundEvent))


# --- one run on one database ----------------------------------------------------------------------------

def prepare_database(kind: str, data_dir: Path, run: str) -> tuple[str, str | None]:
    """The URL, and the PostgreSQL database to drop afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{data_dir / 'motcua.sqlite3'}", None
    from tests.conftest import create_postgres_database

    name = f"motcua_chaos_{run}"
    return create_postgres_database(name), name


def add_staff(url: str) -> None:
    from motcua.staff.accounts import create_user

    with session_scope(url) as session:
        create_user(session, STAFF, STAFF_PASSWORD, role="staff", full_name="Cán bộ thử hỗn loạn")


def sign_in(gateway: str) -> str:
    for _ in range(30):
        try:
            response = httpx.post(f"{gateway}/api/v1/staff/login", json={"username": STAFF, "password": STAFF_PASSWORD},
                                  timeout=10)
            if response.status_code == 200:
                return response.cookies[STAFF_COOKIE]
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("staff sign-in failed")


def run_once(kind: str, plan: Plan, seed: int) -> dict:
    from tests.conftest import drop_postgres_database

    rng = random.Random(seed)
    run = f"{os.getpid():x}{seed % 4096:03x}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"motcua-chaos-{kind}-"))
    url, pg_name = prepare_database(kind, data_dir, run)
    portal_state = PortalState()
    portal = Flapping(create_portal_app(portal_state))
    telegram = Flapping(fake_telegram_api(TELEGRAM_TOKEN))
    zalo = Flapping(fake_zalo_api(ZALO_ACCESS, ZALO_REFRESH))
    ports = {name: free_port() for name in ("gateway", "rasa", "action")}
    env = {**os.environ, "MOTCUA_DATA_DIR": str(data_dir), "MOTCUA_DATABASE_URL": url if pg_name else "",
           "MOTCUA_MODELS_DIR": str(MODELS), "MOTCUA_GATEWAY_PORT": str(ports["gateway"]),
           "MOTCUA_RASA_PORT": str(ports["rasa"]), "MOTCUA_ACTION_PORT": str(ports["action"]),
           "MOTCUA_DEMO_PORTAL_PORT": "0", "MOTCUA_PORTAL_URL": f"{portal.url}{EVENTS_PATH}",
           "MOTCUA_TELEGRAM_TOKEN": TELEGRAM_TOKEN, "MOTCUA_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
           "MOTCUA_TELEGRAM_API_URL": telegram.url,
           "MOTCUA_ZALO_APP_ID": ZALO_APP_ID, "MOTCUA_ZALO_APP_SECRET": ZALO_APP_SECRET,
           "MOTCUA_ZALO_OA_SECRET_KEY": ZALO_OA_SECRET, "MOTCUA_ZALO_ACCESS_TOKEN": ZALO_ACCESS,
           "MOTCUA_ZALO_REFRESH_TOKEN": ZALO_REFRESH, "MOTCUA_ZALO_API_URL": zalo.url, "MOTCUA_ZALO_OAUTH_URL": zalo.url,
           # a day of backoff squeezed into seconds, so the recovery window can see every row through
           "MOTCUA_DELIVERY_BASE_DELAY_S": "1", "MOTCUA_DELIVERY_MAX_DELAY_S": "5", "MOTCUA_DELIVERY_MAX_ATTEMPTS": "50",
           "MOTCUA_RATE_LIMIT_PER_MINUTE": "6000", "MOTCUA_RATE_LIMIT_BURST": "1000",
           "MOTCUA_CHAT_IP_PER_MINUTE": "60000", "MOTCUA_CHAT_IP_BURST": "10000", "MOTCUA_RASA_TIMEOUT_S": "10",
           "MOTCUA_CHAT_NUMBERS_AFTER_HOURS": "true"}  # citizens take numbers at whatever hour the run is
    env.pop("PYTHONPATH", None)
    local = "http://127.0.0.1"
    serve = Serve(data_dir, url, env, f"{local}:{ports['gateway']}", f"{local}:{ports['action']}",
                  f"{local}:{ports['rasa']}")
    tally = Tally()
    started = time.monotonic()
    try:
        upgrade_database(url)
        add_staff(url)
        portal.up()
        telegram.up()
        zalo.up()
        serve.start()
        print(f"[{kind}] motcua serve ready in {time.monotonic() - started:.0f} s; chaos begins", file=sys.stderr)
        token = sign_in(serve.gateway)
        citizens = Citizens(run, serve.gateway, token, telegram.app, zalo.app, tally, plan)
        stop = threading.Event()
        calling = threading.Thread(target=staff_calls, args=(serve.gateway, token, tally, stop), daemon=True)
        calling.start()
        chaos_done = threading.Event()
        counter = iter(range(10**6))
        counter_lock = threading.Lock()

        def worker() -> None:
            while not chaos_done.is_set():
                with counter_lock:
                    i = next(counter)
                citizens.serve(i)

        workers = [threading.Thread(target=worker, daemon=True) for _ in range(plan.workers)]
        for thread in workers:
            thread.start()
        chaos_started = time.monotonic()
        chaos(serve, portal, telegram, zalo, plan, rng, tally)
        chaos_done.set()
        chaos_s = time.monotonic() - chaos_started
        for thread in workers:
            thread.join(timeout=plan.citizen_deadline_s + 30)
        # recovery: the outside world back, every child serving, the outboxes drained (or dead)
        portal.up()
        telegram.up()
        zalo.up()
        recovery_started = time.monotonic()
        while not serve.all_ready() and time.monotonic() - recovery_started < 300:
            time.sleep(0.5)
        final_recovery_s = time.monotonic() - recovery_started
        stop.set()
        calling.join(timeout=30)
        drain_deadline = time.monotonic() + plan.drain_s
        while outboxes_pending(url) and time.monotonic() < drain_deadline:
            time.sleep(1.0)
        drain_s = time.monotonic() - recovery_started
        result = verdict(url, tally, portal_state, telegram.app, zalo.app, run)
        restarts = {name: record.get("restarts", 0) for name, record in serve.children().items()}
    finally:
        serve.stop()
        portal.down()
        telegram.down()
        zalo.down()
        if pg_name:
            drop_postgres_database(pg_name)
    if result["lost"] or result["duplicated"] or result["stuck"]:
        print(f"[{kind}] kept for a look: {data_dir} (logs/, serve.log)", file=sys.stderr)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    recoveries = [k["recovery_s"] for k in tally.kills]
    by_service = Counter(k["service"] for k in tally.kills)
    return {
        "kills": len(tally.kills), "dossiers": result["dossiers"], "lost": result["lost"],
        "duplicated": result["duplicated"], "stuck": result["stuck"],
        "busy_answers": tally.busy_answers + result["detail"].get("busy_telegram", 0)
        + result["detail"].get("busy_zalo", 0),
        "max_recovery_s": max(recoveries + [round(final_recovery_s, 1)]), "db": kind,
        "citizens": tally.citizens, "tickets_told": len(tally.told_tickets), "dossiers_told": len(tally.told_dossiers),
        "chat_answers": tally.chat_answers, "client_retries": tally.retries, "gave_up": dict(tally.gave_up), "refusals": dict(tally.refusals),
        "counter_calls": tally.calls, "telegram_reasks": tally.telegram_reasks,
        "zalo_asked": sum(tally.zalo_asked.values()), "zalo_answered": tally.zalo_answered, "zalo_reasks": tally.zalo_reasks, "kills_by_service": dict(by_service), "restarts": restarts,
        "outages": {"portal": portal.outages, "telegram": telegram.outages, "zalo": zalo.outages},
        "median_recovery_s": sorted(recoveries)[len(recoveries) // 2] if recoveries else None,
        "drain_s": round(drain_s, 1), "chaos_s": round(chaos_s, 1), "total_s": round(time.monotonic() - started, 1),
        "detail": result["detail"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 kills a database, a few minutes each")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--kills", type=int, default=None, help="override the plan's number of kills")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--out", type=Path, default=None, help="results file (default bench/results/chaos[-quick].json)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.kills:
        plan = Plan(**{**plan.__dict__, "kills": args.kills})
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = []
    for n, kind in enumerate(kinds):
        if kind == "postgres":
            from tests.conftest import _postgres_reachable

            reason = _postgres_reachable()
            if reason:
                print(f"PostgreSQL unreachable, skipped: {reason}", file=sys.stderr)
                continue
        result = run_once(kind, plan, args.seed + n)
        summary = {key: result[key] for key in ("kills", "dossiers", "lost", "duplicated", "stuck", "busy_answers",
                                                "max_recovery_s", "db")}
        print(json.dumps(summary), flush=True)
        print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
        results.append(result)
    out = args.out or ROOT / "bench" / "results" / ("chaos-quick.json" if args.quick else "chaos.json")
    out.write_text(json.dumps({"plan": plan.__dict__, "runs": results}, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
