"""``diagnose.probes.preload``: a run starts importing what its kinds will need on a helper thread."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys, threading, types
from diagnose import probes
from diagnose.checks import KindError

kinds = {"slow": types.SimpleNamespace(PRELOAD=("xml.dom.minidom", "no_such_module_at_all", 7)),
         "plain": types.SimpleNamespace()}

def load_kind(name):
    if name not in kinds:
        raise KindError(name)
    return kinds[name]

probes.load_kind = load_kind
assert "xml.dom.minidom" not in sys.modules
checks = [types.SimpleNamespace(kind=k) for k in ("plain", "slow", "unknown", "slow")]
probes.preload(checks)
helpers = [t for t in threading.enumerate() if t.name == "diagnose-preload"]
for t in helpers:
    t.join(30)
print(len(helpers), "xml.dom.minidom" in sys.modules)
probes.preload([types.SimpleNamespace(kind="plain")])
print(sum(t.name == "diagnose-preload" for t in threading.enumerate()))
kinds["slow"].PRELOAD = ("json.tool",)
probes.preload([types.SimpleNamespace(kind="slow")])
probes._preloaded(30)   # what run_probes does before its first probe
print("json.tool" in sys.modules, probes._PRELOADING == [])
"""


def test_preload_imports_each_kind_s_modules_on_one_helper_thread_and_never_raises():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    # one helper for the run; the module imported; a missing module, a non-name, an unknown kind: no error
    assert out.stdout.split() == ["1", "True", "0", "True", "True"], out.stdout + out.stderr


def test_the_built_in_kinds_preload_what_their_runs_import():
    from diagnose.checks import load_kind

    assert "psycopg" in load_kind("sql").PRELOAD
    assert "http.client" in load_kind("http").PRELOAD
    for kind in ("sql", "http", "log"):
        for module in load_kind(kind).PRELOAD:
            __import__(module)  # each names a module that exists
