"""One module per kind of value: what may be typed, how it is kept, what is said when refused.

- :mod:`flows.values.text`: free text from any channel (:func:`clean_text`).
- :mod:`flows.values.idnumber`: 公民身份号码.
- :mod:`flows.values.mobile`: 手机号码.
- :mod:`flows.values.name`: person names.
- :mod:`flows.values.dates`: dates people type.

Every checker returns the kept value or raises :class:`Invalid` with a short Chinese message
and a stable ``code``. The roster import, both chats' identity steps, the form's questions and
the console's corrections all call these; ``docs/data.md`` lists what each accepts.
"""

from flows.values.dates import parse_date
from flows.values.idnumber import (
    age,
    birth_date,
    contains_id_number,
    id_number,
    mask_id,
    mask_id_numbers,
    sex,
)
from flows.values.invalid import Invalid
from flows.values.mobile import mask_mobile, mobile
from flows.values.name import clean_name, person_name
from flows.values.text import clean_text, one_line

__all__ = [
    "Invalid",
    "age",
    "birth_date",
    "clean_name",
    "clean_text",
    "contains_id_number",
    "id_number",
    "mask_id",
    "mask_id_numbers",
    "mask_mobile",
    "mobile",
    "one_line",
    "parse_date",
    "person_name",
    "sex",
]
