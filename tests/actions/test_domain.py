"""The domain directory: one file per concern, each name declared once.

Rasa merges domain/*.yml and only warns about a name declared twice: the file it
happens to read first (directory order) wins, so one of two response texts would
silently vanish. Each actions/<concern>.py declares its actions in
domain/<concern>.yml, so the file to edit is the one named like the module.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "domain"
LISTS = ("intents", "entities", "actions")   # lists of names, or of {name: properties}
MAPS = ("slots", "forms", "responses")       # mappings keyed by name


def declared_names(path: Path) -> Set[Tuple[str, str]]:
    """(kind, name) for everything the domain file at `path` declares."""
    content = yaml.safe_load(path.read_text()) or {}
    names = {(kind, name) for kind in MAPS for name in content.get(kind) or {}}
    for kind in LISTS:
        for item in content.get(kind) or []:
            names |= {(kind, n) for n in (item if isinstance(item, dict) else [item])}
    if "session_config" in content:
        names.add(("session_config", "session_config"))
    return names


@pytest.fixture(scope="module")
def files() -> Dict[str, Set[Tuple[str, str]]]:
    """Domain file stem (e.g. "address") -> what it declares."""
    found = {p.stem: declared_names(p) for p in sorted(DOMAIN_DIR.glob("*.yml"))}
    assert found, f"no domain files in {DOMAIN_DIR}"
    return found


@pytest.fixture(scope="module")
def custom_actions() -> Dict[str, str]:
    """Action name -> the actions/ module (e.g. "actions.address") that implements it,
    found the way the action server finds them."""
    executor = ActionExecutor()
    executor.register_package("actions")
    return {name: run.__self__.__class__.__module__ for name, run in executor.actions.items()}


def test_every_name_is_declared_in_exactly_one_file(files):
    where: Dict[Tuple[str, str], List[str]] = defaultdict(list)
    for stem, names in files.items():
        for name in names:
            where[name].append(stem)
    twice = {f"{kind} {name}": stems for (kind, name), stems in where.items() if len(stems) > 1}
    assert not twice, f"declared in more than one domain file: {twice}"
    assert ("session_config", "session_config") in where


def test_the_directory_holds_only_top_level_yml_files():
    # Rasa also reads *.yaml and subdirectories, but `make` retrains only on domain/*.yml.
    others = [p.name for p in DOMAIN_DIR.iterdir() if not (p.is_file() and p.suffix == ".yml")]
    assert not others, f"Makefile's RASA_SOURCES would miss edits to {others}"


def test_each_action_is_declared_in_the_file_of_its_module(files, custom_actions):
    misplaced = {}
    for name, module in custom_actions.items():
        stem = module.rsplit(".", 1)[-1]
        if ("actions", name) not in files.get(stem, set()):
            misplaced[name] = f"implemented in {module}, expected in domain/{stem}.yml"
    assert not misplaced, misplaced


def test_every_declared_action_has_an_implementation(files, custom_actions):
    declared = {name for names in files.values() for kind, name in names if kind == "actions"}
    assert declared - set(custom_actions) == set(), "declared in the domain but not in actions/"
