"""The offline engine: run the real ``__main__.py`` under Pulumi's mock runtime and record it.

A :class:`RecordingMonitor` sees every ``RegisterResourceRequest`` the program sends (type, name,
parent, inputs with their secret markers, dependencies and resource options), which is what
``pulumi preview`` would hand to the engine and to a policy pack. Nothing is deployed.
"""

from __future__ import annotations

import gc
import logging
import os
import runpy
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
from pulumi.runtime.proto import resource_pb2

from tools.lib.mock_provider import OfflineProviders
from tools.lib.stack_files import StackConfig

SECRET_MASK = "[secret]"
# How the SDK marks a secret on the wire (pulumi/runtime/rpc.py).
_SIGNATURE = rpc._special_sig_key  # noqa: SLF001 (the SDK exports no public name for these)
_SECRET_SIGNATURE = rpc._special_secret_sig  # noqa: SLF001
STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    """Inputs as sent to the engine; secret values are still wrapped (see ``is_secret``)."""
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    provider: str | None
    options: dict[str, Any]

    @property
    def provider_urn(self) -> str | None:
        """The explicit provider's URN (the reference is ``<urn>::<id>``)."""
        return self.provider.rsplit("::", 1)[0] if self.provider else None

    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with every secret value unwrapped (for tests that look for leaks)."""
        return unwrap_secrets(self.inputs)

    def masked_inputs(self) -> dict[str, Any]:
        return mask_secrets(self.inputs)

    def secret_input_paths(self) -> list[str]:
        return sorted(secret_paths(self.inputs))


@dataclass
class RecordedOutput:
    value: Any
    secret: bool


@dataclass
class Plan:
    stack: str
    project: str
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, RecordedOutput] = field(default_factory=dict)
    logs: list[tuple[str, str]] = field(default_factory=list)
    """(severity, message) of everything the program logged (``pulumi.log.warn``...)."""

    def by_type(self, resource_type: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == resource_type]

    def get(self, resource_type: str, name: str) -> RecordedResource:
        for resource in self.resources:
            if resource.type == resource_type and resource.name == name:
                return resource
        raise KeyError(f"no {resource_type} named {name} in the plan")

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def warnings(self) -> list[str]:
        return [message for severity, message in self.logs if severity in ("warning", "error")]


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def unwrap_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def mask_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def secret_paths(value: Any, path: str = "") -> Iterator[str]:
    if rpc.is_rpc_secret(value):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from secret_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_paths(item, f"{path}[{index}]")


class DuplicateUrnError(Exception):
    """Two registrations with one URN: the real engine refuses the second one, and so do we."""


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every registration request, options included.

    It deserialises each request once (the SDK's ``MockMonitor`` would decode the same inputs a
    second time for the mocks) and refuses a URN registered twice, as the engine's step generator
    does ("Duplicate resource URN '<urn>'; try giving it a unique name") — the SDK's mock monitor
    would silently overwrite the first registration.
    """

    def __init__(self, mocks: OfflineProviders) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine qualifies a child's type with its parent's, except under the root stack:
        # top-level resources are ``urn:pulumi:<stack>::<project>::<type>::<name>`` in a real
        # preview, where the SDK's mock monitor would write ``pulumi:pulumi:Stack$<type>``.
        if parent and parent.split("::")[2] == STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        if urn in self.resources:
            raise DuplicateUrnError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        sdk_mocks._ensure_event_loop()  # deserialising resource references needs a loop
        # Secrets stay where they are on the wire (nested), not promoted to the whole value.
        inputs = deserialize_keeping_nested_secrets(request.object)
        self.recorded.append(_record(request, urn, inputs))
        resource_id, state = self.mocks.new_resource(MockResourceArgs(
            typ=request.type, name=request.name, inputs=_without_unknowns(inputs),
            provider=request.provider, resource_id=request.importId,
            custom=request.custom or False,
            transforms=sdk_mocks._resolve_callbacks(request.transforms)))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        body = sdk_mocks._sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=body)


def _without_unknowns(value: Any) -> Any:
    """What the SDK's mock monitor hands the mocks: unknown inputs as ``None``."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, dict):
        return {k: _without_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_unknowns(v) for v in value]
    return value


def _record(request, urn: str, inputs: dict[str, Any]) -> RecordedResource:
    timeouts = request.customTimeouts
    options = {
        "protect": bool(request.protect),
        "ignoreChanges": list(request.ignoreChanges),
        "replaceOnChanges": list(request.replaceOnChanges),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "additionalSecretOutputs": list(request.additionalSecretOutputs),
        "retainOnDelete": bool(request.retainOnDelete),
        "deletedWith": request.deletedWith or None,
        "customTimeouts": {k: getattr(timeouts, k) for k in ("create", "update", "delete")
                           if getattr(timeouts, k)},
        "version": request.version or None,
    }
    return RecordedResource(
        urn=urn,
        type=request.type,
        name=request.name,
        parent=_parent(request.parent),
        custom=bool(request.custom),
        inputs=inputs,
        # Sorted: the SDK collects dependencies in sets, so their order varies between runs.
        dependencies=_registered(request.dependencies),
        property_dependencies={k: _registered(v.urns)
                               for k, v in request.propertyDependencies.items()},
        provider=request.provider or None,
        options=options,
    )


def deserialize_keeping_nested_secrets(value: Any) -> Any:
    """Like ``rpc.deserialize_properties``, but a secret inside a map or list stays where it is.

    The SDK's deserializer marks a whole map or list secret when one element is (it was written
    for outputs, where only top-level properties carry a secret flag); the request on the wire,
    and the engine's state, keep the secret nested. A values map with one secret seed must show
    every other value.
    """
    if isinstance(value, struct_pb2.Struct):
        if _SIGNATURE in value.fields:
            if value[_SIGNATURE] == _SECRET_SIGNATURE:
                return rpc.wrap_rpc_secret(deserialize_keeping_nested_secrets(value["value"]))
            return rpc.deserialize_property(value, keep_unknowns=True)
        items = ((key, deserialize_keeping_nested_secrets(item)) for key, item in value.items())
        return {key: item for key, item in items if item is not None}
    if isinstance(value, struct_pb2.ListValue):
        return [deserialize_keeping_nested_secrets(item) for item in value]
    return rpc.deserialize_property(value, keep_unknowns=True)


def _registered(urns) -> list[str]:
    """Sorted dependencies, without stack references: those are read (``ReadResource``), not
    registered, their outputs are known during a preview, and they hold no provider state."""
    return sorted(urn for urn in urns if f"::{STACK_REFERENCE_TYPE}::" not in urn
                  and not urn.split("::")[2].endswith(f"${STACK_REFERENCE_TYPE}"))


def _parent(parent_urn: str) -> str | None:
    # Top-level resources are parented to the root stack; the plan shows them as roots.
    if not parent_urn or parent_urn.split("::")[2] == STACK_TYPE:
        return None
    return parent_urn


class _RefusalEchoFilter(logging.Filter):
    """Drops asyncio's "Future exception was never retrieved" for a config refusal raised in an
    apply (the destructive-edit check): every output that waited on it holds the same
    exception, already reported once, as the error it is, by the caller."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, pulumi.RunError)


logging.getLogger("asyncio").addFilter(_RefusalEchoFilter())


class _LogRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.entries: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append((record.levelname.lower(), record.getMessage()))


@contextmanager
def _program_environment(project_dir: Path) -> Iterator[None]:
    """cwd and import path as the Pulumi language host sets them for ``__main__.py``."""
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(project_dir)
    sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


@contextmanager
def _collector_restored() -> Iterator[None]:
    """The program tunes the garbage collector for its own process; the offline engine runs it
    inside a longer-lived one (tests, tools), which gets its own settings back afterwards."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


ORGANIZATION = "organization"
"""The organization a DIY (``file://``) backend reports; the program names its own stack with it."""


def run_program(project_dir: Path, config: StackConfig,
                previous_outputs: dict[str, Any] | None = None,
                stack_references: dict[str, dict[str, Any]] | None = None) -> Plan:
    """Run ``project_dir/__main__.py`` for one stack config and return what it registered.

    ``previous_outputs``: the stack's outputs from its last update (a cluster that exists), as
    the program reads them back through a StackReference; None for a stack never deployed.
    ``stack_references``: other stacks' outputs by ``organization/project/stack`` (a Cluster
    Mesh peer); any other stack reads as never deployed.
    Exceptions from the program (a ``ConfigError`` for bad input) propagate to the caller.
    """
    project_dir = project_dir.resolve()
    providers = OfflineProviders(previous_outputs, stack_references,
                                 own_stack=f"{ORGANIZATION}/{config.project}/{config.stack}")
    monitor = RecordingMonitor(providers)
    log_recorder = _LogRecorder()
    logger = logging.getLogger(f"k3s-hcloud.offline.{config.stack}")
    logger.handlers[:] = [log_recorder]
    logger.propagate = False

    settings.ROOT.set(None)  # a fresh root stack for every run
    pulumi.runtime.set_mocks(providers, project=config.project, stack=config.stack,
                             preview=False, logger=logger, monitor=monitor,
                             organization=ORGANIZATION)
    pulumi.runtime.set_all_config(dict(config.values), sorted(config.secret_keys))

    outputs: dict[str, RecordedOutput] = {}

    @pulumi.runtime.test
    def run() -> Any:
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")
        root = settings.get_root_resource()
        exported = dict(root.outputs) if root is not None else {}
        return _collect_outputs(exported, outputs)

    with _program_environment(project_dir), _collector_restored():
        run()
    # Registration order depends on async scheduling; sort so two plans of one config are equal.
    resources = sorted(monitor.recorded, key=lambda r: r.urn)
    return Plan(stack=config.stack, project=config.project, resources=resources,
                outputs=outputs, logs=list(log_recorder.entries))


async def _collect_outputs(exported: dict[str, Any], into: dict[str, RecordedOutput]) -> None:
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        resolved = await output.future(with_unknowns=True)
        into[name] = RecordedOutput(value=resolved, secret=bool(await output.is_secret()))
