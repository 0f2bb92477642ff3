"""The form's texts and the form engine's messages in the page's language.

The form file and the engine are Chinese. Their texts are in the catalogues of ``bot/locales``
like the rest (the form file's are extracted by ``python -m bot.locales.update``); the engine's
messages that carry a value (a question's label, what was typed) are listed here as patterns,
so ``“姓名”必须填写，不能跳过。`` is found as ``“{label}”必须填写，不能跳过。`` and its parts are
translated in turn. A text without a translation stays as it is: names, addresses and numbers
the person typed are never touched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from bot.telegram.i18n import DEFAULT_LOCALE, N_, load_i18n

# Engine messages with values in them (flows/): the values are translated as texts too.
ENGINE_PATTERNS = (
    N_("{subject}在港澳台或国外时，本项可以跳过。"),
    N_("{subject}在苏州市的，必须选择所在区（县）。"),
    N_("“{label}”必须填写，不能跳过。"),
    N_("“{label}”请至少选择一项，选好后再点“完成”。"),
    N_("还有必填项没有填写：{labels}。请补充后再确认。"),
    N_("请先核对以下提示，确认无误或修改后再继续：{text}"),
    N_("“{label}”的内容不符合要求，请核对。"),
    N_("请填写“{label}”。"),
    N_("请选择“{label}”。"),
    N_("这一项请点“确认”（或回答“确认”）：{label}"),
    N_("没有“{raw}”这个选项，请从以下选项中选择：{options}。"),
    N_("没有“{raw}”这个选项，请从以下选项中选择（可多选）：{options}。"),
    N_("“{label}”至少{n}个字，请补充完整。"),
    N_("“{label}”最多{n}个字，您输入了{count}个字，请精简。"),
    N_("请从以下区（县）中选择：{names}。"),
    N_("内容过长，最多{n}个字。"),
    N_("公民身份号码应为18位（最后一位可以是X），您输入了{n}位。"),
    N_("退回时需要修改的项目还没有重新回答：{labels}。请点该项的“修改”，改正或确认原来的内容。"),
    # Last: an address box's question (当前常住地：路) matches anything with a colon.
    N_("{label}：{part}"),
)
# Engine messages without values (flows/), translated as they are.
ENGINE_TEXTS = (
    N_("港澳台请选择对应地区；在国外请直接输入国家名称（如：日本）。"),
    N_("请填写这一项。"),
    N_("地名至少2个字，请填写完整的名称。"),
    N_("这一项还没有可以沿用的内容，请直接填写。"),
    N_("这一项不是多选题，请直接回答。"),
    N_("请先回答完当前问题。"),
    N_("本表已经填写完成。"),
    N_("请先核对汇总信息：确认无误请继续，需要修改请选择要修改的项目。"),
    N_("请至少选择一项。"),
    N_("这是旧的15位号码，请填写现行的18位公民身份号码。"),
    N_("公民身份号码前17位应全是数字，最后一位是数字或X。"),
    N_("公民身份号码的校验位（最后一位）不对，请逐位核对后重新输入。"),
    N_("公民身份号码第7–14位的出生日期不是有效日期，请核对。"),
    N_("公民身份号码中的出生日期晚于今天，请核对。"),
    N_("公民身份号码中的出生年份不正确，请核对。"),
    N_("公民身份号码前6位不是有效的行政区划代码，请核对。"),
    N_("请填写11位手机号码。"),
    N_("请填写中国大陆的11位手机号码（+86）。"),
    N_("手机号码不正确：应为以1开头的11位号码，如 138 0000 1234。"),
    N_("这是固定电话号码，请填写11位手机号码。"),
    N_("（未填写）"),
    N_("出生日期"),
    N_("性别"),
    N_("年龄"),
    N_("男"),
    N_("女"),
)
_LIST = "、"


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    found = []
    for msgid in ENGINE_PATTERNS:
        parts = re.split(r"\{(\w+)\}", msgid)
        regex = "".join(
            f"(?P<{part}>.+?)" if n % 2 else re.escape(part) for n, part in enumerate(parts)
        )
        found.append((re.compile(regex, re.S), msgid))
    return tuple(found)


def _exact(text: str, locale: str) -> str | None:
    translated = str(load_i18n().gettext(text, locale=locale))
    return translated if translated != text else None


def translate(text: str, locale: str | None = None) -> str:
    """``text`` in ``locale`` (default: the request's): line by line, a list ``甲、乙`` item by
    item, a message with values by its pattern; untranslatable parts stay as they are."""
    locale = locale or str(load_i18n().current_locale)
    if locale == DEFAULT_LOCALE or not text:
        return text
    if "\n" in text:
        return "\n".join(translate(line, locale) for line in text.split("\n"))
    exact = _exact(text, locale)
    if exact is not None:
        return exact
    for regex, msgid in _patterns():
        match = regex.fullmatch(text)
        if match is None:
            continue
        target = _exact(msgid, locale)
        if target is None:
            break
        values = {k: translate(v, locale) for k, v in match.groupdict().items()}
        return target.format(**values)
    if _LIST in text:
        items = text.split(_LIST)
        done = [translate(item, locale) for item in items]
        if done != items:
            return ", ".join(done)
    return text


def translate_view(view: dict[str, Any], locale: str) -> dict[str, Any]:
    """The conversation part of a page view with the form's texts in ``locale`` (in place)."""
    if locale == DEFAULT_LOCALE:
        return view
    prompt = view.get("prompt")
    if isinstance(prompt, dict):
        for key in ("label", "hint"):
            if prompt.get(key):
                prompt[key] = translate(prompt[key], locale)
        if prompt.get("current") and prompt.get("kind") not in ("id_number", "mobile"):
            prompt["current"] = translate(prompt["current"], locale)
        for choice in prompt.get("choices") or []:
            choice["label"] = translate(choice["label"], locale)
    for item in view.get("summary") or []:
        item["label"] = translate(item["label"], locale)
        item["value"] = translate(item["value"], locale)
    for warning in view.get("warnings") or []:
        warning["message"] = translate(warning["message"], locale)
    if view.get("policy_notes"):
        view["policy_notes"] = [translate(note, locale) for note in view["policy_notes"]]
    returned = view.get("returned")
    if isinstance(returned, dict):
        for key in ("fields", "awaiting"):
            returned[key] = [translate(label, locale) for label in returned.get(key) or []]
    return view
