"""The condition language of form files: tokenizer, parser and compiler (no ``eval``).

Grammar (lowest precedence first)::

    expr    := and_ ('or' and_)*
    and_    := not_ ('and' not_)*
    not_    := 'not' not_ | compare
    compare := atom (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not' 'in') atom)?
    atom    := STRING | NUMBER | 'true' | 'false' | 'null' | '.' | NAME | NAME '(' args ')'
             | '(' expr ')' | '(' expr ',' expr (',' expr)* ')'

Names are answers, derived values (``age``, ``sex``, ``birth_date``) and ``mode``; ``.`` is the
value being checked (constraints only). Evaluation never raises: an unanswered field is ``None``,
and comparing ``None`` or values of different kinds for order is simply false.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from flows.errors import FormError


class Scope(Protocol):
    """What an expression can see while it runs."""

    def lookup(self, name: str) -> Any:
        """The value of an answer, a derived value or ``mode`` (``None`` when unknown)."""

    @property
    def current(self) -> Any:
        """The value being checked by a constraint (``.``)."""

    def call(self, function: str, args: list[Any]) -> Any:
        """Run a named function on already evaluated arguments."""


Evaluator = Callable[[Scope], Any]

# name -> (number of arguments, positions that must be bare field names)
FUNCTIONS: dict[str, tuple[int, frozenset[int]]] = {
    "answered": (1, frozenset({0})),
    "in_suzhou": (1, frozenset()),
    "is_mainland": (1, frozenset()),
    "age_of": (1, frozenset()),
    "length": (1, frozenset()),
    "count": (1, frozenset()),
    "regex": (2, frozenset()),
    "if": (3, frozenset()),
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|,|\.)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}


@dataclass(frozen=True)
class Token:
    """One lexical token with its column (1-based) for error messages."""

    kind: str  # number, string, name, keyword, op, end
    text: str
    column: int


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens, or raise ``FormError(E_SYNTAX)``."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            col = pos + 1 + (len(source[pos:]) - len(source[pos:].lstrip()))
            raise FormError(
                "E_SYNTAX", f"expression {source!r}: unexpected character at column {col}"
            )
        kind = match.lastgroup or "op"
        text = match.group(kind)
        column = match.start(kind) + 1
        if kind == "name" and text in _KEYWORDS:
            kind = "keyword"
        tokens.append(Token(kind, text, column))
        pos = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


# ---------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Node:
    """Base of the syntax tree."""

    def children(self) -> tuple[Node, ...]:
        return ()

    def walk(self) -> Iterator[Node]:
        """This node and all nodes below it."""
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Current(Node):
    pass


@dataclass(frozen=True)
class TupleNode(Node):
    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True)
class Compare(Node):
    op: str  # ==, !=, <, <=, >, >=, in, not in
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0

    def error(self, token: Token, expected: str) -> FormError:
        found = repr(token.text) if token.kind != "end" else "the end"
        return FormError(
            "E_SYNTAX",
            f"expression {self.source!r}: expected {expected} at column {token.column}, "
            f"found {found}",
        )

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek.kind in ("op", "keyword") and self.peek.text == text:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.error(self.peek, repr(text))

    def parse(self) -> Node:
        if self.peek.kind == "end":
            raise self.error(self.peek, "an expression")
        node = self.or_()
        if self.peek.kind != "end":
            raise self.error(self.peek, "the end of the expression")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.accept("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_(self) -> Node:
        items = [self.not_()]
        while self.accept("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_(self) -> Node:
        if self.accept("not"):
            return Not(self.not_())
        return self.compare()

    def compare(self) -> Node:
        left = self.atom()
        token = self.peek
        if token.kind == "op" and token.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return Compare(token.text, left, self.atom())
        if self.accept("in"):
            return Compare("in", left, self.atom())
        if token.kind == "keyword" and token.text == "not":
            nxt = self.tokens[self.pos + 1]
            if nxt.kind == "keyword" and nxt.text == "in":
                self.pos += 2
                return Compare("not in", left, self.atom())
        return left

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(float(token.text) if "." in token.text else int(token.text))
        if token.kind == "string":
            return Literal(_unquote(token.text))
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            return Literal({"true": True, "false": False, "null": None}[token.text])
        if token.kind == "op" and token.text == ".":
            return Current()
        if token.kind == "name":
            if self.accept("("):
                args: list[Node] = []
                if not self.accept(")"):
                    args.append(self.or_())
                    while self.accept(","):
                        args.append(self.or_())
                    self.expect(")")
                return Call(token.text, tuple(args))
            return Name(token.text)
        if token.kind == "op" and token.text == "(":
            first = self.or_()
            if self.accept(","):
                items = [first, self.or_()]
                while self.accept(","):
                    items.append(self.or_())
                self.expect(")")
                return TupleNode(tuple(items))
            self.expect(")")
            return first
        raise self.error(token, "a value, a name or '('")


def _unquote(text: str) -> str:
    # Only quotes and backslashes are escaped; other backslashes stay (regex patterns need them).
    return re.sub(r"\\(['\"\\])", r"\1", text[1:-1])


def parse(source: str) -> Node:
    """Parse an expression into a syntax tree, or raise ``FormError(E_SYNTAX)``."""
    return _Parser(source).parse()


# ---------------------------------------------------------------- compilation


_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _order(op: str, left: Any, right: Any) -> bool:
    # Ordering across kinds (or with an unanswered None) is "false", never an exception.
    if left is None or right is None or isinstance(left, bool) or isinstance(right, bool):
        return False
    numbers = (int, float)
    if not (
        (isinstance(left, numbers) and isinstance(right, numbers))
        or (isinstance(left, str) and isinstance(right, str))
    ):
        return False
    return bool(_ORDER[op](left, right))


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, (list, tuple, set, frozenset)):
        return item in container
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    return False


def compile_node(node: Node) -> Evaluator:
    """Turn a syntax tree into a Python closure taking a :class:`Scope`."""
    if isinstance(node, Literal):
        value = node.value
        return lambda scope: value
    if isinstance(node, Name):
        name = node.name
        return lambda scope: scope.lookup(name)
    if isinstance(node, Current):
        return lambda scope: scope.current
    if isinstance(node, TupleNode):
        items = [compile_node(item) for item in node.items]
        return lambda scope: tuple(item(scope) for item in items)
    if isinstance(node, Not):
        operand = compile_node(node.operand)
        return lambda scope: not operand(scope)
    if isinstance(node, BoolOp):
        operands = [compile_node(item) for item in node.operands]
        if node.op == "and":
            return lambda scope: all(op(scope) for op in operands)
        return lambda scope: any(op(scope) for op in operands)
    if isinstance(node, Compare):
        return _compile_compare(node)
    if isinstance(node, Call):
        return _compile_call(node)
    raise TypeError(f"unknown node {node!r}")  # pragma: no cover - the parser makes no others


def _compile_compare(node: Compare) -> Evaluator:
    left, right, op = compile_node(node.left), compile_node(node.right), node.op
    if op == "==":
        return lambda scope: bool(left(scope) == right(scope))
    if op == "!=":
        return lambda scope: bool(left(scope) != right(scope))
    if op == "in":
        return lambda scope: _contains(right(scope), left(scope))
    if op == "not in":
        return lambda scope: not _contains(right(scope), left(scope))
    return lambda scope: _order(op, left(scope), right(scope))


def _compile_call(node: Call) -> Evaluator:
    function = node.function
    if function == "answered":
        arg = node.args[0]
        assert isinstance(arg, Name)
        target = arg.name
        return lambda scope: scope.call("answered", [target])
    if function == "if":
        cond, then, other = (compile_node(a) for a in node.args)
        return lambda scope: then(scope) if cond(scope) else other(scope)
    if function == "regex":
        value = compile_node(node.args[0])
        pattern_node = node.args[1]
        assert isinstance(pattern_node, Literal)
        pattern = re.compile(str(pattern_node.value))
        return lambda scope: isinstance(v := value(scope), str) and pattern.search(v) is not None
    args = [compile_node(a) for a in node.args]
    return lambda scope: scope.call(function, [a(scope) for a in args])


@dataclass(frozen=True)
class Expression:
    """A parsed and compiled condition: callable with a scope, named for diagrams and logs."""

    source: str
    tree: Node
    name: str = "expression"
    run: Evaluator = field(compare=False, repr=False, default=lambda scope: None)

    def __call__(self, scope: Scope) -> Any:
        return self.run(scope)

    @property
    def names(self) -> set[str]:
        """Every bare name the expression reads (function arguments included)."""
        return {n.name for n in self.tree.walk() if isinstance(n, Name)}

    @property
    def uses_current(self) -> bool:
        """True when the expression reads ``.``."""
        return any(isinstance(n, Current) for n in self.tree.walk())

    def conjuncts(self) -> frozenset[str]:
        """The top-level ``and`` terms as text (used to prune diagram edges)."""
        terms = (
            self.tree.operands
            if isinstance(self.tree, BoolOp) and self.tree.op == "and"
            else (self.tree,)
        )
        return frozenset(repr(t) for t in terms)


def check_calls(tree: Node) -> None:
    """Reject unknown functions and wrong arguments (``E_UNKNOWN_FUNCTION`` / ``E_ARITY``)."""
    for node in tree.walk():
        if not isinstance(node, Call):
            continue
        spec = FUNCTIONS.get(node.function)
        if spec is None:
            known = ", ".join(sorted(FUNCTIONS))
            raise FormError(
                "E_UNKNOWN_FUNCTION", f"unknown function '{node.function}' (known: {known})"
            )
        arity, bare = spec
        if len(node.args) != arity:
            raise FormError(
                "E_ARITY", f"{node.function}() takes {arity} argument(s), got {len(node.args)}"
            )
        for index in bare:
            if not isinstance(node.args[index], Name):
                raise FormError("E_ARITY", f"{node.function}() needs a field name as argument")
        if node.function == "regex":
            pattern = node.args[1]
            if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)):
                raise FormError("E_ARITY", "regex() needs a quoted pattern as second argument")
            try:
                re.compile(pattern.value)
            except re.error as exc:
                raise FormError("E_SYNTAX", f"regex pattern {pattern.value!r}: {exc}") from None


def compile_expression(source: str | bool | int, name: str = "expression") -> Expression:
    """Parse, check and compile an expression (``true``/``false`` YAML booleans are allowed)."""
    text = ("true" if source else "false") if isinstance(source, bool) else str(source)
    tree = parse(text)
    check_calls(tree)
    return Expression(text, tree, name, compile_node(tree))
