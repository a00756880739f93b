"""Example-log placeholders produce timestamps the log scanner reads back to the same moment."""

from datetime import datetime, timedelta, timezone

import pytest

from diagnose.logscan.timestamps import TimestampParser
from diagnose.world.timestamps import fill

NOW = datetime(2026, 11, 21, 8, 15, 2, 123000, tzinfo=timezone.utc)


@pytest.mark.parametrize("placeholder, delta", [
    ("{now}", timedelta()), ("{now-2h}", timedelta(hours=-2)), ("{now-90s:iso}", timedelta(seconds=-90)),
    ("{now+5m:pg}", timedelta(minutes=5)), ("{now-1d:log}", timedelta(days=-1)),
])
def test_placeholder_round_trips_through_the_log_parser(placeholder, delta):
    line = fill(f"{placeholder} INFO execution.worker: position_sync: checking BTCUSDT...", NOW)
    assert "{now" not in line
    parsed = TimestampParser(None, NOW).parse(line.encode()[:160])
    assert parsed is not None
    assert abs(parsed - (NOW + delta)) < timedelta(seconds=1)
