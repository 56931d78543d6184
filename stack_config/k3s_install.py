"""``k3s.install``: where a node's k3s installer, binary and images come from.

Three sources:
- ``upstream`` (default): k3s's own install script at the git ref pinned for the release
  (``upstream/k3s_installer.json``), which downloads the release binary from GitHub and checks it
  against the release's sha256sum file;
- ``mirror``: the install script from ``scriptUrl`` (a copy of upstream's, or a mirror's own
  script such as the China mirror's), with the binary download redirected by the variables that
  script reads (``GITHUB_URL`` for upstream's newer revisions, ``INSTALL_K3S_MIRROR`` and
  ``INSTALL_K3S_MIRROR_URL`` for the China mirror's fork);
- ``airgap``: nothing is downloaded; the script, the k3s binary and the images tarball are
  already on the node (staged by the user's image) and the installer runs with
  ``INSTALL_K3S_SKIP_DOWNLOAD=true`` (Ref: docs.k3s.io/installation/airgap).

Every source runs the script only after its SHA-256 matched the pinned or given digest.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import model_validator

from stack_config.base import StrictModel
from stack_config.errors import KeyedValueError, KeyedValueErrors
from upstream import k3s_installer

InstallSource = Literal["upstream", "mirror", "airgap"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Paths travel in the installer's command line: plain path characters only, no `..`.
_NODE_PATH = re.compile(r"/[A-Za-z0-9._+/-]+")
_MIRROR_NAME = re.compile(r"[a-z]{2,16}")
# Hetzner's public OS images are named <os>-<version> (ubuntu-24.04, debian-12, rocky-9, ...);
# a snapshot of the user's own is referred to by its ID. A public image holds none of the files
# an air-gapped install needs. Ref: docs.hetzner.cloud (GET /images, type "system").
_PUBLIC_IMAGE = re.compile(r"(ubuntu|debian|rocky|alma|centos|fedora|opensuse)-[0-9][0-9.]*")

MIRROR_FIELDS = {"script_url": "scriptUrl", "mirror": "mirror", "mirror_url": "mirrorUrl",
                 "binary_base_url": "binaryBaseUrl", "allow_insecure_http": "allowInsecureHttp"}
AIRGAP_FIELDS = {"script_path": "scriptPath", "binary_path": "binaryPath",
                 "images_path": "imagesPath"}


class K3sInstall(StrictModel):
    """Where the k3s installer and binaries come from; the script is always digest-checked."""

    source: InstallSource = "upstream"
    """``upstream`` (k3s's own script at the pinned ref, binaries from GitHub), ``mirror``
    (``scriptUrl`` and the mirror settings below) or ``airgap`` (script, binary and images
    already on the node: ``scriptPath``, ``binaryPath``, ``imagesPath``)."""
    script_sha256: str | None = None
    """SHA-256 (64 lowercase hex digits) the install script must have. Unset: the digest pinned
    for ``k3s.version`` (``upstream/k3s_installer.json``). Required for a k3s release without a
    pin and for a mirror's own script (``mirror``/``mirrorUrl``)."""
    script_url: str | None = None
    """``mirror`` only, required: https URL of the install script (``http://`` needs
    ``allowInsecureHttp``). Its bytes must match ``scriptSha256`` or the pin."""
    mirror: str | None = None
    """``mirror`` only: ``INSTALL_K3S_MIRROR`` (e.g. ``cn``), read by the China mirror's own
    install script, not by upstream's; needs ``scriptSha256``."""
    mirror_url: str | None = None
    """``mirror`` only: ``INSTALL_K3S_MIRROR_URL``, the mirror's base URL (with its scheme) the
    China mirror's script downloads binaries from; needs ``scriptSha256``."""
    binary_base_url: str | None = None
    """``mirror`` only: ``GITHUB_URL``, the releases base the script downloads
    ``<base>/download/<version>/k3s`` and the release's sha256sum file from. Only newer upstream
    scripts read it: refused with a pinned script that does not."""
    allow_insecure_http: bool = False
    """``mirror`` only: accept ``http://`` URLs above. The script's digest is still checked, but
    the binary's own check then trusts a checksum file fetched over plain HTTP."""
    script_path: str | None = None
    """``airgap`` only, required: absolute path of the install script on the node."""
    binary_path: str | None = None
    """``airgap`` only, required: absolute path of the k3s binary on the node (copied to
    /usr/local/bin/k3s)."""
    images_path: str | None = None
    """``airgap`` only, required: absolute path of the k3s images tarball on the node (copied to
    /var/lib/rancher/k3s/agent/images/)."""

    @model_validator(mode="after")
    def _fields_fit_the_source(self) -> "K3sInstall":
        problems = [*self._foreign_fields(), *self._source_problems()]
        if self.script_sha256 is not None and not _SHA256.fullmatch(self.script_sha256):
            problems.append(KeyedValueError(
                "scriptSha256", "is not a SHA-256 digest.", "write the 64 lowercase hex "
                "digits `sha256sum install.sh` prints (without the file name)."))
        if problems:
            raise KeyedValueErrors(problems)
        return self

    def _foreign_fields(self) -> list[KeyedValueError]:
        problems = []
        for source, fields in (("mirror", MIRROR_FIELDS), ("airgap", AIRGAP_FIELDS)):
            if self.source == source:
                continue
            for name, key in fields.items():
                if name in self.model_fields_set:
                    problems.append(KeyedValueError(
                        key, f"is only read with source: {source} (this stack's source is "
                        f"{self.source}).", f"remove it, or set k3s.install.source: {source}."))
        return problems

    def _source_problems(self) -> list[KeyedValueError]:
        if self.source == "mirror":
            return self._mirror_problems()
        if self.source == "airgap":
            return self._airgap_problems()
        return []

    def _mirror_problems(self) -> list[KeyedValueError]:
        problems = []
        if self.script_url is None:
            problems.append(KeyedValueError(
                "scriptUrl", "is required with source: mirror (where the install script is "
                "downloaded from).", "set k3s.install.scriptUrl to the https URL of the "
                "mirrored install.sh."))
        for key, url in (("scriptUrl", self.script_url), ("mirrorUrl", self.mirror_url),
                         ("binaryBaseUrl", self.binary_base_url)):
            if url is not None:
                problem = self._url_problem(key, url)
                if problem:
                    problems.append(problem)
        if self.mirror is not None and not _MIRROR_NAME.fullmatch(self.mirror):
            problems.append(KeyedValueError(
                "mirror", "is not a mirror name.", "write the INSTALL_K3S_MIRROR value the "
                "mirror's script documents, e.g. cn."))
        own_script = [key for key, value in (("mirror", self.mirror),
                                             ("mirrorUrl", self.mirror_url)) if value is not None]
        if own_script and self.script_sha256 is None:
            problems.append(KeyedValueError(
                "scriptSha256", f"is required with {' and '.join(own_script)}: only a mirror's "
                "own install script reads INSTALL_K3S_MIRROR(_URL), and the program pins "
                "upstream's script only.", "download the mirror's script once, check it, and "
                "set k3s.install.scriptSha256 to its `sha256sum`."))
        return problems

    def _url_problem(self, key: str, url: str) -> KeyedValueError | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("https", "http") or not parts.hostname \
                or any(c.isspace() for c in url):
            return KeyedValueError(key, f"{url!r} is not an http(s) URL.",
                                   "write it with its scheme, e.g. https://mirror.example.com/k3s.")
        if parts.username or parts.password:
            return KeyedValueError(key, "carries credentials; they would be shown in the node's "
                                   "command line and the plan.", "use a mirror that needs no "
                                   "credentials, or one that trusts the nodes' addresses.")
        if parts.scheme == "http" and not self.allow_insecure_http:
            return KeyedValueError(key, f"{url!r} is plain http: anyone on the path could swap "
                                   "what it serves (the script's digest is still checked, the "
                                   "binary's checksum file would not be protected).",
                                   "use https, or acknowledge with k3s.install.allowInsecureHttp: "
                                   "true.")
        return None

    def _airgap_problems(self) -> list[KeyedValueError]:
        problems = []
        for name, key in AIRGAP_FIELDS.items():
            path = getattr(self, name)
            if path is None:
                problems.append(KeyedValueError(
                    key, "is required with source: airgap.", f"set k3s.install.{key} to the "
                    "absolute path where the node's image stages the file."))
            elif not _NODE_PATH.fullmatch(path) or "/../" in f"{path}/":
                problems.append(KeyedValueError(
                    key, f"{path!r} is not an absolute path on the node.", "write it from the "
                    "root, e.g. /opt/k3s/install.sh (letters, digits, . _ + - and /; no ..)."))
        return problems

    def script_digest(self, version: str) -> str | None:
        """The digest the script must have for k3s ``version``: given, else pinned, else None."""
        if self.script_sha256 is not None:
            return self.script_sha256
        pin = k3s_installer.pin_for(version)
        return pin.sha256 if pin else None

    def version_problems(self, version: str) -> list[KeyedValueError]:
        """What the release ``version`` (k3s.version) leaves unpinned; paths relative to k3s."""
        pin = k3s_installer.pin_for(version)
        problems = []
        if self.script_sha256 is None and pin is None:
            pinned = ", ".join(k3s_installer.pinned_versions())
            problems.append(KeyedValueError(
                "install.scriptSha256", f"k3s {version} has no pinned install script (pinned: "
                f"{pinned}), so nothing would check the script a node runs.", "pick a pinned "
                "k3s.version, refresh the pins (tools/k3s_installer_pins.py, docs/installer.md), "
                "or set k3s.install.scriptSha256 to the sha256sum of the script you checked."))
        if self.binary_base_url is not None and self.script_sha256 is None and pin is not None \
                and not pin.reads_github_url:
            problems.append(KeyedValueError(
                "install.binaryBaseUrl", f"the install script pinned for k3s {version} (k3s-io/"
                f"k3s@{pin.ref[:12]}) does not read GITHUB_URL: the binary would still come from "
                "github.com.", "use a script that reads GITHUB_URL and set "
                "k3s.install.scriptSha256 to its digest, or remove binaryBaseUrl."))
        return problems

    def image_problems(self, images: dict[str, str]) -> list[KeyedValueError]:
        """Air-gapped nodes must boot from an image that stages the files: ``images`` maps each
        node image key as written (``controlPlane.image``) to its value."""
        if self.source != "airgap":
            return []
        return [KeyedValueError(
            key, f"{image} is one of Hetzner's public images: it has none of the files "
            "k3s.install.source: airgap installs from (scriptPath, binaryPath, imagesPath), so "
            "every node would stop at its k3s step.", "build a snapshot that stages them (e.g. "
            "with Packer) and set this key to the snapshot's ID, or use k3s.install.source: "
            "mirror.") for key, image in images.items() if _PUBLIC_IMAGE.fullmatch(image)]

