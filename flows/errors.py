"""Errors raised by the form engine.

Load-time problems in a form file are :class:`FormError` with a stable code, the file and
the question they concern (pyxform style), so authors see every mistake before any
conversation runs. Misuse of the conversation API by a channel is :class:`EngineError`.
"""

from __future__ import annotations

from pathlib import Path

# Stable codes, documented so that authors can look them up.
ERROR_CODES: dict[str, str] = {
    "E_FILE": "the form file cannot be read",
    "E_YAML": "the file is not valid YAML",
    "E_SCHEMA": "a section or key has the wrong shape or type",
    "E_MISSING_KEY": "a required key (name, type, label, id, version ...) is missing",
    "E_UNKNOWN_KEY": "a key the vocabulary does not know (often a typo such as 'relevent')",
    "E_BAD_NAME": "a name that is not an identifier or is reserved (age, sex, birth_date, mode)",
    "E_UNKNOWN_TYPE": "a question type outside the vocabulary",
    "E_DUPLICATE_NAME": "two questions or groups share a name",
    "E_UNKNOWN_CHOICE_LIST": "a question names a choice list that does not exist",
    "E_DUPLICATE_CHOICE": "a choice list holds the same code twice",
    "E_UNKNOWN_CHOICE": "an expression compares a select question with a code not in its list",
    "E_SYNTAX": "an expression cannot be parsed",
    "E_UNKNOWN_FIELD": "an expression names a field that does not exist",
    "E_UNKNOWN_FUNCTION": "an expression calls a function that does not exist",
    "E_ARITY": "a function is called with the wrong number or kind of arguments",
    "E_CYCLE": "conditions depend on each other in a circle",
}


class FormError(Exception):
    """A mistake in a form file, found when it is loaded.

    ``str(error)`` reads ``"<file>: question <name>: <message>"`` (the question part is left
    out for form-level problems).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        file: str | Path | None = None,
        question: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.file = str(file) if file is not None else None
        self.question = question
        super().__init__(self.__str__())

    def with_place(
        self, *, file: str | Path | None = None, question: str | None = None
    ) -> FormError:
        """Return the same error with the file and/or question filled in where still unknown."""
        return FormError(
            self.code,
            self.message,
            file=self.file if self.file is not None else file,
            question=self.question if self.question is not None else question,
        )

    def __str__(self) -> str:
        parts = [
            p for p in (self.file, f"question {self.question}" if self.question else None) if p
        ]
        parts.append(self.message)
        return ": ".join(parts)


class EngineError(ValueError):
    """A channel called the conversation API in a way the current state does not allow
    (editing an unknown field, reading the record of an unfinished form ...)."""
