"""Entry point the Pulumi CLI runs for ``--policy-pack policies``.

Constructing ``PolicyPack`` starts the analyzer's gRPC server and blocks, so nothing else lives
here: the rules are importable (and tested) from ``policies.rules``.
"""

import sys
from pathlib import Path

# The pack shares version/compatibility facts with the program (`upstream/`), one copy only.
# Two layouts hold the `policies` package and `upstream/` side by side: the repository (this file
# in policies/, both beside it in the parent folder) and the published pack that
# tools/policy_pack.py assembles (this file at the pack's root, both inside it). Use whichever
# this file is in; nothing outside the pack's folder is read when it is published alone.
_HERE = Path(__file__).resolve().parent
_ROOT = _HERE if (_HERE / "upstream").is_dir() else _HERE.parent
sys.path.insert(0, str(_ROOT))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.pack import PACK_NAME, all_policies  # noqa: E402

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=all_policies())
