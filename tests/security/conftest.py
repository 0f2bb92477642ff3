"""The security tests use the bot fixtures (fake Bot API server, service) of tests/telegram."""

from tests.telegram.conftest import (  # noqa: F401  (fixtures, found by name)
    engine,
    make_settings,
    sessions,
    start_service,
    tg,
)
