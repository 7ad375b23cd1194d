"""The two ways in stay in step: pyproject.toml (pip, uv) and environment.yml (conda)."""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

import yaml

from tests.helpers.servers import REPO


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].lower()


def test_environment_yml_lists_every_dependency_with_the_same_version_spec() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(spec): spec.replace(" ", "") for spec in project["dependencies"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {
        _name(spec): spec.replace(" ", "") for spec in conda + pip if not spec.startswith("-e")
    }
    assert {name: listed.get(name) for name in wanted} == wanted
    assert "-e ." in pip
    assert env["channels"] == ["conda-forge"]


def test_python_floor_matches() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    floor = project["requires-python"].removeprefix(">=")
    assert f"python>={floor}" in env["dependencies"]


def test_the_project_root_is_the_repository_where_make_reset_clears_the_state() -> None:
    from order_management.local import config

    assert config.PROJECT_ROOT == REPO
    assert (config.PROJECT_ROOT / "Makefile").is_file()
