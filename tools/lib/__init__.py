"""The library behind the commands in ``tools/``: the offline engine and what it feeds.

The commands users run (``tools/plan.py``, ``tools/blast_radius.py``) stay in ``tools/``; they
parse arguments, call into this package and set the exit code.
"""
