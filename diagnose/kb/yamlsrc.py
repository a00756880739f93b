"""YAML that remembers where each value came from, so every error can name file and line.

PyYAML's composer gives nodes with marks; we build plain Python data from them and keep a
map ``path -> line`` (paths as tuples: ``("checks", 2, "kind")``). Duplicate keys, which a
normal load silently collapses, are reported; alias expansion is bounded so a "billion
laughs" document fails fast instead of eating memory. Nodes are composed from parser events
by a loop, not by libyaml's recursive composer, so nesting is bounded too (a file of 100,000
``[`` crashed the C composer with a stack overflow), and a scalar whose explicit tag does not
fit (``!!int abc``, a 5,000-digit number) is an error with a line, not a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: values a document may expand to through aliases (the largest built-in entry has ~500)
MAX_NODES = 50_000
#: deeper nesting than any entry needs; also stops self-referencing anchors (``&a [*a]``)
MAX_DEPTH = 64
#: tags whose constructors we run; others (timestamps, !!binary, !!map on a scalar...) stay text
SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str"))


class YamlError(Exception):
    """A file that is not valid YAML; ``line`` is 1-based."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass
class Located:
    """Parsed data plus where each part of it is in the file."""

    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)
    problems: list[tuple[tuple, str]] = field(default_factory=list)

    def line_of(self, path: tuple) -> int:
        """Line of ``path``, or of its closest parent that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def format_path(path: tuple) -> str:
    """``("checks", 2, "kind")`` -> ``checks[2].kind``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + printable(str(part))
    return out or "(top level)"


def printable(text: str) -> str:
    """``text`` on one line: a key written with a newline or a control character (a pasted or
    corrupted file) is shown escaped, so an error stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def load(path: Path, text: str | None = None) -> Located:
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise YamlError(path, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise YamlError(path, 1, f"cannot read: {exc.strerror}") from None
    try:
        loader = loader_cls(text)
        try:
            node = _compose(loader, path)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:  # the reader's errors (control characters) carry a position, not a mark
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        raise YamlError(path, line, f"invalid YAML: {str(exc).splitlines()[0]}") from None
    located = Located(data=None)
    if node is None:
        return located
    _check_size(node, path)
    located.data = _build(node, (), located, path)
    return located


def _check_size(root: Any, file: Path) -> None:
    """Refuse alias bombs and self-containing anchors before building anything.

    Sizes are memoised per node, so this costs one visit per distinct node however far the
    aliases would expand; composing bounded the depth, so the recursion is bounded too.
    """
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YamlError(file, node.start_mark.line + 1, "an anchor contains an alias to itself")
        total = 1
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            open_nodes.add(key)
            children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
            for child in children:
                total += size(child)
                if total > MAX_NODES:
                    raise YamlError(file, node.start_mark.line + 1,
                                    f"document expands to more than {MAX_NODES} values (alias bomb?)")
            open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def _compose(loader: Any, file: Path) -> Any:
    """The document's root node, built from parser events without recursion (see module doc)."""
    import yaml

    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        return None
    loader.get_event()  # document start
    anchors: dict[str, Any] = {}
    stack: list[list] = []  # [collection node, pending mapping key or None]
    root = None
    while not loader.check_event(yaml.DocumentEndEvent):
        event = loader.get_event()
        line = event.start_mark.line + 1
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()
            continue
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise YamlError(file, line, f"invalid YAML: found undefined alias {event.anchor!r}")
            node = anchors[event.anchor]
        else:
            node = _start_node(loader, event)
            if event.anchor is not None:
                anchors[event.anchor] = node
        if not stack:
            root = node
        elif isinstance(stack[-1][0], yaml.SequenceNode):
            stack[-1][0].value.append(node)
        elif stack[-1][1] is None:
            stack[-1][1] = node
        else:
            stack[-1][0].value.append((stack[-1][1], node))
            stack[-1][1] = None
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            stack.append([node, None])
            if len(stack) > MAX_DEPTH:
                raise YamlError(file, line, f"nested more than {MAX_DEPTH} levels deep")
    loader.get_event()  # document end
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.get_event()
        raise YamlError(file, event.start_mark.line + 1,
                        "invalid YAML: expected a single document in the file, found a second one")
    return root


def _start_node(loader: Any, event: Any) -> Any:
    """The node an event opens (scalar, sequence or mapping), its tag resolved as PyYAML does."""
    import yaml

    for event_cls, node_cls in ((yaml.ScalarEvent, yaml.ScalarNode), (yaml.SequenceStartEvent, yaml.SequenceNode),
                                (yaml.MappingStartEvent, yaml.MappingNode)):
        if isinstance(event, event_cls):
            break
    value = event.value if node_cls is yaml.ScalarNode else []
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(node_cls, event.value if node_cls is yaml.ScalarNode else None, event.implicit)
    return node_cls(tag, value, event.start_mark, event.end_mark)


def _build(node: Any, path: tuple, located: Located, file: Path) -> Any:
    """Plain data of ``node`` (its expanded size was bounded by :func:`_check_size`)."""
    import yaml

    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _build(value_node, path, located, file)
                for item in merged if isinstance(merged, list) else [merged]:
                    if isinstance(item, dict):
                        for k, v in item.items():
                            out.setdefault(k, v)
                continue
            key = _scalar(key_node, file)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                located.problems.append((path, "mapping keys must be plain scalars"))
                continue
            if key in out:
                located.lines[path + (key,)] = key_node.start_mark.line + 1
                located.problems.append((path + (key,), f"duplicate key '{key}'"))
                continue
            located.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, path + (key,), located, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, path + (i,), located, file) for i, child in enumerate(node.value)]
    return _scalar(node, file)


def _scalar(node: Any, file: Path) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return None
    if node.tag not in SCALAR_TAGS:
        return node.value  # keep dates and the like as the text the author wrote
    try:
        return yaml.SafeLoader.yaml_constructors[node.tag](_constructor(), node)
    except (ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:  # !!int abc, !!float '', 5,000 digits
        kind = node.tag.rsplit(":", 1)[-1]
        detail = " (too many digits)" if "digits" in str(exc) else ""
        raise YamlError(file, node.start_mark.line + 1, f"{node.value[:40]!r} is not a valid {kind}{detail}") from None


_CONSTRUCTOR: list = []


def _constructor() -> Any:
    """A bare SafeLoader used only for its scalar constructors (int, float, bool, null)."""
    if not _CONSTRUCTOR:
        import yaml

        _CONSTRUCTOR.append(yaml.SafeLoader(""))
    return _CONSTRUCTOR[0]
