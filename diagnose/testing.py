"""A test harness for authors of check-kind plugins (and of packs), shipped with diagnose.

A plugin's own tests call these with real sources, exactly as ``diagnose`` would use the kind::

    from diagnose.testing import assert_is_kind, lint_check, run_check

    def test_my_kind(tmp_path):
        assert_is_kind("redis")                       # registered, importable, implements CheckKind
        check = {"id": "mem", "kind": "redis", "title": "memory", "expects": "below 90%",
                 "endpoint": "cache", "max_used": 90}
        assert lint_check(check) == []                # the schema diagnose lint applies, and the kind's lint
        result = run_check(check, endpoints={"cache": "127.0.0.1:6379"})
        assert result.status == "pass", result.message

``run_check`` validates the check first (a check lint refuses never runs), resolves source names
through a real profile, and returns the :class:`~diagnose.checks.base.CheckResult` a report shows.
"""

from __future__ import annotations

from typing import Any, Mapping

from diagnose.checks import KindError, load_kind, plugin_kinds, protocol_problems
from diagnose.checks.base import CheckResult


def assert_is_kind(name: str) -> None:
    """``name`` is a registered kind (built-in or entry point) that implements the protocol."""
    try:
        module = load_kind(name)
    except KindError as exc:
        raise AssertionError(str(exc)) from None
    problems = protocol_problems(module, name)
    assert not problems, f"kind {name!r}: " + "; ".join(problems)


def lint_check(check: Mapping[str, Any]) -> list[str]:
    """What ``diagnose lint`` says of ``check`` (schema of its kind and the kind's own lint), as
    ``field: message`` lines; empty when it is fine."""
    from jsonschema import Draft202012Validator

    from diagnose.kb.schema import check_schema
    from diagnose.kb.yamlsrc import format_path

    kind = check.get("kind")
    try:
        schema = check_schema(kind if isinstance(kind, str) else None)
    except KindError as exc:
        return [f"kind: {exc}"]
    out = [f"{format_path(tuple(e.absolute_path)) or '(check)'}: {e.message}"
           for e in Draft202012Validator(schema).iter_errors(dict(check))]
    if not out and isinstance(kind, str):
        out += [f"{path or '(check)'}: {message}" for path, message in getattr(load_kind(kind), "lint", lambda c: [])(check)]
    return out


def run_check(check: Mapping[str, Any], *, timeout: float = 10.0, **sources: Mapping[str, Any]) -> CheckResult:
    """Run one check against the given sources, by profile section and as a profile gives them
    (``logs={"app": "/var/log/app.log"}``, ``databases={...}``, a plugin's ``directories={...}``)."""
    from diagnose.kb.model import Check
    from diagnose.profile import Profile, Resolver
    from diagnose.runner import run_checks
    from diagnose.sources import source_types

    problems = lint_check(check)
    if problems:
        raise AssertionError("the check does not validate: " + "; ".join(problems))
    unknown = sorted(set(sources) - set(source_types()))
    if unknown:
        raise AssertionError(f"no source type has the profile section {unknown[0]!r} "
                             f"(known: {', '.join(source_types())})")
    profile = Profile()
    for section, values in sources.items():
        profile.sources[section].update(values or {})
    message = check.get("message") or {}
    model = Check(id=check["id"], kind=check["kind"], title=check["title"], expects=check["expects"], causes=(),
                  messages={"fail": message} if isinstance(message, str) else dict(message),
                  manual=check.get("manual"), timeout=check.get("timeout"), weight=1.0, raw=dict(check))
    (result,) = run_checks([model], Resolver(profile), default_timeout=timeout)
    return result


def installed_plugin_kinds() -> dict[str, str]:
    """Kind name -> module of every plugin kind this environment has (to assert yours is there)."""
    return dict(plugin_kinds())

