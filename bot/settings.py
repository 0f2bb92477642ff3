"""Application settings, read from ``CANBAO_*`` environment variables (and ``.env``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.loader import DEFAULT_FORM

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(BaseSettings):
    """Every knob of a deployment. Dates are configuration, never code."""

    model_config = SettingsConfigDict(
        env_prefix="CANBAO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Central store and FSM storage
    database_url: str = "sqlite+aiosqlite:///data/canbao.db"
    redis_url: str | None = None
    # This worker's name, unique among the bot's workers (default: host name and port). A
    # worker restarted under the same name frees the per-user locks its earlier run left.
    worker_name: str | None = None
    data_dir: Path = Path("data")
    # The data keys (SM4 for personal data, the blind-index key): a file outside the database,
    # readable by its owner only, made by ``canbao keys init`` (storage/crypto.py). Without it
    # nothing starts; the demo makes one next to its database.
    data_key_file: Path | None = None

    # Telegram
    bot_token: SecretStr | None = None
    # Only where Telegram cannot say it: links use getMe's username (bot/telegram/username.py).
    bot_username: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    webhook_url: str | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None
    delete_id_messages: bool = True

    # Web server (staff console, web chat, webhook, API)
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    session_secret: SecretStr | None = None
    # Proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed, e.g. "127.0.0.1" for an nginx on the same machine.
    trusted_proxies: str = ""
    # Console sign-ins end after this long without a request, and after the absolute limit.
    console_idle_minutes: float = Field(default=30.0, gt=0)
    console_session_hours: float = Field(default=8.0, gt=0)
    # Investigators' browser sign-ins (/i/): a working day on the doorsteps, idle up to 2 h.
    investigator_idle_minutes: float = Field(default=120.0, gt=0)
    investigator_session_hours: float = Field(default=12.0, gt=0)

    # The form (default: the one shipped with the package, see flows.loader)
    form_file: Path = DEFAULT_FORM

    # The survey's clock (bot/clock.py): every date and time it records or shows
    timezone: str = "Asia/Shanghai"

    # Process dates (the notice's defaults; a deployment sets its own)
    survey_start: dt.date = dt.date(2014, 10, 15)
    community_deadline: dt.date = dt.date(2014, 12, 10)
    district_deadline: dt.date = dt.date(2014, 12, 31)
    survey_end: dt.date = dt.date(2015, 1, 31)
    # ``canbao data purge`` removes what the survey no longer needs this many days after
    # survey_end (storage/retention.py).
    retention_days: int = Field(default=90, ge=0)

    # Reminders
    reminder_after_hours: float = 24.0
    reminder_before_deadline_days: int = 2

    # Outbound notification to the central system (optional)
    outbound_webhook_url: str | None = None
    outbound_webhook_secret: SecretStr | None = None

    # Per-chat and overall send limits (Telegram: ~1/s per chat, ~30/s overall)
    send_rate_per_chat: float = Field(default=1.0, gt=0)
    send_rate_overall: float = Field(default=25.0, gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        _parse_networks(value)
        return value

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        """``trusted_proxies`` as networks."""
        return _parse_networks(self.trusted_proxies)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from bot.clock import parse_zone

        parse_zone(value)
        return value


@lru_cache(maxsize=16)
def _parse_networks(value: str) -> tuple[Network, ...]:
    from bot.security.proxies import parse_networks

    return parse_networks(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
