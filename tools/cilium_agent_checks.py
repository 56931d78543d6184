"""List the Cilium agent's start-up refusals from Cilium's own source, per supported line.

    python tools/cilium_agent_checks.py [--check]

The chart renders values the agent then refuses at start (``logging.Fatal`` on "invalid daemon
configuration", a cell that fails to construct) or quietly turns a feature off (a warning). This
script reads, in the Go module source of each supported line's pinned patch
(``github.com/cilium/cilium@v<version>``), the validation functions in ``SCANNED`` and writes
``upstream/cilium_charts/agent-checks.json``:

- ``checks``: every refusal (``fmt.Errorf``, ``errors.New``, ``logging.Fatal``) and warning
  (``.Warn``) message in those functions, with file and function. ``upstream.cilium_agent``
  classifies each message (mirrored by a rule, or why not), and a test fails on a message that is
  not classified: a new upstream check cannot slip in unnoticed.
- ``facts``: constants the mirrored rules use (the Maglev table sizes, the BPF map size limits).

A function of ``SCANNED`` that is missing from a line's source stops the script: a moved check
must be found again, not silently dropped.

The source comes from the Go module cache (``go mod download -json
github.com/cilium/cilium@v<version>``); the program itself never needs it. The proxy refuses
v1.18.12, so 1.18 is read from v1.18.11 (as the chart templates are, tools/cilium_chart_facts.py).

``--check`` writes nothing and exits 1 when the committed file differs from the source.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.cilium_chart_facts import TEMPLATE_SUBSTITUTES, go_module_cache  # noqa: E402
from upstream.cilium import SUPPORTED_LINES  # noqa: E402
from upstream.cilium_schema import FACTS_DIR  # noqa: E402
from tools.lib.generated_file import write_or_check  # noqa: E402

FACTS_FILE = FACTS_DIR / "agent-checks.json"


@dataclass(frozen=True)
class Scan:
    """A validation function: ``Receiver.name`` or ``name``, and where it may live (it moved
    from daemon/cmd to pkg/kpr/initializer in 1.19; the name's first letter changed with it).
    ``alternative``: the function that held the same checks in older lines, read where
    ``function`` does not exist yet."""

    function: str
    files: tuple[str, ...]
    alternative: str | None = None

    @property
    def receiver(self) -> str | None:
        return self.function.split(".")[0] if "." in self.function else None

    @property
    def name(self) -> str:
        return self.function.rsplit(".", 1)[-1]


_OPTION = ("pkg/option/config.go",)
_KPR = ("daemon/cmd/kube_proxy_replacement.go", "pkg/kpr/initializer/kube_proxy_replacement.go")
# The agent's option validation (daemon/cmd/root.go: option.Config.Validate, fatal on error) and
# the constructors/probes of the cells behind the features the program's users turn on.
SCANNED: tuple[Scan, ...] = (
    Scan("DaemonConfig.Validate", _OPTION),
    Scan("DaemonConfig.checkMapSizeLimits", _OPTION),
    Scan("DaemonConfig.checkIPv4NativeRoutingCIDR", _OPTION),
    Scan("DaemonConfig.checkIPv6NativeRoutingCIDR", _OPTION),
    Scan("DaemonConfig.checkIPAMDelegatedPlugin", _OPTION),
    Scan("DaemonConfig.validatePolicyCIDRMatchMode", _OPTION),
    Scan("DaemonConfig.validateContainerIPLocalReservedPorts", _OPTION),
    Scan("ClusterInfo.InitClusterIDMax", ("pkg/clustermesh/types/types.go",)),
    Scan("ClusterInfo.Validate", ("pkg/clustermesh/types/option.go",)),
    Scan("ClusterInfo.validateName", ("pkg/clustermesh/types/option.go",)),
    Scan("ValidateClusterName", ("pkg/clustermesh/types/types.go",)),
    Scan("InitKubeProxyReplacementOptions", _KPR),
    Scan("FinishKubeProxyReplacementInit", _KPR),
    Scan("initEnv", ("daemon/cmd/daemon_main.go",)),
    # 1.19 moved the daemon's configuration checks out of newDaemon (1.18).
    Scan("initAndValidateDaemonConfig", ("daemon/cmd/daemon.go",), alternative="newDaemon"),
    Scan("newConfig", ("pkg/datapath/tunnel/tunnel.go",)),
    Scan("NewConfig", ("pkg/loadbalancer/config.go",)),
    Scan("UserConfig.ToConfig", ("pkg/maglev/maglev.go",)),
    Scan("NewEgressGatewayManager", ("pkg/egressgateway/manager.go",)),
    Scan("manager.probe", ("pkg/datapath/linux/bandwidth/bandwidth.go",)),
)

_FUNC = re.compile(r"^func (?:\(\s*\w*\s*\*?(?P<receiver>\w+)\s*\) )?(?P<name>\w+)\(", re.M)
# A call that refuses (or warns), then its message: the first Go string literal after it, with
# literals joined by `+` read as one.
_CALL = re.compile(r"(?P<call>fmt\.Errorf|errors\.New|logging\.Fatal|\.Warn)\(")
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|`([^`]*)`')
_JOINED = re.compile(r'\s*\+\s*(?:"((?:[^"\\\n]|\\.)*)"|`([^`]*)`)')


class SourceMissing(LookupError):
    """No copy of this Cilium version's source on this machine."""


def source_dir(version: str) -> Path:
    """The module source standing for ``version`` (its own, else the substitute's)."""
    tried = []
    for candidate in (version, TEMPLATE_SUBSTITUTES.get(version)):
        if candidate is None:
            continue
        path = go_module_cache() / "github.com" / "cilium" / f"cilium@v{candidate}"
        if (path / "pkg" / "option" / "config.go").is_file():
            return path
        tried.append(str(path))
    raise SourceMissing(f"no Cilium source for {version} (looked in {', '.join(tried)}; run: go "
                        f"mod download -json github.com/cilium/cilium@v{version})")


def function_body(text: str, scan: Scan) -> str | None:
    """The body of the function (gofmt'd: it ends at the first ``}`` in column 0). The name as
    written wins; else one that differs only in its first letter's case (exported when it moved
    to another package)."""
    candidates = [m for m in _FUNC.finditer(text)
                  if m.group("name").lower() == scan.name.lower()
                  and (scan.receiver is None or m.group("receiver") == scan.receiver)]
    candidates.sort(key=lambda m: m.group("name") != scan.name)
    if not candidates:
        return None
    match = candidates[0]
    end = text.find("\n}\n", match.end())
    return text[match.start():end if end >= 0 else len(text)]


def _go_string(groups: tuple[str | None, str | None]) -> str:
    quoted, raw = groups
    return json.loads(f'"{quoted}"') if quoted is not None else (raw or "")


def _arguments(body: str, start: int) -> str:
    """The call's arguments after its message, up to the closing parenthesis, on one line: they
    name the options a message's ``%s`` stand for, which tells apart checks of equal text."""
    depth, position = 1, start
    while position < len(body) and depth:
        char = body[position]
        if char == '"':
            position = _LITERAL.match(body, position).end() if _LITERAL.match(body, position) \
                else position + 1
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        position += 1
    text = " ".join(body[start:position - 1].split())
    return text.removeprefix(",").strip().rstrip(",").strip()


def messages(body: str) -> list[tuple[str, str, str]]:
    """(kind, message, arguments) of every refusal and warning in a function body, in order."""
    found = []
    for call in _CALL.finditer(body):
        literal = _LITERAL.search(body, call.end(), call.end() + 240)
        if literal is None:
            continue  # a wrapped error variable: its own message is listed where it is made
        text = _go_string(literal.groups())
        position = literal.end()
        while (joined := _JOINED.match(body, position)) is not None:
            text += _go_string(joined.groups())
            position = joined.end()
        kind = "warn" if call.group("call") == ".Warn" else "refuse"
        found.append((kind, text, _arguments(body, position)))
    return found


_UINT_LIST = re.compile(r"maglevSupportedTableSizes\s*=\s*\[\]uint\{([^}]*)\}")
_SHIFT_CONSTANT = r"\b{name}\s*=\s*(\d+)\s*<<\s*(\d+)"


def source_facts(source: Path) -> dict[str, Any]:
    maglev = _UINT_LIST.search((source / "pkg/maglev/maglev.go").read_text())
    option = (source / "pkg/option/config.go").read_text()
    limits = {}
    for name in ("LimitTableMin", "LimitTableMax", "AuthMapEntriesMin", "AuthMapEntriesMax",
                 "FragmentsMapMin", "FragmentsMapMax", "CTMapEntriesGlobalTCPDefault",
                 "CTMapEntriesGlobalAnyDefault"):
        constant = re.search(_SHIFT_CONSTANT.format(name=name), option)
        if constant is None:
            raise ValueError(f"{source}: constant {name} not found in pkg/option/config.go")
        limits[name] = int(constant.group(1)) << int(constant.group(2))
    # NATMapEntriesGlobalDefault: two thirds of the CT defaults' sum (the agent resizes a NAT
    # size left at this default instead of refusing it).
    if not re.search(r"NATMapEntriesGlobalDefault\s*=\s*int\(\(CTMapEntriesGlobalTCPDefault \+ "
                     r"CTMapEntriesGlobalAnyDefault\) \* 2 / 3\)", option):
        raise ValueError(f"{source}: NATMapEntriesGlobalDefault is no longer 2/3 of the CT defaults")
    limits["NATMapEntriesGlobalDefault"] = (limits["CTMapEntriesGlobalTCPDefault"] +
                                            limits["CTMapEntriesGlobalAnyDefault"]) * 2 // 3
    if maglev is None:
        raise ValueError(f"{source}: maglevSupportedTableSizes not found in pkg/maglev/maglev.go")
    return {"maglevTableSizes": [int(n) for n in maglev.group(1).replace(" ", "").split(",") if n],
            "mapSizeLimits": limits}


def line_checks(version: str) -> dict[str, Any]:
    source = source_dir(version)
    checks = []
    for wanted in SCANNED:
        body = None
        scan = wanted
        for scan in (wanted, Scan(wanted.alternative, wanted.files)) if wanted.alternative \
                else (wanted,):
            for relative in scan.files:
                path = source / relative
                if path.is_file() and (body := function_body(path.read_text(), scan)) is not None:
                    break
            if body is not None:
                break
        if body is None:
            raise ValueError(f"{source}: {scan.function} not found in {', '.join(scan.files)}; "
                             "find where the check moved and update SCANNED")
        for kind, message, arguments in messages(body):
            checks.append({"file": relative, "function": scan.function, "kind": kind,
                           "message": message, "arguments": arguments})
    return {"source": source.name.split("@v", 1)[1], "checks": checks,
            "facts": source_facts(source)}


def derive() -> dict[str, Any]:
    return {minor: line_checks(line.newest_verified_patch)
            for minor, line in SUPPORTED_LINES.items()}


def render(facts: dict[str, Any]) -> str:
    return json.dumps({"_comment": "Written by tools/cilium_agent_checks.py; do not edit.",
                       "lines": facts}, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    try:
        text = render(derive())
    except SourceMissing as missing:
        print(missing, file=sys.stderr)
        return 1
    return write_or_check(FACTS_FILE, text, check=args.check, source="the Cilium source",
                          generator="tools/cilium_agent_checks.py")


if __name__ == "__main__":
    sys.exit(main())
