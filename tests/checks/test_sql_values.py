"""How database values reach evidence and messages."""

from datetime import timedelta

import pytest

from diagnose.checks.sql_text import human_interval, jsonable


@pytest.mark.parametrize("delta, text", [
    (timedelta(days=3), "3 days"),
    (timedelta(days=1, hours=2, minutes=5), "1 day 2 h 5 min"),
    (timedelta(minutes=12, seconds=3), "12 min 3 s"),
    (timedelta(milliseconds=250), "250 ms"),
    (timedelta(hours=-2), "-2 h"),
])
def test_intervals_read_as_people_write_them(delta, text):
    assert human_interval(delta) == text
    assert jsonable(delta) == text
