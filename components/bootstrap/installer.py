"""The environment ``scripts/apply-k3s.sh`` installs k3s with: where the install script, the k3s
binary and its images come from, and the digest the script must have (docs/installer.md).

One renderer for both paths that run the installer (the SSH bootstrap's ``K3sNode`` and the
autoscaler's first-boot user data), so both always use the same source and the same digest.

Pure: no Pulumi.
"""

from __future__ import annotations

from stack_config.k3s import K3sConfig
from upstream import k3s_installer


def script_location(k3s: K3sConfig) -> str:
    """Where the node takes the install script from: a URL, or a path on the node (airgap)."""
    install = k3s.install
    if install.source == "airgap":
        assert install.script_path is not None  # required by the model for airgap
        return install.script_path
    if install.source == "mirror":
        assert install.script_url is not None  # required by the model for mirror
        return install.script_url
    pin = k3s_installer.pin_for(k3s.version)
    if pin is not None:
        return pin.script_url
    # No pin, but a digest given (the model refuses neither): the release's own script.
    return k3s_installer.script_url_at(k3s.version)


def installer_env(k3s: K3sConfig) -> dict[str, str]:
    """``apply-k3s.sh``'s installer inputs (plain values: none of them is a secret)."""
    install = k3s.install
    digest = install.script_digest(k3s.version)
    if digest is None:  # the model refuses an unpinned release without scriptSha256
        raise ValueError(f"k3s {k3s.version} has no install script digest")
    env = {"INSTALL_SOURCE": install.source, "INSTALL_SCRIPT_SHA256": digest}
    if install.source == "airgap":
        assert install.binary_path is not None and install.images_path is not None
        env |= {"INSTALL_SCRIPT_PATH": script_location(k3s),
                "K3S_BINARY_PATH": install.binary_path,
                "K3S_IMAGES_PATH": install.images_path}
        return env
    env["INSTALL_SCRIPT_URL"] = script_location(k3s)
    # The installer inherits these from apply-k3s.sh's environment; only the set ones are passed.
    for name, value in ((k3s_installer.GITHUB_URL_ENV, install.binary_base_url),
                        (k3s_installer.MIRROR_ENV, install.mirror),
                        (k3s_installer.MIRROR_URL_ENV, install.mirror_url)):
        if value is not None:
            env[name] = value
    return env
