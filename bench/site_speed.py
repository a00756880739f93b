#!/usr/bin/env python3
"""Cost of generating the FAQ site from the knowledge base, against the same pages written by hand.

    python bench/site_speed.py [--entries N] [--runs N]

A synthetic knowledge base of N (default 1,000) valid entries is written to bench/data/site/pack/
(copies of the built-in entries with renamed ids, titles and aliases, in all categories), then,
each a fresh ``python -m mkdocs build`` process, medians of --runs runs taken in turns:

  generated    the repository's mkdocs.yml, whose diagnose plugin loads the pack, generates every page
               (symptoms, categories, guide, error index, reference, example report files) and
               the navigation: what `diagnose docs build --checks PACK` does
  hand-written the same pages dumped once to disk (bench/data/site/hand/docs/) and built by a
               copy of mkdocs.yml without the plugin, its navigation written out: the baseline
                                                   aim: generated at most 1.10x the baseline

Both builds produce the same files (checked). Caches are warm, as on any rebuild: the
knowledge-base cache and the example reports (built once on a throwaway PostgreSQL by a
warm-up build; that first run takes minutes) live in bench/data/site/cache/, not your cache.
The breakdown below the table is the in-process time of each step the plugin adds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data" / "site"
PACK = DATA / "pack"
CACHE = DATA / "cache"
HAND = DATA / "hand"
GOAL = 1.10


def write_synthetic_pack(count: int) -> None:
    """``count`` entries made from the built-in ones; identical input gives an identical pack (and cache key)."""
    from diagnose.kb.loader import builtin_root, entry_files

    source = builtin_root()
    templates = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in entry_files(source)]
    shutil.rmtree(PACK, ignore_errors=True)
    PACK.mkdir(parents=True)
    shutil.copy(source / "pack.yaml", PACK / "pack.yaml")
    shutil.copytree(source / "schemas", PACK / "schemas")  # the examples' reference schemas
    plan = [(templates[i % len(templates)], i // len(templates)) for i in range(count)]
    ids = {f"{template['id']}-{copy:03d}" for template, copy in plan}
    for template, copy in plan:
        suffix = f"-{copy:03d}"
        entry = dict(template, id=template["id"] + suffix, title=f"{template['title']} (variant {copy})",
                     aliases=[alias + suffix for alias in template.get("aliases", [])],
                     related=[rel + suffix for rel in template.get("related", []) if rel + suffix in ids])
        folder = PACK / entry["category"]
        folder.mkdir(exist_ok=True)
        (folder / f"{entry['id']}.yaml").write_text(
            yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")


def build_env() -> dict[str, str]:
    return dict(os.environ, DIAGNOSE_CHECKS=str(PACK), DIAGNOSE_CACHE_DIR=str(CACHE), NO_MKDOCS_2_WARNING="1",
                PYTHONPATH=str(ROOT))


def mkdocs_build(config: Path, out: Path, env: dict[str, str]) -> float:
    """Wall time of one ``mkdocs build`` process; a failed build aborts the benchmark."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(out)],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"bench: mkdocs build -f {config} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return elapsed


def write_hand_project() -> dict[str, float]:
    """Dump the generated pages and navigation into a plain mkdocs project; returns step timings."""
    os.environ.update(DIAGNOSE_CHECKS=str(PACK), DIAGNOSE_CACHE_DIR=str(CACHE))
    from diagnose.site.examples import example_reports
    from diagnose.site.generate import expand_nav, load_site_pack, site_files

    steps = {}
    started = time.perf_counter()
    pack = load_site_pack()
    steps["load the pack (cache warm)"] = time.perf_counter() - started
    started = time.perf_counter()
    reports = example_reports(pack)
    steps["example reports (from the cache)"] = time.perf_counter() - started
    started = time.perf_counter()
    files = site_files(pack, reports)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["nav"] = expand_nav(config.get("nav"), pack)
    steps[f"generate {len(files)} files and the navigation"] = time.perf_counter() - started

    shutil.rmtree(HAND, ignore_errors=True)
    docs = HAND / "docs"
    shutil.copytree(ROOT / config.get("docs_dir", "docs"), docs, ignore=shutil.ignore_patterns("dev"))
    for rel, content in files.items():
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(content, encoding="utf-8")
    config["plugins"] = [p for p in config.get("plugins", [])
                         if p != "diagnose" and not (isinstance(p, dict) and "diagnose" in p)]
    config["docs_dir"] = "docs"
    if pack.site_url:  # what the plugin does in on_config
        config["site_url"] = pack.site_url.rstrip("/") + "/"
    (HAND / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return steps


def site_listing(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    try:
        import material  # noqa: F401
    except ImportError:
        sys.exit("bench: the FAQ site needs mkdocs-material: pip install -e '.[docs]'")
    env = build_env()
    write_synthetic_pack(args.entries)
    ours_out, hand_out = DATA / "out-generated", DATA / "out-hand"
    started = time.perf_counter()
    mkdocs_build(ROOT / "mkdocs.yml", ours_out, env)  # warm-up: validates the pack, builds the example reports
    print(f"{args.entries} synthetic entries in {PACK}; warm-up build {time.perf_counter() - started:.0f} s",
          flush=True)
    steps = write_hand_project()
    mkdocs_build(HAND / "mkdocs.yml", hand_out, env)
    only = site_listing(ours_out) ^ site_listing(hand_out)
    if only:
        sys.exit(f"bench: the two builds differ in {len(only)} file(s), e.g. {sorted(only)[:5]}")

    ours, hand = [], []
    for _ in range(args.runs):
        ours.append(mkdocs_build(ROOT / "mkdocs.yml", ours_out, env))
        hand.append(mkdocs_build(HAND / "mkdocs.yml", hand_out, env))
    t_ours, t_hand = statistics.median(ours), statistics.median(hand)
    pages = sum(1 for p in ours_out.rglob("index.html"))
    print(f"{pages} pages; medians of {args.runs} runs\n")
    print(f"{'figure':<48} {'ours':>9} {'baseline':>9} {'ratio':>7} {'goal':>9}  met")
    print(f"{'mkdocs build: generated vs hand-written pages':<48} {t_ours:8.1f}s {t_hand:8.1f}s "
          f"{t_ours / t_hand:6.2f}x {f'<={GOAL:.2f}x':>9}  {'yes' if t_ours <= GOAL * t_hand else 'no'}")
    added = sum(steps.values())
    print(f"{'the plugin alone (in-process) + hand-written build':<48} {t_hand + added:8.1f}s {t_hand:8.1f}s "
          f"{(t_hand + added) / t_hand:6.2f}x {'':>9}  (for information)")
    print(f"\nruns, generated: {' '.join(f'{t:.1f}s' for t in ours)}; hand-written: {' '.join(f'{t:.1f}s' for t in hand)}")
    print("what the plugin adds, in-process (once):")
    for name, seconds in steps.items():
        print(f"  {name:<46} {seconds:8.2f}s")


if __name__ == "__main__":
    main()
