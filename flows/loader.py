"""Load a form file: read the YAML, validate every part of it, compile it.

All mistakes are found here, at load time, as :class:`FormError` naming the file and the
question; a form that loads never fails at run time because of its own text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from flows.address import PART_NAMES
from flows.errors import FormError
from flows.expr import Compare, Expression, Literal, Name, Node, TupleNode, compile_expression
from flows.machine import build_machine
from flows.model import (
    DERIVED,
    QUESTION_TYPES,
    RESERVED,
    AddressPart,
    AddressRules,
    Check,
    Choice,
    Field,
    Form,
    PolicyNote,
)

# The shipped forms are package data of flows (flows/forms links to config/forms in the
# source tree), so an installed wheel finds them as a checkout does.
FORMS_DIR = Path(str(resources.files("flows") / "forms")).resolve()
DEFAULT_FORM = FORMS_DIR / "suzhou-2014.yaml"
META_COLUMNS = {"community_worker": "社区经办人", "collection_date": "采集日期"}
DERIVED_HEADERS = {"birth_date": "出生日期", "sex": "性别", "age": "年龄"}
_TOP_KEYS = {"form", "address", "questions", "confirmation", "choices", "checks", "notes", "export"}
_QUESTION_KEYS = {
    "name", "type", "label", "hint", "required", "relevant", "constraint", "constraint_message",
    "choices", "allow_text", "min_length", "max_length", "format", "default", "parts",
    "export_header",
}  # fmt: skip
_GROUP_KEYS = {"name", "type", "label", "relevant", "questions"}
_ADDRESS_NAMES = {"mainland", "local", "abroad"}
_IDENT = re.compile(r"[a-z][a-z0-9_]*")
_FORMATS = {"name"}

_cache: dict[tuple[str, int, int], Form] = {}
_cache_lock = threading.Lock()


def load_form(path: str | Path) -> Form:
    """Load, validate and compile a form file; cached until the file changes.

    Raises :class:`FormError` for any mistake in the file.
    """
    source = Path(path)
    try:
        stat = source.stat()
    except OSError as exc:
        raise FormError(
            "E_FILE", f"cannot read the form file ({exc.strerror})", file=source
        ) from None
    key = (str(source.resolve()), stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    form = _Loader(source).load()
    with _cache_lock:
        _cache[key] = form
    return form


def load_default_form() -> Form:
    """The 苏州市区全民社会保险登记信息采集表 shipped in ``config/forms/suzhou-2014.yaml``
    (package data ``flows/forms`` once installed)."""
    return load_form(DEFAULT_FORM)


def find_form(form_id: str, version: int, directory: str | Path | None = None) -> Form:
    """The form with this id and version among the files of ``config/forms`` (or ``directory``),
    so a stored conversation finishes on the version it was started with."""
    folder = Path(directory) if directory is not None else FORMS_DIR
    for candidate in sorted(folder.glob("*.y*ml")):
        form = load_form(candidate)
        if form.id == form_id and form.version == version:
            return form
    raise FormError("E_FILE", f"no form {form_id!r} version {version} in {folder}")


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fields: list[Field] = []
        self.names: set[str] = set()
        self.choice_lists: dict[str, tuple[Choice, ...]] = {}

    def fail(self, code: str, message: str, question: str | None = None) -> FormError:
        return FormError(code, message, file=_display(self.path), question=question)

    # ------------------------------------------------------------------ reading

    def load(self) -> Form:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise self.fail("E_FILE", f"cannot read the form file ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise self.fail("E_YAML", f"{problem}{where}") from None
        if not isinstance(data, dict):
            raise self.fail("E_SCHEMA", "the file must be a mapping with 'form' and 'questions'")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise self.fail(
                "E_UNKNOWN_KEY", f"unknown section(s): {', '.join(sorted(map(str, unknown)))}"
            )
        header = self.mapping(data, "form", None)
        form_id = self.text(header, "id", None, where="form")
        version = header.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail("E_MISSING_KEY", "form: 'version' must be a positive whole number")
        title = self.text(header, "title", None, where="form")
        self.read_choices(data.get("choices") or {})
        address = self.read_address(data.get("address"))
        for item in self.sequence(data, "questions", None, required=True):
            self.read_item(item, "main", (), ())
        for item in self.sequence(data, "confirmation", None, required=False):
            self.read_item(item, "final", (), ())
        if not self.fields:
            raise self.fail("E_SCHEMA", "the form has no questions")
        derive_from = header.get("derive_from", "id_number")
        by_name = {f.name: f for f in self.fields}
        if derive_from not in by_name or by_name[derive_from].type != "id_number":
            raise self.fail(
                "E_UNKNOWN_FIELD", f"form: derive_from {derive_from!r} is not an id_number question"
            )
        if any(f.type == "address" for f in self.fields) and address is None:
            raise self.fail("E_MISSING_KEY", "address questions need an 'address' section")
        fields = tuple(
            _with_parts(f, address, self.path) if f.type == "address" else f for f in self.fields
        )
        checks = tuple(self.read_checks(data.get("checks") or [], "checks", "message"))
        notes = tuple(self.read_checks(data.get("notes") or [], "notes", "text"))
        self.check_expressions(fields, address, checks, notes)
        self.check_cycles(fields, derive_from)
        export = self.read_export(data.get("export"), fields)
        rules = address or AddressRules((), "", "", ())
        machine, states = build_machine(form_id, version, fields)
        return Form(
            id=form_id,
            version=version,
            title=title,
            path=self.path,
            fields=fields,
            choice_lists=self.choice_lists,
            address=rules,
            checks=tuple(Check(c.code, c.when, c.text) for c in checks),
            notes=notes,
            export=export,
            derive_from=derive_from,
            machine=machine,
            states=states,
        )

    def mapping(self, data: dict[str, Any], key: str, question: str | None) -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self.fail("E_MISSING_KEY", f"'{key}' must be a mapping", question)
        return value

    def sequence(
        self, data: dict[str, Any], key: str, question: str | None, *, required: bool
    ) -> list[Any]:
        value = data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self.fail("E_MISSING_KEY", f"'{key}' must be a list", question)
        return value

    def text(
        self,
        data: dict[str, Any],
        key: str,
        question: str | None,
        *,
        where: str = "",
        optional: bool = False,
    ) -> str:
        value = data.get(key)
        if value is None and optional:
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "":
            prefix = f"{where}: " if where else ""
            raise self.fail("E_MISSING_KEY", f"{prefix}'{key}' is missing or empty", question)
        return str(value).strip()

    def expression(self, source: Any, question: str | None, what: str) -> Expression:
        if not isinstance(source, (str, bool, int)):
            raise self.fail("E_SCHEMA", f"{what}: expected an expression or true/false", question)
        try:
            return compile_expression(source, f"{what}_{question or 'form'}")
        except FormError as exc:
            raise FormError(
                exc.code, f"{what}: {exc.message}", file=_display(self.path), question=question
            ) from None

    def read_choices(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise self.fail("E_SCHEMA", "'choices' must map list names to lists of choices")
        for list_name, items in data.items():
            if not isinstance(items, list) or not items:
                raise self.fail("E_SCHEMA", f"choice list '{list_name}' must be a non-empty list")
            seen: set[str] = set()
            choices = []
            for item in items:
                if not isinstance(item, dict) or "name" not in item or "label" not in item:
                    raise self.fail(
                        "E_MISSING_KEY",
                        f"choice list '{list_name}': each choice needs name and label",
                    )
                code = str(item["name"])
                if code in seen:
                    raise self.fail(
                        "E_DUPLICATE_CHOICE", f"choice list '{list_name}' has '{code}' twice"
                    )
                seen.add(code)
                choices.append(Choice(code, str(item["label"])))
            self.choice_lists[str(list_name)] = tuple(choices)

    def read_address(self, data: Any) -> AddressRules | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            raise self.fail("E_SCHEMA", "'address' must be a mapping with 'local' and 'parts'")
        local = self.mapping(data, "local", None)
        districts = self.text(local, "districts", None, where="address.local")
        if districts not in self.choice_lists:
            raise self.fail(
                "E_UNKNOWN_CHOICE_LIST", f"address.local: unknown choice list '{districts}'"
            )
        parts = []
        for item in self.sequence(data, "parts", None, required=True):
            if not isinstance(item, dict):
                raise self.fail("E_SCHEMA", "address.parts: each part must be a mapping")
            name = self.text(item, "name", None, where="address.parts")
            if name not in PART_NAMES:
                raise self.fail(
                    "E_BAD_NAME", f"address part '{name}' (known: {', '.join(PART_NAMES)})"
                )
            required = self.expression(item.get("required", False), f"address.{name}", "required")
            parts.append(
                AddressPart(
                    name, self.text(item, "label", name), str(item.get("hint") or ""), required
                )
            )
        if not parts or parts[0].name != "province":
            raise self.fail("E_SCHEMA", "address.parts must start with 'province'")
        return AddressRules(
            tuple(parts),
            self.text(local, "province", None, where="address.local"),
            self.text(local, "city", None, where="address.local"),
            self.choice_lists[districts],
        )

    def read_item(
        self, item: Any, stage: str, group: tuple[str, ...], group_relevant: tuple[Expression, ...]
    ) -> None:
        if not isinstance(item, dict):
            raise self.fail("E_SCHEMA", "each question must be a mapping")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            label = item.get("label")
            raise self.fail(
                "E_MISSING_KEY", f"a question{f' ({label})' if label else ''} has no name"
            )
        if not _IDENT.fullmatch(name) or name in RESERVED or name in META_COLUMNS:
            raise self.fail(
                "E_BAD_NAME", f"'{name}' must be lower_case_with_underscores and not reserved", name
            )
        if name in self.names:
            raise self.fail("E_DUPLICATE_NAME", "the name is used twice", name)
        self.names.add(name)
        kind = item.get("type")
        if kind is None:
            raise self.fail("E_MISSING_KEY", "'type' is missing", name)
        if kind == "group":
            unknown = set(item) - _GROUP_KEYS
            if unknown:
                raise self.fail(
                    "E_UNKNOWN_KEY", f"unknown key(s) {', '.join(sorted(unknown))}", name
                )
            relevant = group_relevant
            if "relevant" in item:
                relevant = (*group_relevant, self.expression(item["relevant"], name, "relevant"))
            children = self.sequence(item, "questions", name, required=True)
            for child in children:
                self.read_item(child, stage, (*group, name), relevant)
            return
        if kind not in QUESTION_TYPES:
            raise self.fail(
                "E_UNKNOWN_TYPE",
                f"unknown type '{kind}' (known: group, {', '.join(QUESTION_TYPES)})",
                name,
            )
        unknown = set(item) - _QUESTION_KEYS
        if unknown:
            raise self.fail("E_UNKNOWN_KEY", f"unknown key(s) {', '.join(sorted(unknown))}", name)
        label = self.text(item, "label", name)
        choice_list: str | None = None
        choices: tuple[Choice, ...] = ()
        if kind in ("select_one", "select_multiple"):
            choice_list = item.get("choices")
            if not choice_list:
                raise self.fail("E_MISSING_KEY", f"a {kind} question needs 'choices'", name)
            if choice_list not in self.choice_lists:
                raise self.fail(
                    "E_UNKNOWN_CHOICE_LIST", f"unknown choice list '{choice_list}'", name
                )
            choices = self.choice_lists[choice_list]
        elif "choices" in item:
            raise self.fail("E_SCHEMA", f"a {kind} question takes no 'choices'", name)
        relevant = group_relevant
        if "relevant" in item:
            relevant = (*group_relevant, self.expression(item["relevant"], name, "relevant"))
        fmt = item.get("format")
        if fmt is not None and fmt not in _FORMATS:
            raise self.fail(
                "E_SCHEMA", f"unknown format '{fmt}' (known: {', '.join(sorted(_FORMATS))})", name
            )
        parts = item.get("parts")
        if parts is not None and (
            kind != "address"
            or not isinstance(parts, list)
            or not all(p in PART_NAMES for p in parts)
        ):
            raise self.fail(
                "E_SCHEMA", f"'parts' is a list of {', '.join(PART_NAMES)} (address only)", name
            )
        self.fields.append(
            Field(
                name=name,
                type=kind,
                label=label,
                hint=str(item.get("hint") or ""),
                required=self.expression(item.get("required", False), name, "required"),
                relevant=relevant,
                constraint=(
                    self.expression(item["constraint"], name, "constraint")
                    if "constraint" in item
                    else None
                ),
                constraint_message=str(item.get("constraint_message") or ""),
                choice_list=choice_list,
                choices=choices,
                allow_text=bool(item.get("allow_text", False)),
                min_length=self.length(item, "min_length", name),
                max_length=self.length(item, "max_length", name),
                format=fmt,
                parts=tuple(AddressPart(p, p, "", compile_expression(False)) for p in parts or ()),
                default=self.expression(item["default"], name, "default")
                if "default" in item
                else None,
                stage=stage,
                group=group,
                export_header=str(item.get("export_header") or label),
            )
        )

    def length(self, item: dict[str, Any], key: str, question: str) -> int | None:
        value = item.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail("E_SCHEMA", f"'{key}' must be a whole number", question)
        return value

    def read_checks(self, data: Any, section: str, text_key: str) -> Iterator[PolicyNote]:
        if not isinstance(data, list):
            raise self.fail("E_SCHEMA", f"'{section}' must be a list")
        seen: set[str] = set()
        for item in data:
            if not isinstance(item, dict):
                raise self.fail("E_SCHEMA", f"'{section}': each entry must be a mapping")
            code = self.text(item, "code", None, where=section)
            if code in seen:
                raise self.fail("E_DUPLICATE_NAME", f"{section}: code '{code}' is used twice")
            seen.add(code)
            when = self.expression(item.get("when"), f"{section}.{code}", "when")
            yield PolicyNote(code, when, self.text(item, text_key, f"{section}.{code}"))

    def read_export(self, data: Any, fields: tuple[Field, ...]) -> tuple[tuple[str, str], ...]:
        by_name = {f.name: f for f in fields}
        if data is None:
            columns = [
                (f.name, f.export_header) for f in fields if f.type not in ("note", "confirm")
            ]
            return (*columns, *((k, DERIVED_HEADERS[k]) for k in DERIVED), *META_COLUMNS.items())
        if not isinstance(data, list):
            raise self.fail("E_SCHEMA", "'export' must be a list of column names")
        columns = []
        for entry in data:
            if isinstance(entry, dict) and len(entry) == 1:
                key, header = next(iter(entry.items()))
            elif isinstance(entry, str):
                key, header = entry, None
            else:
                raise self.fail("E_SCHEMA", "export: each column is a name or {name: 表头}")
            if key in by_name:
                header = header or by_name[key].export_header
            elif key in DERIVED_HEADERS or key in META_COLUMNS:
                header = header or DERIVED_HEADERS.get(key) or META_COLUMNS[key]
            else:
                raise self.fail("E_UNKNOWN_FIELD", f"export: unknown column '{key}'")
            columns.append((str(key), str(header)))
        return tuple(columns)

    # ------------------------------------------------------------------ checking

    def check_expressions(
        self,
        fields: tuple[Field, ...],
        address: AddressRules | None,
        checks: tuple[PolicyNote, ...],
        notes: tuple[PolicyNote, ...],
    ) -> None:
        by_name = {f.name: f for f in fields}
        known = set(by_name) | set(RESERVED)

        def check(
            expr: Expression, question: str, what: str, extra: Iterable[str] = (), dot: bool = False
        ) -> None:
            for missing in sorted(expr.names - known - set(extra)):
                raise self.fail("E_UNKNOWN_FIELD", f"{what}: unknown field '{missing}'", question)
            if expr.uses_current and not dot:
                raise self.fail(
                    "E_UNKNOWN_FIELD", f"{what}: '.' is only allowed in a constraint", question
                )
            for node in expr.tree.walk():
                self.check_codes(node, by_name, question, what)

        for f in fields:
            for rel in f.relevant:
                check(rel, f.name, "relevant")
            if f.required is not None:
                check(f.required, f.name, "required")
            if f.constraint is not None:
                check(f.constraint, f.name, "constraint", dot=True)
            if f.default is not None:
                check(f.default, f.name, "default")
        for part in address.parts if address else ():
            check(part.required, f"address.{part.name}", "required", extra=_ADDRESS_NAMES)
        for section, entries in (("checks", checks), ("notes", notes)):
            for entry in entries:
                check(entry.when, f"{section}.{entry.code}", "when")

    def check_codes(self, node: Node, by_name: dict[str, Field], question: str, what: str) -> None:
        if not isinstance(node, Compare):
            return
        pairs = ((node.left, node.right), (node.right, node.left))
        for side, other in pairs:
            if not isinstance(side, Name) or side.name not in by_name:
                continue
            target = by_name[side.name]
            if target.type not in ("select_one", "select_multiple"):
                continue
            values = other.items if isinstance(other, TupleNode) else (other,)
            codes = {c.code for c in target.choices}
            for value in values:
                if (
                    isinstance(value, Literal)
                    and isinstance(value.value, str)
                    and value.value not in codes
                ):
                    raise self.fail(
                        "E_UNKNOWN_CHOICE",
                        f"{what}: '{value.value}' is not a choice of {side.name} "
                        f"(list '{target.choice_list}': {', '.join(sorted(codes))})",
                        question,
                    )

    def check_cycles(self, fields: tuple[Field, ...], derive_from: str) -> None:
        names = {f.name for f in fields}
        graph: dict[str, set[str]] = {}
        for f in fields:
            deps: set[str] = set()
            for expr in (*f.relevant, f.required, f.default):
                if expr is not None:
                    deps |= expr.names
            graph[f.name] = {
                derive_from if d in DERIVED else d for d in deps if d in names or d in DERIVED
            }
        state: dict[str, int] = {}
        stack: list[str] = []

        def visit(node: str) -> None:
            state[node] = 1
            stack.append(node)
            for dep in sorted(graph.get(node, ())):
                if state.get(dep) == 1:
                    cycle = [*stack[stack.index(dep) :], dep]
                    raise self.fail(
                        "E_CYCLE", "conditions depend on each other: " + " → ".join(cycle), dep
                    )
                if dep not in state:
                    visit(dep)
            stack.pop()
            state[node] = 2

        for f in fields:
            if f.name not in state:
                visit(f.name)


def _with_parts(field: Field, address: AddressRules | None, path: Path) -> Field:
    assert address is not None
    wanted = [p.name for p in field.parts] or [p.name for p in address.parts]
    by_name = {p.name: p for p in address.parts}
    for name in wanted:
        if name not in by_name:
            raise FormError(
                "E_SCHEMA",
                f"address part '{name}' is not in the address section",
                file=_display(path),
                question=field.name,
            )
    return replace(field, parts=tuple(by_name[n] for n in wanted))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
