"""Entry point the Pulumi CLI runs for ``--policy-pack policies``.

Constructing ``PolicyPack`` starts the analyzer's gRPC server and blocks, so nothing else lives
here: the rules are importable (and tested) from ``policies.rules``.
"""

import sys
from pathlib import Path

# The pack shares version/compatibility facts with the program (`upstream/`), one copy only.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.pack import PACK_NAME, all_policies  # noqa: E402

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=all_policies())
