"""The words a reader sees for an enum value of a report: a status, a verdict, a severity, counts
(``pass``, ``通过``); the JSON keeps the value itself.

Apart from :mod:`.document` because ``diagnose show`` names a severity too, and needs none of a run.
"""

from __future__ import annotations

from collections.abc import Callable

from diagnose.i18n import t

def status_word(status: str) -> str:
    """A check's status as a reader sees it: ``pass`` (``通过`` in Chinese); the JSON keeps the value."""
    words = {"pass": t("pass"), "fail": t("fail"), "error": t("error"), "timeout": t("timeout"), "skip": t("skip")}
    return words.get(status, status)


def verdict_word(verdict: str) -> str:
    """A verdict as a reader sees it: ``problem`` (``有问题``); the JSON keeps the value."""
    words = {"problem": t("problem"), "risk": t("risk"), "healthy": t("healthy"),
             "inconclusive": t("inconclusive")}
    return words.get(verdict, verdict)


def severity_word(severity: str) -> str:
    """An entry's severity as a reader sees it: ``high`` (``高``); the JSON keeps the value."""
    words = {"low": t("low"), "medium": t("medium"), "high": t("high"), "critical": t("critical")}
    return words.get(severity, severity)


def counts_words(counts: dict[str, int], word: Callable[[str], str] = status_word) -> str:
    """``2 pass, 2 fail``: the non-zero counts, each named as a reader sees it (``word``); ``""`` for none."""
    return t(", ").join(t("{n} {what}", n=n, what=word(what)) for what, n in counts.items() if n)
