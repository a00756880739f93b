"""diagnose plugins for disks: ``logsize`` and ``dirsize`` checks, and a ``directories`` source type."""
