"""Worlds: the broken and healthy environments an entry's ``examples`` describe, built for real.

``diagnose demo`` builds one to show the tool at work; ``diagnose selftest`` builds every one to
prove that each entry's checks catch its faults and stay quiet on a healthy system.
"""
