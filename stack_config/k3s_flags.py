"""Is a ``serverConfig``/``agentConfig`` key a flag the node's k3s command reads?

k3s turns config.yaml keys into command-line flags and only logs a key its command does not
define, so a misspelt key, or a server flag given to agents, silently does nothing. The flags of
each command come from k3s's own source (``upstream/k3s_flags.json``, tools/k3s_flags.py).
"""

from __future__ import annotations

import difflib

from stack_config.errors import KeyedValueError
from upstream import k3s as upstream_k3s

# The block of the stack file, the k3s command its keys reach, and the other block.
_COMMAND = {"serverConfig": "server", "agentConfig": "agent"}
_OTHER_BLOCK = {"serverConfig": "agentConfig", "agentConfig": "serverConfig"}


def flags_of(block: str) -> frozenset[str]:
    """The flags the k3s command behind ``block`` defines."""
    return upstream_k3s.SERVER_FLAGS if block == "serverConfig" else upstream_k3s.AGENT_FLAGS


def _table_release() -> str:
    return str(upstream_k3s.FLAG_TABLE_SOURCE.get("release", "unknown")).split(":")[0]


def unknown_flag_problem(block: str, written: str, flag: str, named: str,
                         accepted: frozenset[str]) -> KeyedValueError | None:
    """Refuse ``written`` (resolved to ``flag``) unless the command of ``block`` reads it.

    ``accepted`` are flags the user declared newer than the table (``k3s.acceptUnknownFlags``).
    """
    if flag in flags_of(block) or flag in accepted:
        return None
    path = f"{block}.{written}"
    command = _COMMAND[block]
    other = _OTHER_BLOCK[block]
    if flag in flags_of(other):
        return KeyedValueError(
            path, f"{named} is a k3s {_COMMAND[other]} flag; the {command} command does not "
            "define it and k3s ignores config keys it does not know, so it would do nothing.",
            f"move it to k3s.{other}.")
    known = sorted(flags_of(block))
    close = difflib.get_close_matches(flag.lstrip("-"), known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return KeyedValueError(
        path, f"{named} is not a flag of `k3s {command}` (k3s ignores config keys it does not "
        "know, so it would do nothing).",
        f"{hint}Check the name against docs.k3s.io/cli/{command}; a flag added to k3s after "
        f"the project's flag table ({_table_release()} source, upstream/k3s_flags.json) can be "
        "accepted by listing it in k3s.acceptUnknownFlags.")
