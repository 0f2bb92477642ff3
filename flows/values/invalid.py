"""The one exception every value checker raises."""

from __future__ import annotations


class Invalid(ValueError):
    """A typed value was refused; ``message`` is for the person typing it.

    ``code`` names the rule that refused it (``id.check_digit``, ``mobile.landline`` …): stable
    across wording changes, for tests and for docs/data.md.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
