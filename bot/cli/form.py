"""``canbao form``: check a form file, draw its machine, walk through it in the terminal."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot import clock
from bot.cli import CliError, cli_settings
from flows import Conversation, EngineError, Form, FormError, Prompt, Rejected, load_form
from flows.diagram import to_dot, to_mermaid

_FILE_HELP = "form file (default: CANBAO_FORM_FILE, else the form shipped with the package)"
_RENDERED = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``form check|diagram|walk``."""
    parser = subparsers.add_parser(
        "form", help="检查、绘制、试填采集表 (form check / diagram / walk)"
    )
    sub = parser.add_subparsers(dest="form_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="validate a form file and print what it holds")
    check.add_argument("file", nargs="?", type=Path, help=_FILE_HELP)
    check.set_defaults(func=_check)

    diagram = sub.add_parser("diagram", help="draw the form's state machine")
    diagram.add_argument("file", nargs="?", type=Path, help=_FILE_HELP)
    diagram.add_argument(
        "-o",
        "--output",
        help="file to write (.svg/.png/.pdf need Graphviz 'dot'; .dot/.mmd text; '-' stdout)",
    )
    diagram.add_argument("--format", choices=("auto", "dot", "mermaid"), default="auto")
    diagram.set_defaults(func=_diagram)

    walk = sub.add_parser("walk", help="fill the form in the terminal (answers may be piped in)")
    walk.add_argument("file", nargs="?", type=Path, help=_FILE_HELP)
    walk.add_argument("--mode", choices=("resident", "investigator"), default="resident")
    walk.add_argument("--date", help="collection date YYYY-MM-DD (default: today)")
    walk.add_argument("--investigator", help="社区经办人 (investigator mode)")
    walk.add_argument(
        "--prefill",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="roster value to confirm",
    )
    walk.set_defaults(func=_walk)


def _form_file(path: Path | None) -> Path:
    return path or cli_settings().form_file


def _load(path: Path | None) -> Form:
    try:
        return load_form(_form_file(path))
    except FormError as exc:
        raise CliError(str(exc), code=1) from None


def _check(args: argparse.Namespace) -> int:
    form = _load(args.file)
    questions = [f for f in form.fields if f.type != "note"]
    print(f"{form.id} v{form.version}  {form.title}")
    print(f"  file: {_form_file(args.file)}")
    print(
        f"  questions: {len(questions)} ({len(form.main_fields)} before the review, "
        f"{len(form.final_fields)} after); machine states: {len(form.states)}"
    )
    lists = ", ".join(f"{name} ({len(items)})" for name, items in form.choice_lists.items())
    print(f"  choice lists: {len(form.choice_lists)}: {lists}")
    print("  branches:")
    for field in form.fields:
        if field.relevant:
            print(f"    {field.name}: {' and '.join(f'({r.source})' for r in field.relevant)}")
    print(
        f"  consistency checks: {len(form.checks)}; policy notes: {len(form.notes)}; "
        f"export columns: {len(form.export)}"
    )
    print("OK")
    return 0


def _diagram(args: argparse.Namespace) -> int:
    form = _load(args.file)
    have_dot = shutil.which("dot") is not None
    fmt = args.format
    output = args.output
    if output is None:
        output = f"{form.id}-v{form.version}." + ("svg" if have_dot and fmt != "mermaid" else "mmd")
    suffix = Path(output).suffix.lower() if output != "-" else ""
    if fmt == "auto":
        fmt = "dot" if suffix in (*_RENDERED, ".dot", ".gv") else "mermaid"
    text = to_dot(form) if fmt == "dot" else to_mermaid(form)
    if suffix in _RENDERED:
        if not have_dot:
            raise CliError(
                f"Graphviz 'dot' is not installed; cannot write {output} "
                f"(try -o {Path(output).stem}.mmd)"
            )
        if fmt != "dot":
            raise CliError(f"{output}: pictures are drawn from DOT; drop --format mermaid")
        done = subprocess.run(
            ["dot", f"-T{_RENDERED[suffix]}", "-o", output],
            input=text.encode(),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise CliError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    elif output == "-":
        sys.stdout.write(text)
        return 0
    else:
        Path(output).write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


# ---------------------------------------------------------------------- walk

_HELP = "命令：b 上一题  s 查看汇总  e 字段名 修改  k 沿用当前值  - 跳过  q 退出"


class _Terminal:
    """Prompts go to stderr, the final record to stdout, so the walk can be scripted."""

    def __init__(self, conv: Conversation, read: Callable[[], str | None], out: TextIO) -> None:
        self.conv = conv
        self.read = read
        self.out = out

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def show(self, prompt: Prompt) -> None:
        self.say()
        self.say(
            f"[{prompt.step}/{prompt.total}] {prompt.label}"
            + ("（可跳过：-）" if prompt.optional else "")
        )
        if prompt.hint:
            self.say(f"  {prompt.hint}")
        if prompt.kind == "note":
            self.say("  （按回车继续）")
        for index, choice in enumerate(prompt.choices, 1):
            mark = (
                "[x] "
                if choice.code in prompt.selected
                else ("[ ] " if prompt.kind == "select_multiple" else "")
            )
            self.say(f"  {index}) {mark}{choice.label}")
        if prompt.kind == "select_multiple":
            self.say("  输入编号切换选择（可多个，用空格分开），空行完成")
        if prompt.current:
            source = "登记信息" if prompt.prefilled else "当前"
            self.say(f"  {source}：{prompt.current}（输入 k 沿用）")

    def show_review(self) -> None:
        self.say()
        self.say("== 核对汇总 ==")
        for item in self.conv.summary():
            self.say(f"  {item.label}（{item.name}）：{item.display}")
        for warning in self.conv.warnings():
            self.say(f"  ! {warning.message}")
        for note in self.conv.policy_notes():
            self.say(f"  * {note}")
        self.say("  输入 y 确认提交，w 确认提示无误，e 字段名 修改，b 返回")

    def run(self) -> int:
        conv = self.conv
        self.say(_HELP)
        while not conv.complete:
            prompt = conv.prompt
            if prompt is None:
                self.show_review()
            else:
                self.show(prompt)
            line = self.read()
            if line is None:
                raise CliError("输入在表单填完之前结束了", code=1)
            line = line.strip()
            result = self.handle(prompt, line)
            if isinstance(result, Rejected):
                self.say(f"  ✗ {result.message}")
            elif result == "quit":
                return 1
        for note in conv.policy_notes():
            self.say(f"* {note}")
        print(json.dumps(conv.record(), ensure_ascii=False, indent=2, sort_keys=False))
        return 0

    def handle(self, prompt: Prompt | None, line: str) -> object:
        conv = self.conv
        if line == "q":
            return "quit"
        if line == "b":
            return conv.back()
        if line == "s":
            for item in conv.summary():
                self.say(f"  {item.label}：{item.display}")
            return None
        if line.startswith("e "):
            try:
                return conv.edit(line[2:].strip())
            except EngineError as exc:
                return Rejected(f"不能修改：{exc}", prompt)
        if prompt is None:
            if line == "w":
                conv.confirm_warnings()
                return None
            if line in ("y", "yes", "确认"):
                return conv.proceed()
            return Rejected("请输入 y 确认，或 e 字段名 修改。", None)
        if line == "k":
            return conv.keep()
        if line == "-":
            return conv.skip()
        numbers = line.split()
        if (
            prompt.choices
            and numbers
            and all(n.isdigit() and 1 <= int(n) <= len(prompt.choices) for n in numbers)
        ):
            codes = [prompt.choices[int(n) - 1].code for n in numbers]
            if prompt.kind == "select_multiple":
                for code in codes:
                    conv.toggle(code)
                return None
            if len(codes) == 1:
                return conv.answer(codes[0])
        if prompt.kind == "select_multiple" and line == "":
            return conv.finish_multi()
        return conv.answer(line)


def _walk(args: argparse.Namespace) -> int:
    form = _load(args.file)
    prefill = {}
    for item in args.prefill:
        key, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--prefill {item!r}: expected FIELD=VALUE")
        prefill[key.strip()] = value.strip()
    context: dict[str, object] = {
        "investigator": args.investigator,
        "collection_date": clock.today(),
    }
    if args.date:
        try:
            context["collection_date"] = dt.date.fromisoformat(args.date)
        except ValueError:
            raise CliError(f"--date {args.date!r}: expected YYYY-MM-DD") from None
    conv = Conversation.start(form, mode=args.mode, prefill=prefill, context=context)

    def read() -> str | None:
        line = sys.stdin.readline()
        return line if line else None

    return _Terminal(conv, read, sys.stderr).run()
