"""What is wrong with a knowledge base: one :class:`Problem` per mistake, naming file, line and field,
and the error that carries all of them. Shared by the loader (which raises it) and lint (which finds
them), so neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    path: str
    message: str
    #: the entry is not finished yet (no solution, no example, no healthy example...): lint and the
    #: self-test refuse it, but ``diagnose SYMPTOM`` runs it with a warning (an ad-hoc entry)
    unfinished: bool = field(default=False, compare=False)
    #: a translation is missing, stale or does not keep what must not be translated: lint reports it, and a
    #: run shows that part in English (:mod:`diagnose.kb.translations`)
    translation: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class KnowledgeBaseError(Exception):
    """The knowledge base has problems; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
