"""The policy pack as `pulumi policy publish` ships it: its own folder and nothing else.

``tools/policy_pack.py`` assembles the folder (the pack's files, the ``policies`` package and a
copy of ``upstream/``). Here it is copied away from the repository and started the way the Pulumi
CLI starts an analyzer: its ``__main__.py`` run by Python, which prints the port of the analyzer's
gRPC server. Isolated mode (``-I``) keeps the repository and PYTHONPATH off ``sys.path``. Then the
test speaks the analyzer protocol to it (GetAnalyzerInfo, Analyze, AnalyzeStack) with the bad
stacks' plans and compares the diagnostics with the offline gate's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.helpers import PROJECT_DIR
from tools.lib.engine import Plan, RecordedResource, run_program
from tools.lib.policy_gate import evaluate
from tools.policy_pack import POLICIES_DIR, assemble
from tools.lib.stack_files import load_stack_config
from policies.pack import PACK_NAME, all_policies

BAD_STACKS = sorted((Path(__file__).resolve().parent / "bad_stacks").glob("*.yaml"))
LEVELS = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory",
          analyzer_pb2.DISABLED: "disabled"}


class Analyzer:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)


def start(pack: Path) -> tuple[subprocess.Popen[str], str]:
    # Unbuffered (-u) as the language host runs it: the port line must reach the CLI at once.
    process = subprocess.Popen([sys.executable, "-u", "-I", str(pack / "__main__.py")], cwd=pack,
                               env={"PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The assembled pack, moved to a folder with no repository around it."""
    return assemble(tmp_path_factory.mktemp("publish") / "k3s-hcloud-policies")


@pytest.fixture(scope="module")
def analyzer(published: Path) -> Iterator[Analyzer]:
    process, first_line = start(published)
    try:
        assert first_line.isdigit(), (
            f"the published pack did not start its analyzer: {first_line!r}\n"
            f"{process.stderr.read() if process.poll() is not None else ''}")  # type: ignore[union-attr]
        analyzer = Analyzer(process, int(first_line))
        yield analyzer
        analyzer.channel.close()
    finally:
        process.kill()
        process.wait(timeout=30)


def test_the_published_folder_holds_no_link_outside_itself(published: Path) -> None:
    assert (published / "upstream" / "cilium.py").is_file()
    assert not any(p.is_symlink() for p in published.rglob("*"))


def test_the_repository_policies_folder_alone_cannot_start(tmp_path: Path) -> None:
    """Why the pack is assembled: published as it is, the rules miss their shared facts."""
    alone = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, alone, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    process, first_line = start(alone)
    process.wait(timeout=120)
    assert not first_line.isdigit()
    assert process.returncode != 0
    assert "ModuleNotFoundError" in (process.stderr.read() if process.stderr else "")


def test_published_pack_serves_every_policy(analyzer: Analyzer) -> None:
    info = analyzer.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
    assert info.name == PACK_NAME
    assert sorted(p.name for p in info.policies) == sorted(p.name for p in all_policies())


def _struct(value: dict[str, object]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _analyzer_resource(resource: RecordedResource) -> analyzer_pb2.AnalyzerResource:
    options = resource.options
    return analyzer_pb2.AnalyzerResource(
        type=resource.type, properties=_struct(resource.plain_inputs()), urn=resource.urn,
        name=resource.name, parent=resource.parent or "",
        dependencies=resource.dependencies,
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
            for key, urns in resource.property_dependencies.items()},
        options=analyzer_pb2.AnalyzerResourceOptions(
            protect=options["protect"], ignoreChanges=options["ignoreChanges"],
            deleteBeforeReplace=options["deleteBeforeReplace"],
            additionalSecretOutputs=options["additionalSecretOutputs"]))


def root_stack_urn(plan: Plan) -> str:
    return f"urn:pulumi:{plan.stack}::{plan.project}::pulumi:pulumi:Stack::{plan.project}-{plan.stack}"


def real_diagnostics(analyzer: Analyzer, plan: Plan) -> set[tuple[str, str, str, str]]:
    """The violations as the CLI reports them: the engine attributes a resource policy's
    violation to the analyzed resource, and a stack policy's to the URN it names when that is in
    the stack, else to the root stack (pkg/resource/deploy: analyze_snapshot.go
    ``resolveStackPolicyViolationURN``)."""
    resources = [_analyzer_resource(r) for r in plan.resources]
    in_stack = {r.urn for r in resources}
    found = set()
    response = analyzer.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources),
                                          timeout=120)
    for d in response.diagnostics:
        urn = d.urn if d.urn in in_stack else root_stack_urn(plan)
        found.add((d.policyName, LEVELS[d.enforcementLevel], d.message, urn))
    for resource in resources:
        response = analyzer.stub.Analyze(
            analyzer_pb2.AnalyzeRequest(type=resource.type, properties=resource.properties,
                                        urn=resource.urn, name=resource.name,
                                        options=resource.options), timeout=120)
        found |= {(d.policyName, LEVELS[d.enforcementLevel], d.message, resource.urn)
                  for d in response.diagnostics}
    return found


@pytest.mark.parametrize("stack_file", BAD_STACKS, ids=[p.stem for p in BAD_STACKS])
def test_published_pack_refuses_bad_stacks_as_the_offline_gate_does(
        analyzer: Analyzer, stack_file: Path) -> None:
    plan = run_program(PROJECT_DIR, load_stack_config(PROJECT_DIR, stack_file, None))
    # Two normalisations: the analyzer reports "<policy description>\n<message>" (pulumi_policy
    # policy.py, report_violation) where the offline gate reports the message alone, and the gate
    # leaves a stack-wide violation without URN where the CLI names the root stack.
    descriptions = {p.name: p.description for p in all_policies()}
    offline = {(v.policy, v.enforcement_level,
                f"{descriptions[v.policy]}\n{v.message}" if v.message else descriptions[v.policy],
                v.urn or root_stack_urn(plan))
               for v in evaluate(plan) if v.policy in descriptions}
    real = real_diagnostics(analyzer, plan)
    expected_policy = stack_file.stem.split("--")[0]
    assert any(d[0] == expected_policy and d[1] == "mandatory" for d in real), sorted(real)
    assert real == offline, "\n".join(
        ["the published pack only:", *map(repr, sorted(real - offline)),
         "the offline gate only:", *map(repr, sorted(offline - real))])
