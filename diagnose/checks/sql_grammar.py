"""What a ``kind: sql`` query asks the server to do, read by PostgreSQL's own parser.

A denylist of names over text cannot hold: PostgreSQL block comments nest, ``--`` comments
also end at a carriage return, names can be quoted, schema-qualified or hidden behind a
comment between a function name and its parenthesis. So the query goes through libpg_query
(the server's own grammar, through ``pglast``) and this module works on the parse tree:

* exactly one statement, of a reading kind (``SELECT``/``VALUES``/``TABLE`` and set
  operations on them, ``SHOW``, ``EXPLAIN`` of such a query);
* no ``SELECT ... INTO``, no row locks (``FOR UPDATE``...), no data-modifying CTE anywhere,
  no ``TABLESAMPLE`` method other than ``system``/``bernoulli``;
* every routine the statement may make the server run, by name: functions (also ``FROM f()``,
  SQL-standard syntax such as ``EXTRACT`` and the attribute notation ``t.f``), operators
  (``a + b``, ``OPERATOR(s.+)``, ``IN``, ``LIKE``, ``BETWEEN``, ``= ANY``, ``ORDER BY ... USING``)
  and the types of casts (their cast and input functions).

Whether those routines may run is decided at run time against the target server's catalog
(:mod:`diagnose.checks.sql_catalog`), because only the server knows what ``f`` resolves to.
``lint`` uses :func:`inspect` too, plus the committed list of PostgreSQL's own VOLATILE functions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Iterator, Union

from .sql_text import PERCENT

#: a name as written: (schema or None, name), names already folded/unquoted by the parser
QualifiedName = tuple[Union[str, None], str]
JsonNode = Union[dict, list, str, int, float, bool, None]

#: statements that only read, as the parser names them
READING = {"SelectStmt": "SELECT", "VariableShowStmt": "SHOW", "ExplainStmt": "EXPLAIN"}
WRITING = ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")
SAMPLE_METHODS = frozenset({"system", "bernoulli"})
#: A_Expr kinds whose ``name`` is not an operator but stands for the comparisons below
_BETWEEN = {"AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM"}
#: the comparisons a statement makes without writing an operator: simple CASE and IN (subquery)
#: compare with ``=``; DISTINCT, GROUP BY, UNION, INTERSECT, EXCEPT, JOIN USING and PARTITION BY
#: group with ``=``; ORDER BY, GREATEST and LEAST compare with ``<``/``>`` (all through the type's
#: default operator class)
EQUALITY = frozenset({(None, "=")})
ORDERING = frozenset({(None, "<"), (None, ">")})
#: SQL/JSON syntax of the parser's grammar (PostgreSQL 17) that an older server reads as a call of a
#: function of that name (``json_scalar(1)`` on PostgreSQL 15 calls whatever ``json_scalar`` is there)
JSON_SYNTAX = {"JsonScalarExpr": ("json_scalar",), "JsonSerializeExpr": ("json_serialize",),
               "JsonParseExpr": ("json",), "JsonObjectConstructor": ("json_object",),
               "JsonArrayConstructor": ("json_array",), "JsonArrayQueryConstructor": ("json_array",),
               "JsonObjectAgg": ("json_objectagg",), "JsonArrayAgg": ("json_arrayagg",),
               "JsonFuncExpr": ("json_exists", "json_query", "json_value"), "JsonTable": ("json_table",)}


class Refused(Exception):
    """The query is not a single read statement; the message says what to change."""


@dataclass(frozen=True)
class Calls:
    """The routines a statement may make the server run, and the relations it reads."""

    statement: str                                   # SELECT, SHOW or EXPLAIN
    functions: frozenset[QualifiedName] = frozenset()
    attribute_calls: frozenset[str] = frozenset()    # t.f may call f(t): checked if such an f exists
    operators: frozenset[QualifiedName] = frozenset()
    types: frozenset[QualifiedName] = frozenset()
    relations: frozenset[QualifiedName] = frozenset()
    analyze: bool = False                            # EXPLAIN ANALYZE: the query is executed
    names: tuple[str, ...] = field(default=(), compare=False)  # every function name, for messages


def server_text(query: str) -> str:
    """The statement as the server receives it: psycopg turns ``%(name)s`` into ``$n`` and
    ``%%`` into ``%`` everywhere (in string literals too), so the parser reads the same text."""
    numbers: dict[str, int] = {}

    def sub(match: re.Match) -> str:
        token = match.group(1)
        if token == "%" or token is None:
            return "%"
        name = match.group("name") or f"#{len(numbers)}"
        return f"${numbers.setdefault(name, len(numbers) + 1)}"

    return PERCENT.sub(sub, query)


def parse(query: str) -> list[dict]:
    """The parse tree of ``query`` as JSON-like dicts (one per statement); Refused on a syntax error."""
    from diagnose.pgparse import parse_error, parse_sql_json

    try:
        tree = json.loads(parse_sql_json(server_text(query)))
    except parse_error() as exc:
        raise Refused(f"not valid PostgreSQL: {exc}") from None
    return [item["stmt"] for item in tree.get("stmts") or []]


def inspect(query: str) -> Calls:
    """What ``query`` may run; :class:`Refused` when it is not exactly one read statement."""
    statements = parse(query)
    if len(statements) != 1:
        kinds = ", ".join(_describe(stmt) for stmt in statements)
        raise Refused("empty query" if not statements else
                      f"{len(statements)} statements ({kinds}): a check runs exactly one read statement")
    kind, body = next(iter(statements[0].items()))
    if kind not in READING:
        raise Refused(f"{_describe(statements[0])} is not a read statement (a check runs one SELECT, VALUES, "
                      f"TABLE, SHOW or EXPLAIN)")
    analyze = False
    if kind == "ExplainStmt":
        inner = next(iter((body.get("query") or {}).keys()), "")
        if inner != "SelectStmt":
            raise Refused(f"EXPLAIN of {_statement_name(inner)}: a check only explains a read query")
        analyze = any(_option_on(o) for o in body.get("options") or [] if o["DefElem"]["defname"] == "analyze")
    walker = _Walker()
    walker.visit(statements[0])
    return Calls(READING[kind], frozenset(walker.functions), frozenset(walker.attribute_calls),
                 frozenset(walker.operators), frozenset(walker.types),
                 frozenset(r for r in walker.relations if r[0] is not None or r[1] not in walker.ctes),
                 analyze, tuple(sorted({n for _, n in walker.functions})))


def _option_on(option: dict) -> bool:
    arg = option["DefElem"].get("arg")
    if not arg:
        return True
    value = next(iter(arg.values()))
    text = str(value.get("sval", value.get("boolval", value.get("ival", "true")))).lower()
    return text not in ("false", "off", "0", "{}")


#: statement nodes whose name does not read as the SQL people write
_STATEMENT_WORDS = {"VariableSetStmt": "SET", "TransactionStmt": "a transaction command",
                    "CreateTableAsStmt": "CREATE TABLE AS", "CreateStmt": "CREATE TABLE", "DoStmt": "DO",
                    "CheckPointStmt": "CHECKPOINT", "DeclareCursorStmt": "DECLARE CURSOR",
                    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW", "VacuumStmt": "VACUUM or ANALYZE",
                    "CopyStmt": "COPY", "ExecuteStmt": "EXECUTE", "PrepareStmt": "PREPARE"}


def _describe(statement: dict) -> str:
    """What a parsed statement is, as users write it: ``SELECT``, ``BEGIN``, ``COPY``."""
    kind, body = next(iter(statement.items()))
    if kind == "TransactionStmt":
        return str(body.get("kind", "")).removeprefix("TRANS_STMT_") or "a transaction command"
    return READING.get(kind) or _statement_name(kind)


def _statement_name(kind: str) -> str:
    """``CopyStmt`` -> ``COPY``, ``CreateTableAsStmt`` -> ``CREATE TABLE AS``: as users write it."""
    if kind in _STATEMENT_WORDS:
        return _STATEMENT_WORDS[kind]
    words = re.findall(r"[A-Z][a-z]*", kind.removesuffix("Stmt")) or [kind]
    return " ".join(words).upper()


def _name(items: list) -> QualifiedName:
    """``[{"String": {"sval": "pg_catalog"}}, {"String": {"sval": "now"}}]`` -> ``("pg_catalog", "now")``."""
    parts = [item["String"]["sval"] for item in items if "String" in item]
    return (parts[-2] if len(parts) > 1 else None, parts[-1] if parts else "")


class _Walker:
    """Collects what a parse tree calls, refusing what a read must not contain on the way."""

    def __init__(self) -> None:
        self.functions: set[QualifiedName] = set()
        self.attribute_calls: set[str] = set()
        self.operators: set[QualifiedName] = set()
        self.types: set[QualifiedName] = set()
        self.relations: set[QualifiedName] = set()
        self.ctes: set[str] = set()

    def visit(self, node: JsonNode) -> None:
        for kind, body in nodes(node):
            handler = getattr(self, f"_{kind}", None)
            if handler is not None:
                handler(body)
            elif kind in JSON_SYNTAX:
                self.functions.update((None, name) for name in JSON_SYNTAX[kind])

    # -- refusals -------------------------------------------------------------------------------
    def _SelectStmt(self, body: dict) -> None:
        if body.get("intoClause"):
            raise Refused("SELECT ... INTO creates a table: checks must only read")
        op = body.get("op", "SETOP_NONE")
        if body.get("distinctClause") or body.get("groupClause") or \
                op != "SETOP_NONE" and not (op == "SETOP_UNION" and body.get("all")):
            self.operators.update(EQUALITY)
        if body.get("lockingClause"):
            strength = body["lockingClause"][0]["LockingClause"].get("strength", "")
            words = {"LCS_FORUPDATE": "FOR UPDATE", "LCS_FORNOKEYUPDATE": "FOR NO KEY UPDATE",
                     "LCS_FORSHARE": "FOR SHARE", "LCS_FORKEYSHARE": "FOR KEY SHARE"}
            raise Refused(f"'{words.get(strength, 'FOR UPDATE')}' locks rows: checks must only read")

    def _writing(self, kind: str) -> None:
        raise Refused(f"{_statement_name(kind)} changes data (in a WITH clause): checks must only read")

    def _InsertStmt(self, body: dict) -> None:
        self._writing("InsertStmt")

    def _UpdateStmt(self, body: dict) -> None:
        self._writing("UpdateStmt")

    def _DeleteStmt(self, body: dict) -> None:
        self._writing("DeleteStmt")

    def _MergeStmt(self, body: dict) -> None:
        self._writing("MergeStmt")

    def _RangeTableSample(self, body: dict) -> None:
        method = _name(body.get("method") or [])[1].lower()
        if method not in SAMPLE_METHODS:
            raise Refused(f"TABLESAMPLE {method}: only the built-in SYSTEM and BERNOULLI methods are allowed")

    # -- what the statement runs ----------------------------------------------------------------
    def _FuncCall(self, body: dict) -> None:
        self.functions.add(_name(body["funcname"]))
        if body.get("agg_distinct"):                      # count(DISTINCT x)
            self.operators.update(EQUALITY)

    def _MinMaxExpr(self, body: dict) -> None:              # GREATEST / LEAST
        self.operators.update(ORDERING)

    def _A_Expr(self, body: dict) -> None:
        if body.get("kind") in _BETWEEN:
            self.operators.update({(None, "<="), (None, ">=")})
        elif body.get("name"):
            self.operators.add(_name(body["name"]))
        if body.get("kind") == "AEXPR_SIMILAR":
            self.functions.add(("pg_catalog", "similar_to_escape"))

    def _SubLink(self, body: dict) -> None:
        if body.get("operName"):
            self.operators.add(_name(body["operName"]))
        elif body.get("subLinkType") == "ANY_SUBLINK":   # x IN (SELECT ...)
            self.operators.update(EQUALITY)

    def _CaseExpr(self, body: dict) -> None:
        if body.get("arg"):                               # CASE x WHEN y: x = y
            self.operators.update(EQUALITY)

    def _JoinExpr(self, body: dict) -> None:
        if body.get("usingClause") or body.get("isNatural"):
            self.operators.update(EQUALITY)

    def _WindowDef(self, body: dict) -> None:
        if body.get("partitionClause"):
            self.operators.update(EQUALITY)

    def _SortBy(self, body: dict) -> None:
        if body.get("useOp"):
            self.operators.add(_name(body["useOp"]))
        else:
            self.operators.update(ORDERING)

    def _TypeName(self, body: dict) -> None:
        """A cast's target, a column definition list's type (``AS r(x t)``): input functions, casts
        and domain constraints run."""
        if body.get("names"):
            self.types.add(_name(body["names"]))

    def _ColumnRef(self, body: dict) -> None:
        fields = [f["String"]["sval"] for f in body.get("fields") or [] if "String" in f]
        if len(fields) >= 2:  # t.f is the column f of t, or f(t) when t has no column f
            self.attribute_calls.add(fields[-1])

    def _A_Indirection(self, body: dict) -> None:
        for item in body.get("indirection") or []:
            if "String" in item:
                self.attribute_calls.add(item["String"]["sval"])

    def _RangeVar(self, body: dict) -> None:
        self.relations.add((body.get("schemaname"), body.get("relname", "")))

    def _CommonTableExpr(self, body: dict) -> None:
        self.ctes.add(body.get("ctename", ""))


def nodes(node: JsonNode) -> Iterator[tuple[str, dict]]:
    """Every ``(NodeType, body)`` in the tree, depth first, iteratively (trees can be deep)."""
    stack: list[JsonNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(reversed(current))
        elif isinstance(current, dict):
            for key, value in current.items():
                if key[:1].isupper() and isinstance(value, dict):
                    yield key, value
                elif key == "relation" and isinstance(value, dict) and "relname" in value:
                    yield "RangeVar", value  # a typed field holds the RangeVar without its wrapper
                elif key in ("larg", "rarg") and isinstance(value, dict):
                    yield "SelectStmt", value  # the sides of UNION / INTERSECT / EXCEPT, unwrapped too
                elif key == "typeName" and isinstance(value, dict):
                    yield "TypeName", value
                elif key == "over" and isinstance(value, dict):
                    yield "WindowDef", value   # f() OVER (PARTITION BY ...)
                if isinstance(value, (dict, list)):
                    stack.append(value)
