"""Shopify's requested query cost, worked out from a query's text and variables.

Shopify prices a query before running it and refuses one over 1,000 points
(MAX_COST_EXCEEDED): a connection (a field with `first` or `last`) costs 2 plus `first`
times what each of its nodes asks for, an object 1 plus its own selection, a scalar or enum
0, a mutation 10. The count uses what is asked for, not what comes back. `pageInfo` is
counted as an object (1), which errs on the dear side. Only what our queries use is read:
operations, fields with arguments, aliases and directives; no fragments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_COST = 1000

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>[{}():!$@,\[\]=])|(?P<word>[A-Za-z0-9_.\-]+))'
)


@dataclass
class Field:
    name: str
    arguments: dict = field(default_factory=dict)
    children: list[Field] = field(default_factory=list)

    def child(self, name: str) -> Field | None:
        return next((c for c in self.children if c.name == name), None)


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    fields: list[Field]

    def root(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def parse(text: str) -> Operation:
    tokens = _tokens(text)
    position = 0
    kind = "query"
    if tokens[0] in ("query", "mutation"):
        kind = tokens[0]
        position = 1
        while tokens[position] != "{":
            position += 1
    fields, position = _selection(tokens, position)
    return Operation(kind=kind, fields=fields)


def requested_cost(text: str, variables: dict | None = None) -> int:
    operation = parse(text)
    if operation.kind == "mutation":
        return 10 * len(operation.fields)
    return sum(_field_cost(f, variables or {}) for f in operation.fields)


def first_of(f: Field, variables: dict) -> int:
    """The field's page size (`first`, else `last`), with a variable resolved."""
    size = f.arguments.get("first", f.arguments.get("last"))
    if isinstance(size, str) and size.startswith("$"):
        size = variables.get(size[1:])
    if not isinstance(size, int) or isinstance(size, bool):
        raise ValueError(f"The connection {f.name} has no page size (first or last).")
    return size


def _field_cost(f: Field, variables: dict) -> int:
    if not f.children:
        return 0
    is_connection = "first" in f.arguments or "last" in f.arguments
    if any(c.name in ("nodes", "edges") for c in f.children) and not is_connection:
        raise ValueError(f"The connection {f.name} has no page size (first or last).")
    if not is_connection:
        return 1 + sum(_field_cost(c, variables) for c in f.children)
    per_node = 0
    rest = 0
    for child in f.children:
        if child.name == "nodes":
            per_node += _field_cost(child, variables)
        elif child.name == "edges":
            per_node += sum(_field_cost(c, variables) for c in child.children)
        else:
            rest += _field_cost(child, variables)
    return 2 + first_of(f, variables) * per_node + rest


def _tokens(text: str) -> list[str]:
    tokens = []
    position = 0
    text = re.sub(r"#[^\n]*", "", text).strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"Cannot read the query at {text[position : position + 20]!r}.")
        tokens.append(match.group(match.lastgroup))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _selection(tokens: list[str], position: int) -> tuple[list[Field], int]:
    assert tokens[position] == "{"
    position += 1
    fields = []
    while tokens[position] != "}":
        name = tokens[position]
        position += 1
        if tokens[position] == ":" and tokens[position + 1] not in "{}()":
            name = tokens[position + 1]  # an alias: the field is the name after it
            position += 2
        current = Field(name=name)
        if tokens[position] == "(":
            current.arguments, position = _arguments(tokens, position)
        while tokens[position] == "@":
            position += 2
            if tokens[position] == "(":
                _, position = _arguments(tokens, position)
        if tokens[position] == "{":
            current.children, position = _selection(tokens, position)
        fields.append(current)
        if tokens[position] == ",":
            position += 1
    return fields, position + 1


def _arguments(tokens: list[str], position: int) -> tuple[dict, int]:
    assert tokens[position] == "("
    position += 1
    arguments = {}
    while tokens[position] != ")":
        if tokens[position] == ",":
            position += 1
            continue
        name = tokens[position]
        assert tokens[position + 1] == ":", f"expected ':' after argument {name}"
        position += 2
        if tokens[position] == "$":
            arguments[name] = "$" + tokens[position + 1]
            position += 2
        elif tokens[position] in ("[", "{"):
            depth = 0
            while True:
                if tokens[position] in ("[", "{"):
                    depth += 1
                elif tokens[position] in ("]", "}"):
                    depth -= 1
                position += 1
                if depth == 0:
                    break
            arguments[name] = None
        else:
            value = tokens[position]
            arguments[name] = int(value) if re.fullmatch(r"-?\d+", value) else value
            position += 1
    return arguments, position + 1
