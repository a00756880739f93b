#!/usr/bin/env python3
"""How precise `diagnose triage` is over the pack's whole-stack world: the planted fault first,
no false problem, and by how much the first finding leads the second.

    python bench/triage_precision.py [--only NAME ...]

Every case of :func:`diagnose.world.precision.cases` is built for real (the healthy variants of
``checks/worlds/stack.yaml`` alone, each fault on the variants it declares) and ``diagnose
triage`` runs on it through the CLI, worlds at another moment under libfaketime. Printed: one
line per case (exit code, what was ranked first, the margin to the second, what went wrong), then

  top-1 accuracy            share of fault cases whose symptom is ranked first, as a problem
  false problems            problems in healthy worlds, plus problems beside a fault that it does
                            not declare in `also`; per healthy world
  margin                    score of the first finding minus the second's (fault cases ranked
                            right): min and median; the larger, the less a small change reorders them
                                                                       aim: 100% top-1, 0 false problems
The baseline these figures are judged against is the rule itself (100% / 0), not a timing: this
is a quality measure, so it needs no second program measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from diagnose.kb.loader import load_pack
    from diagnose.world.precision import Servers, cases, run_case, summary
    from diagnose.world.stack import load_stack

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="case names (fault@variant) or parts of them")
    args = parser.parse_args()
    pack = load_pack()
    stack = load_stack(pack)
    todo = [c for c in cases(stack) if not args.only or any(o in c.name for o in args.only)]
    outcomes = []
    started = time.perf_counter()
    with Servers() as servers, tempfile.TemporaryDirectory(prefix="diagnose-precision-") as tmp:
        for case in todo:
            t0 = time.perf_counter()
            outcome = run_case(pack, stack, case, servers, Path(tmp))
            outcomes.append(outcome)
            first = outcome.first
            shown = f"{first[0]} ({first[1]}, {first[2]:g})" if first else "nothing"
            wrong = "; ".join(outcome.problems_with_it())
            margin = "" if outcome.margin is None else f" margin {outcome.margin:g}"
            print(f"{'ok ' if not wrong else 'BAD'} {case.name:55} exit {outcome.exit_code}  first: {shown}{margin}"
                  f"  {time.perf_counter() - t0:4.1f}s" + (f"\n      {wrong}" if wrong else ""), flush=True)
    figures = summary(outcomes)
    print()
    print(f"cases                      {len(outcomes)} ({figures['healthy_worlds']} healthy worlds, "
          f"{figures['fault_cases']} fault cases) in {time.perf_counter() - started:.0f} s")
    if figures["fault_cases"]:
        print(f"top-1 accuracy             {figures['top1']}/{figures['fault_cases']} = {figures['top1_accuracy']:.0%}"
              "   aim 100%")
    print(f"false problems             {figures['false_problems']} "
          f"({figures['false_problems_per_healthy_world']} per healthy world)   aim 0")
    print(f"risks in healthy worlds    {figures['risks_in_healthy_worlds']} (allowed where real)")
    if figures["margin_min"] is not None:
        print(f"margin first - second      min {figures['margin_min']:g}, median {figures['margin_median']:g}")
    met = figures["false_problems"] == 0 and figures["top1_accuracy"] in (None, 1.0)
    print(f"goal                       {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
