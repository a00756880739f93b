"""YAML that remembers where each value came from, so every error can name file and line.

PyYAML's composer gives nodes with marks; we build plain Python data from them and keep a
map ``path -> line`` (paths as tuples: ``("checks", 2, "kind")``). Duplicate keys, which a
normal load silently collapses, are reported; alias expansion is bounded so a "billion
laughs" document fails fast instead of eating memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_NODES = 200_000


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
            out += ("." if out else "") + str(part)
    return out or "(top level)"


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
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, f"invalid YAML: {exc}") from None
    located = Located(data=None)
    if node is None:
        return located
    budget = [MAX_NODES]
    located.data = _build(node, (), located, budget, path)
    return located


def _build(node: Any, path: tuple, located: Located, budget: list[int], file: Path) -> Any:
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError(file, node.start_mark.line + 1,
                        f"document expands to more than {MAX_NODES} values (alias bomb?)")
    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _build(value_node, path, located, budget, file)
                for item in merged if isinstance(merged, list) else [merged]:
                    if isinstance(item, dict):
                        for k, v in item.items():
                            out.setdefault(k, v)
                continue
            key = _scalar(key_node)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                located.problems.append((path, "mapping keys must be plain scalars"))
                continue
            if key in out:
                located.lines[path + (key,)] = key_node.start_mark.line + 1
                located.problems.append((path + (key,), f"duplicate key '{key}'"))
                continue
            located.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, path + (key,), located, budget, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, path + (i,), located, budget, file) for i, child in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: Any) -> Any:
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return None
    constructor = yaml.SafeLoader.yaml_constructors.get(node.tag)
    if constructor is None or node.tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
        return node.value  # keep dates and the like as the text the author wrote
    return constructor(_constructor(), node)


_CONSTRUCTOR: list = []


def _constructor() -> Any:
    """A bare SafeLoader used only for its scalar constructors (int, float, bool, null)."""
    if not _CONSTRUCTOR:
        import yaml

        _CONSTRUCTOR.append(yaml.SafeLoader(""))
    return _CONSTRUCTOR[0]
