"""diagnose: symptom-driven diagnostics from a YAML knowledge base."""

__version__ = "0.1.0"
