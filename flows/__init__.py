"""The form engine: the 信息采集表 as data, walked by a ``transitions`` state machine.

Pure: no Telegram, web or database code here. See ``docs/architecture.md`` for the contract.
"""

from flows.conversation import Conversation
from flows.errors import ERROR_CODES, EngineError, FormError
from flows.loader import DEFAULT_FORM, find_form, load_default_form, load_form
from flows.model import AddressPart, Choice, Field, Form
from flows.results import Accepted, ConsistencyWarning, Prompt, Rejected, SummaryItem, Warning
from flows.values import Invalid, mask_id, mask_mobile

__all__ = [
    "DEFAULT_FORM",
    "ERROR_CODES",
    "Accepted",
    "AddressPart",
    "Choice",
    "ConsistencyWarning",
    "Conversation",
    "EngineError",
    "Field",
    "Form",
    "FormError",
    "Invalid",
    "Prompt",
    "Rejected",
    "SummaryItem",
    "Warning",
    "find_form",
    "load_default_form",
    "load_form",
    "mask_id",
    "mask_mobile",
]
