"""Reading logs fast and with bounded memory, for ``kind: log`` checks.

* :mod:`.files` - which files (or which command) a :class:`~diagnose.sources.LogSpec` means,
  oldest rotated sibling first, and their content as a stream of binary chunks;
* :mod:`.timestamps` - the time of a log line, whatever its prefix and format;
* :mod:`.pattern` - a pattern compiled as bytes or text, and what a line match means;
* :mod:`.scan` - the Python engine: each regex run over whole chunks, several in one pass;
* :mod:`.longlines` - lines longer than the engine carries (a 2 GB line), searched in pieces;
* :mod:`.literals` - the text every match must contain, to look for instead of the regex;
* :mod:`.ripgrep` - the fast engine for whole files: ripgrep finds candidates, Python decides;
* :mod:`.window` - where a ``since`` window starts in a file, by binary search;
* :mod:`.engine` - one log, many patterns: picks the way to read each file;
* :mod:`.passes` - one pass per log per run, shared by all the checks that read it.

Kept apart from the check kind so the matcher can be made faster (or replaced) on its own;
``bench/log_speed.py`` measures it against ripgrep, GNU grep and ``zcat | grep``.
"""
