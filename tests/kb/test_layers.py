"""Several packs in one run: the built-in pack and a team's own, combined; what two packs both claim is
an error naming both files."""

import textwrap
from pathlib import Path

import pytest
import yaml

from diagnose.kb.loader import KnowledgeBaseError, builtin_root, load_pack, load_packs

ENTRY = textwrap.dedent("""\
    id: {id}
    title: Jobs fail
    category: {category}
    severity: medium
    aliases: [{aliases}]
    summary: The worker logs failed jobs.
    causes:
      - {{id: worker-broken, title: The worker is broken, text: It fails every job.}}
    checks:
      - id: job-failed
        kind: log
        title: failed jobs in the last hour
        expects: no failed job
        log: app
        pattern: 'job failed'
        since: 1h
        cause: worker-broken
        symptom: true
    solutions:
      - id: look
        title: Look at the worker
        steps:
          - do: Read the worker's last lines.
            risk: read-only
            where: host
            shell: tail -n 50 /var/log/app.log
    examples:
      - name: broken
        verdict: problem
        causes: [worker-broken]
        fails: [job-failed]
        world:
          logs:
            app: |
              {{now-30m}} ERROR app.worker: job failed: 42
      - name: healthy
        verdict: healthy
        world:
          logs:
            app: |
              {{now-30m}} INFO app.worker: job done: 42
    """)


def write_pack(root: Path, entries: dict[str, tuple[str, list[str]]], **manifest) -> Path:
    """A pack at ``root``: ``{id: (category, aliases)}``; ``manifest`` adds to pack.yaml."""
    root.mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump({
        "name": root.name, "version": "1", "sources": {"logs": {"app": {"description": "the worker's log"}}},
        **manifest}, sort_keys=False))
    for entry_id, (category, aliases) in entries.items():
        (root / category).mkdir(exist_ok=True)
        (root / category / f"{entry_id}.yaml").write_text(
            ENTRY.format(id=entry_id, category=category, aliases=", ".join(aliases)))
    return root


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))


def test_the_builtin_pack_comes_first_then_each_pack_in_order(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", ["jobs-fail"])})
    theirs = write_pack(tmp_path / "theirs", {"slow-jobs": ("jobs", [])})
    pack = load_packs([ours, theirs])
    assert [p.root for p in pack.packs] == [builtin_root(), ours, theirs]
    assert pack.get("failing-jobs") and pack.get("slow-jobs") and pack.get("stale-positions")
    assert pack.layer_of(pack.get("failing-jobs")).root == ours
    assert pack.layer_of(pack.get("stale-positions")).root == builtin_root()
    # sources of both packs are known
    assert {"app", "execution"} <= set(pack.sources["logs"])
    assert pack.digest not in {p.digest for p in pack.packs}


def test_without_the_builtin_pack_only_the_given_ones(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", [])})
    pack = load_packs([ours], builtin=False)
    assert [e.id for e in pack.entries] == ["failing-jobs"] and pack.root == ours
    with pytest.raises(KnowledgeBaseError, match="--checks"):
        load_packs([], builtin=False)


def test_a_pack_given_twice_counts_once(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", [])})
    pack = load_packs([ours, tmp_path / "." / "ours", builtin_root()])
    assert len(pack.packs) == 2


def test_a_clashing_id_or_alias_names_both_files_and_lines(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", ["ghost-positions"])})
    theirs = write_pack(tmp_path / "theirs", {"failing-jobs": ("jobs", [])})
    with pytest.raises(KnowledgeBaseError) as info:
        load_packs([ours, theirs])
    problems = {str(p) for p in info.value.problems}
    builtin_file = builtin_root() / "data" / "stale-positions.yaml"
    alias_line = 5   # `aliases:` is the fifth line of ENTRY
    assert any(p.startswith(f"{ours / 'jobs' / 'failing-jobs.yaml'}:{alias_line}: alias: 'ghost-positions' ")
               and str(builtin_file) in p for p in problems), problems
    assert any(p.startswith(f"{theirs / 'jobs' / 'failing-jobs.yaml'}:1: id: 'failing-jobs' ")
               and str(ours / "jobs" / "failing-jobs.yaml") in p for p in problems), problems
    assert len(problems) == 2


def test_every_pack_s_own_problems_are_listed_together(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", [])})
    theirs = write_pack(tmp_path / "theirs", {"slow-jobs": ("jobs", [])})
    for root in (ours, theirs):
        path = next(root.rglob("*-jobs.yaml"))
        path.write_text(path.read_text().replace("severity: medium", "severity: awful"))
    with pytest.raises(KnowledgeBaseError) as info:
        load_packs([ours, theirs])
    assert {Path(p.file).parent.parent.name for p in info.value.problems} == {"ours", "theirs"}


def test_each_entry_keeps_its_own_pack_s_fix_policy(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", [])},
                      approvers={"trader": "whoever is around", "oncall": "the on-call engineer"})
    pack = load_packs([ours])
    builtin = load_pack(builtin_root())
    assert pack.policy_of(pack.get("failing-jobs")).approvers["trader"] == "whoever is around"
    assert pack.policy_of(pack.get("stale-positions")).approvers == builtin.fixes.approvers
    # the pages of the whole know every role, the first description first
    assert pack.fixes.approvers["trader"] == builtin.fixes.approvers["trader"] and "oncall" in pack.fixes.approvers


def test_a_precondition_defined_with_another_query_is_a_clash(tmp_path):
    pre = {"no-rollover-executing": {"title": "x", "database": "desk", "sql": "SELECT 1 WHERE false", "why": "y"}}
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", [])}, preconditions=pre)
    with pytest.raises(KnowledgeBaseError) as info:
        load_packs([ours])
    (problem,) = info.value.problems
    assert problem.file == str(ours / "pack.yaml") and problem.path == "preconditions.no-rollover-executing"
    assert str(builtin_root() / "pack.yaml") in problem.message


def test_categories_are_declared_by_each_pack(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", []), "disk-full": ("storage", [])},
                      categories={"storage": "Disks and files", "jobs": "Background jobs"})
    pack = load_packs([ours])
    assert list(pack.by_category()) == ["connection", "service", "data", "storage", "jobs"]
    assert pack.category_title("storage") == "Disks and files"
    assert pack.category_title("connection") == "Connection"
    # a pack that declares none: its folders are its categories
    plain = write_pack(tmp_path / "plain", {"slow-jobs": ("batch-jobs", [])})
    assert load_pack(plain).category_title("batch-jobs") == "Batch jobs"


def test_an_undeclared_category_is_refused_naming_the_declared_ones(tmp_path):
    ours = write_pack(tmp_path / "ours", {"failing-jobs": ("jobs", [])}, categories={"storage": "Disks"})
    with pytest.raises(KnowledgeBaseError) as info:
        load_pack(ours)
    (problem,) = info.value.problems
    assert problem.path == "category" and "not declared in pack.yaml `categories`" in problem.message
    assert "storage" in problem.message
