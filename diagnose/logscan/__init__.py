"""Reading logs fast and with bounded memory, for ``kind: log`` checks.

* :mod:`.files` - which files (or which command) a :class:`~diagnose.sources.LogSpec` means,
  oldest rotated sibling first, and their content as a stream of binary chunks;
* :mod:`.timestamps` - the time of a log line, whatever its prefix and format;
* :mod:`.scan` - the matcher: a regex run over whole chunks, counting matching lines.

Kept apart from the check kind so the matcher can be made faster (or replaced) on its own.
"""
