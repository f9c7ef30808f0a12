"""The README stays true: every setting and command is documented and has help."""

from __future__ import annotations

import pytest
from conftest import PROJECT_ROOT

from webapp.cli import commands
from webapp.config import DEFAULTS

README = (PROJECT_ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    head = README[:1500]
    assert "make run" in head and "make test" in head


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_setting_is_documented(key):
    assert f"`MATCHLOOP_{key}`" in README


@pytest.mark.parametrize("command", commands(), ids=lambda c: c.name)
def test_every_command_has_help_and_is_documented(runner, command):
    result = runner.invoke(args=[command.name, "--help"])
    assert result.exit_code == 0, result.output
    assert command.help and command.help.strip()
    assert f"flask --app wsgi {command.name}" in README
