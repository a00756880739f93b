"""``guide/glossary.md``: the pack's domain words in both languages (``glossary.yaml``), the same list
``diagnose explain`` reads as synonyms and translators write by."""

from __future__ import annotations

from diagnose.i18n import t
from diagnose.kb.model import Pack
from diagnose.site.mdtext import cell


def glossary_page(pack: Pack) -> str:
    title = t("Glossary")
    out = ["---", f"title: {title}", "description: " + t("The domain words of this site in Chinese and English."),
           "---", "", f"# {title}", ""]
    if not pack.glossary:
        return "\n".join(out + [t("This knowledge pack has no glossary (glossary.yaml beside pack.yaml)."), ""])
    out += [t("The words the pages use for each thing, in both languages, and the other words operators use for "
              "it. `diagnose explain` treats the words of one line as the same word, so a message in either "
              "language finds the entry."), "",
            "| 中文 | English | " + t("Also said") + " |", "|---|---|---|"]
    for term in sorted(pack.glossary, key=lambda x: x.en.lower()):
        out.append(f"| {cell(term.zh)} | {cell(term.en)} | {cell(', '.join(term.also))} |")
    return "\n".join(out) + "\n"
