"""The HTML report: one self-contained file (inline CSS, no scripts, no external requests).

Both kinds of document, one template each (``report.html.j2``, ``triage.html.j2``), sharing the
partials of the parts they both have (style, run notes, a check's evidence, the masked profile).

Rendered by a Jinja2 template with autoescaping on, so every piece of run data is escaped
by construction. The only markup not produced by the template is the knowledge base's
Markdown (solutions, prevention), converted by markdown-it with raw HTML disabled and its
link validation on (no ``javascript:`` links), so it cannot inject markup either.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from diagnose.i18n import language, t
from diagnose.reports.document import (
    SYMPTOM,
    TRIAGE,
    Document,
    kind_of,
    log_line,
    masking_line,
    run_notes,
    setting_words,
    why_incomplete,
)
from diagnose.reports.words import severity_word, status_word, verdict_word

if TYPE_CHECKING:
    import jinja2
    from markdown_it import MarkdownIt
    from markupsafe import Markup

NAME = "html"
EXTENSION = "html"
DESCRIPTION = "one self-contained HTML file, for a browser"
TEMPLATES = {SYMPTOM: "report.html.j2", TRIAGE: "triage.html.j2"}
#: the statuses a badge shows, each in the reader's language (``PASS``, ``通过``)
STATUSES = ("pass", "fail", "error", "timeout", "skip")
#: ``<html lang>`` of each language
HTML_LANG = {"en": "en", "zh": "zh-CN"}


def verdict_text(verdict: str) -> str:
    """The verdict as the report's banner says it."""
    texts = {
        "problem": t("Problem found"),
        "risk": t("Risk: a known cause is there, but not the symptom (yet)"),
        "healthy": t("Healthy: no known cause found"),
        "inconclusive": t("Inconclusive: nothing concluded a problem, but some checks could not conclude"),
    }
    return texts[verdict]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("diagnose.reports", "templates"),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = _markdown
    env.filters["log_line"] = log_line
    env.filters["scalar"] = _scalar
    env.filters["url"] = _web_url
    env.globals["why_incomplete"] = why_incomplete
    env.globals["masking_line"] = masking_line
    env.globals["run_notes"] = run_notes
    env.globals["setting_words"] = setting_words
    env.globals["t"] = t
    env.globals["verdict_word"] = verdict_word
    env.globals["severity_word"] = severity_word
    env.globals["risk_word"] = _risk_word
    return env


@lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _markdown(text: str) -> Markup:
    """Knowledge-base Markdown as safe HTML (raw HTML in the source is shown as text)."""
    from markupsafe import Markup

    return Markup(_markdown_parser().render(text or ""))


def _risk_word(risk: str) -> str:
    from diagnose.kb.steps import risk_word

    return risk_word(risk)


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _web_url(url: str) -> str:
    """Only web links become hrefs: a knowledge base cannot smuggle a ``javascript:`` URL."""
    return url if str(url).lower().startswith(("https://", "http://")) else "#"


def render(document: Document) -> str:
    kind = kind_of(document)
    only_symptom = {} if kind == TRIAGE else {
        "verdict_text": verdict_text(document["verdict"]),
        "details": [c for c in document["checks"] if c["status"] != "pass"],
    }
    return _environment().get_template(TEMPLATES[kind]).render(
        doc=document,
        html_lang=HTML_LANG.get(language(), language()),
        status_labels={status: status_word(status).upper() for status in STATUSES},
        profile_json=json.dumps(document["profile"], indent=2, ensure_ascii=False),
        **only_symptom,
    ) + "\n"
