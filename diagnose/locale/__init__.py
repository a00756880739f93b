"""The tool's own sentences in other languages: one module per language, ``MESSAGES`` mapping each
English sentence (as written in the code, with its ``{fields}``) to its translation. A test holds every
sentence the code passes to :func:`diagnose.i18n.t` to having one."""
