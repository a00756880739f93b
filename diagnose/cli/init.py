"""``diagnose init [DIR]`` and ``diagnose new ID``: a knowledge pack of one's own, and entries in it.

What is written is :mod:`diagnose.scaffold`'s; this module finds the pack, checks the names,
and never writes over a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from diagnose.cli.options import fail


@click.command()
@click.argument("directory", required=False, default=".", type=click.Path(path_type=Path), metavar="[DIR]")
@click.option("--name", help="The pack's name (default: the folder's name).")
def init(directory: Path, name: str | None) -> None:
    """Scaffold a knowledge pack of your own in DIR (default: the current folder).

    Writes checks/pack.yaml, one entry (checks/general/<DIR>-example.yaml: a log check with a
    broken and a healthy example world), diagnose.yaml (a profile that uses the pack, with every
    source type commented) and mkdocs.yml (the pack's FAQ site). Unedited, they pass `diagnose
    lint checks`, `diagnose selftest --checks checks` and `diagnose docs build --strict`. No
    existing file is ever overwritten: init stops before writing anything.
    """
    from diagnose.kb.loader import builtin_root
    from diagnose.scaffold import PACK_DIR, example_id, pack_names, project_files

    if directory.exists() and not directory.is_dir():
        fail(f"{directory} is not a folder")
    taken = pack_names(builtin_root())
    name = name or directory.resolve().name or "my-pack"
    files = project_files(directory, name=name, entry_id=example_id(directory, taken))
    for rel in files:
        target = directory / rel
        if target.exists() or target.is_symlink():
            fail(f"{target} already exists: init writes no file over another (choose a new folder)")
        for parent in Path(rel).parents:
            if (directory / parent).exists() and not (directory / parent).is_dir():
                fail(f"{directory / parent} is a file where init needs a folder")
    for rel, text in files.items():
        target = directory / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "x", encoding="utf-8") as out:   # "x": never over a file made meanwhile
                out.write(text)
        except OSError as exc:
            fail(f"{target}: cannot write ({exc.strerror or exc})")
    entry = next(rel for rel in files if rel.startswith(f"{PACK_DIR}/") and not rel.endswith("pack.yaml"))
    where = "" if directory.resolve() == Path.cwd().resolve() else f"  cd {directory}\n"
    click.echo(f"diagnose init: a pack in {directory}: " + ", ".join(files) + "\n\nNext:\n" + where +
               f"  diagnose lint {PACK_DIR}                     # every problem, with file:line\n"
               f"  diagnose selftest --checks {PACK_DIR}        # proves {Path(entry).stem} on its example worlds\n"
               "  diagnose docs build --strict -o site    # the FAQ site of the pack\n"
               "  diagnose new ID                         # another entry (then fill it in)\n"
               f"Edit {entry} and diagnose.yaml (where your sources are) to make them yours.")


@click.command()
@click.argument("entry_id", metavar="ID")
@click.option("--checks", "pack_dir", type=click.Path(path_type=Path), metavar="PATH",
              help="The pack to add it to (default: the current folder's: ./pack.yaml, else ./checks/, else "
                   "the one pack of ./diagnose.yaml's packs:).")
@click.option("--category", help="Its category (default: the pack's first).")
@click.option("--no-builtin", is_flag=True, envvar="DIAGNOSE_NO_BUILTIN",
              help="Do not refuse an id the built-in pack uses (a pack never used with it).")
def new(entry_id: str, pack_dir: Path | None, category: str | None, no_builtin: bool) -> None:
    """Add an entry skeleton ID to a pack: <category>/<ID>.yaml, to fill in.

    ID must be kebab-case, not a subcommand name, and not an id or alias of the packs it is used
    with (this pack, the built-in one, $DIAGNOSE_CHECKS and the profile's packs:). The skeleton
    has every field an entry needs, its lists empty with a commented template under each;
    `diagnose lint PACK` lists what is still missing.
    """
    from diagnose.kb.loader import builtin_root
    from diagnose.scaffold import (
        ID_PATTERN,
        entry_skeleton,
        id_problem,
        pack_categories,
        pack_names,
    )

    problem = id_problem(entry_id)
    if problem:
        fail(problem)
    pack = pack_dir if pack_dir is not None else _current_pack()
    if not pack.is_dir():
        fail(f"--checks {pack}: no such folder")
    categories = pack_categories(pack)
    declared = _declared_categories(pack)
    category = category or (categories[0] if categories else "general")
    if declared and category not in declared:
        fail(f"category '{category}' is not declared in {pack / 'pack.yaml'} `categories` "
             f"(declared: {', '.join(declared)}): add it there first")
    if not ID_PATTERN.match(category):
        fail(f"category '{category}' is not a kebab-case id")
    layers = [pack, *([] if no_builtin else [builtin_root()]), *_other_packs()]
    for root in dict.fromkeys(p.resolve() for p in layers):
        owner = pack_names(root).get(entry_id)
        if owner is not None:
            fail(f"'{entry_id}' is already used by {owner}: choose another id")
    target = pack / category / f"{entry_id}.yaml"
    if target.exists() or target.is_symlink():
        fail(f"{target} already exists")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as out:
            out.write(entry_skeleton(entry_id, category))
    except OSError as exc:
        fail(f"{target}: cannot write ({exc.strerror or exc})")
    click.echo(f"diagnose new: wrote {target}: fill in its causes, checks, solutions and examples;\n"
               f"  diagnose lint {pack}      lists what is still missing")


def _current_pack() -> Path:
    """The pack of the current folder: itself, its checks/, or the one pack its profile names."""
    here = Path(".")
    if (here / "pack.yaml").is_file():
        return here
    if (here / "checks" / "pack.yaml").is_file():
        return here / "checks"
    packs = _profile_packs()
    if len(packs) == 1:
        return packs[0]
    fail("no pack in this folder (no pack.yaml, checks/pack.yaml, or one pack in diagnose.yaml's packs:): "
         "give --checks PATH, or make one with `diagnose init`")
    raise AssertionError  # unreachable: fail() exits


def _declared_categories(pack: Path) -> list[str]:
    import yaml

    try:
        manifest = yaml.safe_load((pack / "pack.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    declared = manifest.get("categories") if isinstance(manifest, dict) else None
    return [str(c) for c in declared] if isinstance(declared, dict) else []


def _profile_packs() -> list[Path]:
    """The ``packs:`` of the profile in use ($DIAGNOSE_PROFILE or ./diagnose.yaml), read leniently."""
    import yaml

    path = Path(os.environ.get("DIAGNOSE_PROFILE") or "diagnose.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    packs = data.get("packs") if isinstance(data, dict) else None
    return [path.parent / str(p) for p in packs if isinstance(p, str)] if isinstance(packs, list) else []


def _other_packs() -> list[Path]:
    """The packs a run would layer with this one: $DIAGNOSE_CHECKS and the profile's."""
    from_env = [Path(p) for p in os.environ.get("DIAGNOSE_CHECKS", "").split(os.pathsep) if p]
    return [*from_env, *_profile_packs()]
