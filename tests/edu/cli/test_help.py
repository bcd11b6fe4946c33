"""Is every command's --help readable at any terminal width?"""

import re

import pytest

from edu.cli.main import SUBCOMMANDS, build_parser, main


@pytest.mark.parametrize("name", SUBCOMMANDS)
@pytest.mark.parametrize("columns", ["40", "200"])
def test_help_never_splits_a_word_at_its_hyphen(name, columns, monkeypatch, capsys):
    """Do options (--seeded-rows) and row ids (iterative-70) stay whole when the help
    wraps, so that every option the parser has is spelled out in full?"""
    monkeypatch.setenv("COLUMNS", columns)
    with pytest.raises(SystemExit):
        main([name, "--help"])
    text = capsys.readouterr().out
    assert not re.search(r"\w-\n", text), text
    subparsers = next(a for a in build_parser()._actions if a.choices and name in a.choices)
    options = {
        option
        for action in subparsers.choices[name]._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    printed = set(re.findall(r"(?<![\w-])--[a-z](?:[a-z-]*[a-z])?", text))
    assert options <= printed, options - printed
