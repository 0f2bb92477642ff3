"""The 已参保家庭成员 cell."""

from __future__ import annotations

import pytest

from bot.roster.members import parse_insured_members


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "李四(父) 13800001111; 王五(母)",
            [
                {"姓名": "李四", "关系": "父", "联系电话": "13800001111"},
                {"姓名": "王五", "关系": "母", "联系电话": ""},
            ],
        ),
        (
            "张三（配偶）138-0000-2222，阿依古丽·买买提（女）",
            [
                {"姓名": "张三", "关系": "配偶", "联系电话": "13800002222"},
                {"姓名": "阿依古丽·买买提", "关系": "女", "联系电话": ""},
            ],
        ),
        ("赵六", [{"姓名": "赵六", "关系": "", "联系电话": ""}]),
        ("", []),
        (None, []),
    ],
)
def test_parses(text: str | None, expected: list[dict[str, str]]) -> None:
    assert parse_insured_members(text) == (expected, None)


@pytest.mark.parametrize(
    "text", ["见附件第3页", "李四(父) 138000011112222333444; ???", "(父) 13800001111"]
)
def test_unparseable_text_is_kept_verbatim(text: str) -> None:
    assert parse_insured_members(text) == ([], text)
