"""Env files read as docker compose reads them, and every value a broken file still holds."""

from __future__ import annotations

import pytest

from diagnose.envfile import parse

COMPOSE = r'''# a comment line
export EXPORTED=1
SPACED = two words # a comment after a space
HASH=a#b
DOUBLE="line1\nline2 \"quoted\" \$HOME ${EXPORTED} \t|"
SINGLE='raw \n ${EXPORTED} \' kept'
YAML_STYLE: colon value
EXPANDED=${EXPORTED}-$SPACED-${MISSING}-${MISSING:-fallback}
DOLLARS=$$literal
BRACKET[0]=x
EMPTY=
PEM="-----BEGIN PRIVATE KEY-----
MIIEv
-----END PRIVATE KEY-----"
AFTER_QUOTE="v" # trailing comment
'''


def test_compose_rules():
    values = parse(COMPOSE).values
    assert values == {
        "EXPORTED": "1", "SPACED": "two words", "HASH": "a#b",
        "DOUBLE": 'line1\nline2 "quoted" $HOME 1 \t|', "SINGLE": "raw \\n ${EXPORTED} ' kept",
        "YAML_STYLE": "colon value", "EXPANDED": "1-two words-${MISSING}-fallback", "DOLLARS": "$literal",
        "BRACKET[0]": "x", "EMPTY": "", "PEM": "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----",
        "AFTER_QUOTE": "v"}
    assert parse(COMPOSE).problems == []


@pytest.mark.parametrize("line, problem", [
    ("NO EQUALS SIGN HERE", "not a KEY=value line: 'NO EQUALS SIGN HERE' (a key cannot contain a space)"),
    ("BAD$KEY=1", "not a KEY=value line: 'BAD$KEY=1' (unexpected '$' in the key)"),
    ('OPEN="never closed', 'unterminated " quote in OPEN'),
])
def test_a_broken_line_is_a_problem_with_its_line_and_the_rest_is_still_read(line, problem):
    parsed = parse(f"A=1\n\n{line}\nTOKEN=after-the-problem\n")
    assert [(p.line, str(p)) for p in parsed.problems] == [(3, problem)]
    assert parsed.values["A"] == "1"
    if not line.startswith("OPEN"):
        assert parsed.values["TOKEN"] == "after-the-problem"
    else:  # what the unterminated quote swallowed is kept, for the masker
        assert "TOKEN=after-the-problem" in parsed.unterminated["OPEN"]
