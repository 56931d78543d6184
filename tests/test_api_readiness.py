"""The API load balancer's readiness check: the servers' answer run for real against a TLS
server that demands a client certificate, its installer and the out-of-rotation step on a fake
node, and the order the whole program's plan puts them in."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster_plan import api_readiness
from components.bootstrap import rollout
from components.bootstrap.remote_script import SCRIPTS_DIR
from tests.fake_node import LOG, SYSTEMCTL_STUB, FakeNode
from tests.program_plans import NODE, commands, depends_on, example_plan, plan_config
from tests.helpers import example_config
from tests.test_bootstrap_scripts import apply, installed, server_bundle, stage
from upstream.k3s import CONTROL_PLANE_LABEL

MARKER = api_readiness.OUT_OF_ROTATION_MARKER
SERVICE = "hcloud:index/loadBalancerService:LoadBalancerService"
LB_STACK = "private-ha"
"""An example stack with an API load balancer (and three servers)."""
NO_LB_STACK = "dev"


# -- the answer, against a real TLS apiserver stand-in -----------------------------------------

@dataclass(frozen=True)
class Pki:
    ca: Path
    client_cert: Path
    client_key: Path
    server_cert: Path
    server_key: Path
    stranger_cert: Path
    """Signed by another CA: the apiserver stand-in refuses it."""
    stranger_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _signed(cwd: Path, name: str, ca: str, subject: str, ext: str | None = None) -> None:
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.csr", "-subj", subject, cwd=cwd)
    args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "1", "-out", f"{name}.crt"]
    if ext is not None:
        (cwd / f"{name}.ext").write_text(ext)
        args += ["-extfile", f"{name}.ext"]
    _openssl(*args, cwd=cwd)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cwd = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key",
                 "-out", f"{ca}.crt", "-days", "1", "-subj", f"/CN={ca}", cwd=cwd)
    _signed(cwd, "server", "ca", "/CN=k3s", "subjectAltName=IP:127.0.0.1\n")
    _signed(cwd, "client", "ca", "/CN=system:kube-proxy")
    _signed(cwd, "stranger", "other-ca", "/CN=stranger")
    return Pki(ca=cwd / "ca.crt", client_cert=cwd / "client.crt", client_key=cwd / "client.key",
               server_cert=cwd / "server.crt", server_key=cwd / "server.key",
               stranger_cert=cwd / "stranger.crt", stranger_key=cwd / "stranger.key")


class _Apiserver(http.server.BaseHTTPRequestHandler):
    ready = True

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        ok = self.path == "/readyz" and type(self).ready
        self.send_response(200 if ok else 500)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"[-]etcd failed")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def apiserver(pki: Pki) -> Iterator[type[_Apiserver]]:
    """/readyz over TLS, for clients with a certificate of the cluster's CA only."""
    handler = type("Apiserver", (_Apiserver,), {"ready": True})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server.socket = context.wrap_socket(server.socket, server_side=True)
    handler.url = f"https://127.0.0.1:{server.server_address[1]}/readyz"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler
    server.shutdown()
    server.server_close()


def ask(pki: Pki, url: str, marker: Path, request: str, *, stranger: bool = False) -> str:
    env = {"PATH": "/usr/bin:/bin", "READYZ_URL": url, "CA_FILE": str(pki.ca),
           "CLIENT_CERT": str(pki.stranger_cert if stranger else pki.client_cert),
           "CLIENT_KEY": str(pki.stranger_key if stranger else pki.client_key),
           "MARKER": str(marker), "REQUEST_TIMEOUT": "2"}
    result = subprocess.run([shutil.which("bash") or "/bin/bash",
                             str(SCRIPTS_DIR / "api-readiness.sh")], input=request.encode(),
                            capture_output=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    # Bytes, not text mode: universal newlines would hide the protocol's CRLFs.
    return result.stdout.decode()


GET = "GET /readyz HTTP/1.1\r\nHost: 10.0.1.11:6445\r\nUser-Agent: hc-health\r\n\r\n"


def status_and_body(answer: str) -> tuple[str, str]:
    head, _, body = answer.partition("\r\n\r\n")
    return head.splitlines()[0], body


def test_a_ready_apiserver_is_answered_ok(pki: Pki, apiserver, tmp_path: Path) -> None:
    answer = ask(pki, apiserver.url, tmp_path / "marker", GET)
    assert status_and_body(answer) == ("HTTP/1.1 200 OK", "ok\n")
    assert "Content-Length: 3\r\n" in answer


def test_an_apiserver_that_is_not_ready_is_answered_503(pki: Pki, apiserver,
                                                        tmp_path: Path) -> None:
    apiserver.ready = False
    status, body = status_and_body(ask(pki, apiserver.url, tmp_path / "marker", GET))
    assert (status, body) == ("HTTP/1.1 503 Service Unavailable", "not ready\n")


def test_a_server_out_of_rotation_is_answered_503_even_when_ready(pki: Pki, apiserver,
                                                                  tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    marker.touch()
    assert status_and_body(ask(pki, apiserver.url, marker, GET)) == (
        "HTTP/1.1 503 Service Unavailable", "out of rotation\n")


def test_no_apiserver_listening_is_answered_503(pki: Pki, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"https://127.0.0.1:{probe.getsockname()[1]}/readyz"
    assert status_and_body(ask(pki, closed, tmp_path / "m", GET))[0] == (
        "HTTP/1.1 503 Service Unavailable")


def test_a_certificate_the_apiserver_refuses_is_not_ready(pki: Pki, apiserver,
                                                          tmp_path: Path) -> None:
    # The stand-in demands the cluster CA's client certificates, as k3s does with anonymous
    # access off: the answer's identity is what makes /readyz readable at all.
    answer = ask(pki, apiserver.url, tmp_path / "m", GET, stranger=True)
    assert status_and_body(answer)[0] == "HTTP/1.1 503 Service Unavailable"


@pytest.mark.parametrize(("request_text", "status"), [
    ("GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found"),
    ("GET / HTTP/1.0\r\n\r\n", "HTTP/1.1 404 Not Found"),
    ("POST /readyz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"),
])
def test_only_get_readyz_is_served(pki: Pki, apiserver, tmp_path: Path, request_text: str,
                                   status: str) -> None:
    assert status_and_body(ask(pki, apiserver.url, tmp_path / "m", request_text))[0] == status


def test_head_gets_the_status_without_a_body(pki: Pki, apiserver, tmp_path: Path) -> None:
    answer = ask(pki, apiserver.url, tmp_path / "m", "HEAD /readyz HTTP/1.1\r\n\r\n")
    assert status_and_body(answer) == ("HTTP/1.1 200 OK", "")


def test_a_silent_peer_gets_no_answer_and_no_hang(pki: Pki, apiserver, tmp_path: Path) -> None:
    assert ask(pki, apiserver.url, tmp_path / "m", "") == ""


# -- the installer, on a fake node --------------------------------------------------------------

INSTALL_ENV = {"LISTEN_ADDRESS": "10.0.1.11", "PORT": str(api_readiness.PORT),
               "READYZ_URL": "https://127.0.0.1:6443/readyz", "CA_FILE": "/tls/server-ca.crt",
               "CLIENT_CERT": "/tls/client-kube-proxy.crt",
               "CLIENT_KEY": "/tls/client-kube-proxy.key", "MARKER": MARKER,
               "K3S_SERVICE": "k3s", "SELF_TEST_ATTEMPTS": "3", "SELF_TEST_INTERVAL": "0"}
# curl as the self-test sees the answer: the status code in state/answer-code (nothing when
# the file is absent: no answer on the port).
ANSWER_CURL = r'''echo "curl $*" >>"$STUB_STATE/calls.log"
cat "$STUB_STATE/answer-code" 2>/dev/null || true
'''


# systemctl: k3s is active when state/active exists; the readiness socket's units just log.
INSTALLER_SYSTEMCTL = r'''echo "systemctl $*" >>"$STUB_STATE/calls.log"
case "$*" in
  "is-active --quiet k3s") [[ -f "$STUB_STATE/active" ]] ;;
  *) ;;
esac
'''


def installer_node(tmp_path: Path, code: str | None = "503") -> FakeNode:
    """A fresh server (k3s not running) whose answer says ``code`` once installed."""
    node = FakeNode.create(tmp_path)
    node.stub("curl", ANSWER_CURL)
    node.stub("systemctl", INSTALLER_SYSTEMCTL)
    if code is not None:
        node.flag("answer-code", code)
    (node.state / "active").unlink(missing_ok=True)
    return node
SOCKET = "/etc/systemd/system/k3s-hcloud-api-readiness.socket"
UNIT = "/etc/systemd/system/k3s-hcloud-api-readiness@.service"
ANSWER = "/usr/local/lib/k3s-hcloud/api-readiness.sh"


def answer_text() -> str:
    return (SCRIPTS_DIR / "api-readiness.sh").read_text()


def test_the_answer_is_installed_behind_a_socket_on_the_private_address(tmp_path: Path) -> None:
    node = installer_node(tmp_path)
    result = node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV)
    assert result.returncode == 0, result.stderr
    assert node.file(ANSWER).read_text() == answer_text()
    assert node.file(ANSWER).stat().st_mode & 0o777 == 0o755
    socket_unit = node.file(SOCKET).read_text()
    assert f"ListenStream=10.0.1.11:{api_readiness.PORT}\n" in socket_unit
    assert "Accept=yes" in socket_unit and "FreeBind=yes" in socket_unit
    service = node.file(UNIT).read_text()
    assert f"ExecStart={ANSWER}\n" in service and "CapabilityBoundingSet=\n" in service
    assert "MARKER=" + MARKER in service and "CLIENT_KEY=/tls/client-kube-proxy.key" in service
    calls = node.calls()
    assert "systemctl enable k3s-hcloud-api-readiness.socket" in calls
    assert "systemctl restart k3s-hcloud-api-readiness.socket" in calls


def test_a_second_install_restarts_nothing(tmp_path: Path) -> None:
    node = installer_node(tmp_path)
    assert node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV).returncode == 0
    node.reset_calls()
    result = node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV)
    assert result.returncode == 0 and "unchanged" in result.stdout
    assert not [call for call in node.calls() if "restart" in call or "daemon-reload" in call]


def test_a_moved_address_rebinds_the_socket(tmp_path: Path) -> None:
    node = installer_node(tmp_path)
    assert node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV).returncode == 0
    node.reset_calls()
    moved = INSTALL_ENV | {"LISTEN_ADDRESS": "10.0.1.12"}
    assert node.run_script("install-api-readiness.sh", answer_text(), **moved).returncode == 0
    assert "ListenStream=10.0.1.12:" in node.file(SOCKET).read_text()
    assert "systemctl restart k3s-hcloud-api-readiness.socket" in node.calls()


def test_no_answer_on_stdin_is_refused(tmp_path: Path) -> None:
    node = installer_node(tmp_path)
    result = node.run_script("install-api-readiness.sh", "", **INSTALL_ENV)
    assert result.returncode == 1 and "no answer script" in result.stderr
    assert not node.file(SOCKET).exists()


def test_the_answer_is_asked_over_the_private_address_before_the_install_passes(
        tmp_path: Path) -> None:
    node = installer_node(tmp_path, "503")
    result = node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV)
    assert result.returncode == 0, result.stderr
    asked = [c for c in node.calls() if c.startswith("curl ")]
    assert asked and all(f"http://10.0.1.11:{api_readiness.PORT}/readyz" in c for c in asked)


def test_where_k3s_runs_only_200_passes_the_self_test(tmp_path: Path) -> None:
    # A fault common to every server must stop before the load balancer switches to the check.
    node = installer_node(tmp_path, "503")
    (node.state / "active").touch()
    result = node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV)
    assert result.returncode == 1
    assert "answers '503', not 200" in result.stderr and "not switched" in result.stderr
    node.flag("answer-code", "200")
    assert node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV).returncode == 0


def test_no_answer_at_all_fails_the_install(tmp_path: Path) -> None:
    node = installer_node(tmp_path, None)
    result = node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV)
    assert result.returncode == 1 and "answers 'nothing', not 503" in result.stderr


def test_the_units_pass_systemd_analyze(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    node = installer_node(tmp_path)
    assert node.run_script("install-api-readiness.sh", answer_text(), **INSTALL_ENV).returncode == 0
    units = tmp_path / "units"
    units.mkdir()
    # The unit names the answer by its path on the node; here it lives under the fake root.
    shutil.copy(node.file(SOCKET), units)
    service = node.file(UNIT).read_text().replace(ANSWER, str(node.file(ANSWER)))
    (units / "k3s-hcloud-api-readiness@.service").write_text(service)
    result = subprocess.run([analyze, "verify", str(units / "k3s-hcloud-api-readiness.socket")],
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "api-readiness" in line]
    assert not problems, problems


# -- out of rotation around a k3s restart (apply-k3s.sh) ----------------------------------------

# Both stubs note whether the server was out of rotation when they ran.
OUT_NOTE = ('if [[ -e "$K3S_ROOT' + MARKER + '" ]]; then echo "out-of-rotation ${0##*/} $*" '
            '>>"$STUB_STATE/calls.log"; fi\n')
ROTATION = {"ROTATION_MARKER": MARKER, "ROTATION_SECONDS": "19"}


@pytest.fixture
def server(tmp_path: Path) -> FakeNode:
    node = FakeNode.create(tmp_path)
    node.stub("systemctl", OUT_NOTE + SYSTEMCTL_STUB)
    node.stub("sleep", OUT_NOTE + LOG)
    return node


def test_a_restart_leaves_the_rotation_first_and_comes_back_after(server: FakeNode) -> None:
    installed(server)
    result = apply(server, server_bundle("node-name: cp-1\nkube-apiserver-arg: [v=2]\n"),
                   **ROTATION)
    assert result.returncode == 0, result.stderr
    calls = server.calls()
    restart = calls.index("systemctl --no-block restart k3s")
    # Out of rotation, then the wait for the load balancer to notice, then the restart...
    assert calls.index("out-of-rotation sleep 19") < restart
    assert "out-of-rotation systemctl --no-block restart k3s" in calls
    # ...and back in before the second wait, which lets the next server leave only after.
    assert calls[-1] == "sleep 19" and not server.file(MARKER).exists()


def test_a_first_install_has_no_rotation_to_leave(tmp_path: Path) -> None:
    node = FakeNode.create(tmp_path)
    assert stage(node, {"cluster-token": "t"}).returncode == 0
    result = apply(node, server_bundle(), **ROTATION)
    assert result.returncode == 0, result.stderr
    assert "sleep 19" not in node.calls() and not node.file(MARKER).exists()


def test_a_failed_restart_still_ends_out_of_nothing(server: FakeNode) -> None:
    installed(server)
    result = apply(server, server_bundle("node-name: cp-1\nbreak-me: true\n"), **ROTATION)
    assert result.returncode == 1 and "rolled back" in result.stderr
    # Rolled back and healthy again: the marker must not keep it out of the load balancer.
    assert not server.file(MARKER).exists()


def test_an_unchanged_apply_never_leaves_the_rotation(server: FakeNode) -> None:
    installed(server)
    result = apply(server, server_bundle(), **ROTATION)
    assert result.returncode == 0 and "unchanged" in result.stdout
    assert not [call for call in server.calls() if "out-of-rotation" in call or "sleep" in call]


# -- the wait until the load balancer routes ----------------------------------------------------

ROUTES_ENV = {"API_URL": "https://10.0.1.2:6443", "CA_FILE": "/ca", "CLIENT_CERT": "/c",
              "CLIENT_KEY": "/k", "WAIT_SECONDS": "0", "INTERVAL": "0"}


def test_the_routes_wait_retries_until_the_load_balancer_answers(tmp_path: Path) -> None:
    node = FakeNode.create(tmp_path)
    node.flag("curl-failures", "2")
    result = node.run_script("await-api-routes.sh", **(ROUTES_ENV | {"WAIT_SECONDS": "30"}))
    assert result.returncode == 0, result.stderr
    curls = [call for call in node.calls() if call.startswith("curl ")]
    assert len(curls) == 3 and all("https://10.0.1.2:6443/readyz" in c for c in curls)
    assert all("--cert /c --key /k" in c and "--cacert /ca" in c for c in curls)


def test_the_routes_wait_gives_up_with_a_hint(tmp_path: Path) -> None:
    node = FakeNode.create(tmp_path)
    node.flag("curl-failures", "10")
    result = node.run_script("await-api-routes.sh", **ROUTES_ENV)
    assert result.returncode == 1
    assert "within 0 s" in result.stderr and "Hetzner console" in result.stderr
    # Past the deadline it asks once more, then stops: no loop by attempts overshoots it.
    assert len([c for c in node.calls() if c.startswith("curl ")]) == 1


# -- the plan of the whole program --------------------------------------------------------------

def servers_of(plan) -> list[str]:
    return [r.name for r in plan.by_type(NODE) if r.inputs.get("role") == "server"]


def test_every_server_answers_before_the_service_opens() -> None:
    plan = example_plan(LB_STACK)
    by_name = commands(plan)
    [service] = plan.by_type(SERVICE)
    servers = servers_of(plan)
    assert len(servers) == 3
    for key in servers:
        answer = by_name[f"{key}-api-readiness"]
        assert depends_on(plan, service, answer), key
        create = answer.plain_inputs()["create"]
        assert "wait-for-boot.sh" in create and "install-api-readiness.sh" in create
        assert f"PORT={api_readiness.PORT}" in create
        assert answer.plain_inputs()["stdin"] == answer_text()
    check = service.plain_inputs()["healthCheck"]
    assert check["protocol"] == "http" and check["port"] == api_readiness.PORT
    assert check["http"]["path"] == api_readiness.PATH
    assert check["http"]["statusCodes"] == list(api_readiness.STATUS_CODES)
    assert (check["interval"], check["timeout"], check["retries"]) == (
        api_readiness.INTERVAL_SECONDS, api_readiness.TIMEOUT_SECONDS, api_readiness.RETRIES)


def test_each_server_listens_on_its_own_private_address() -> None:
    plan = example_plan(LB_STACK)
    by_name = commands(plan)
    addresses = set()
    for node in plan.by_type(NODE):
        if node.inputs.get("role") != "server":
            continue
        create = by_name[f"{node.name}-api-readiness"].plain_inputs()["create"]
        address = next(word.split("=", 1)[1] for word in create.split()
                       if word.startswith("LISTEN_ADDRESS="))
        assert address == node.inputs["k3sConfig"]["node-ip"], node.name
        addresses.add(address)
    assert len(addresses) == 3


def test_joiners_wait_until_the_load_balancer_routes_to_the_first_server() -> None:
    plan = example_plan(LB_STACK)
    by_name = commands(plan)
    servers = servers_of(plan)
    cluster = plan.by_type("k3s-hcloud:index:K3sCluster")[0].name
    routes = by_name[f"{cluster}-api-routes"]
    [service] = plan.by_type(SERVICE)
    assert depends_on(plan, routes, by_name[f"{servers[0]}-k3s"])
    assert depends_on(plan, routes, service)
    joiners = [r.name for r in plan.by_type(NODE) if r.name != servers[0]]
    assert joiners
    for key in joiners:
        assert depends_on(plan, by_name[f"{key}-k3s"], routes), key
    assert not depends_on(plan, by_name[f"{servers[0]}-k3s"], routes)


def test_servers_behind_the_load_balancer_leave_its_rotation_to_restart() -> None:
    plan = example_plan(LB_STACK)
    by_name = commands(plan)
    for node in plan.by_type(NODE):
        create = by_name[f"{node.name}-k3s"].plain_inputs()["create"]
        behind = node.inputs.get("role") == "server"
        assert (f"ROTATION_MARKER={MARKER}" in create) is behind, node.name
        if behind:
            assert f"ROTATION_SECONDS={api_readiness.routing_seconds()}" in create


def test_without_a_load_balancer_there_is_no_readiness_check() -> None:
    plan = example_plan(NO_LB_STACK)
    names = set(commands(plan))
    assert not plan.by_type(SERVICE)
    assert not {n for n in names if n.endswith(("-api-readiness", "-api-routes"))}
    assert not [n for n, r in commands(plan).items()
                if f"ROTATION_MARKER={MARKER}" in str(r.plain_inputs().get("create", ""))]


def test_a_public_load_balancer_gets_the_same_check(tmp_path: Path) -> None:
    config = example_config("gateway")
    config["k3s-hcloud:controlPlane"]["loadBalancer"] = {"enabled": True,
                                                         "publicInterface": True}
    plan = plan_config(tmp_path, config, stack="gateway")
    [service] = plan.by_type(SERVICE)
    assert service.plain_inputs()["healthCheck"]["protocol"] == "http"
    for key in servers_of(plan):
        assert depends_on(plan, service, commands(plan)[f"{key}-api-readiness"]), key


# -- agents wait for the servers' release (await-control-plane-version.sh) ----------------------

# k3s kubectl get nodes: "name version" lines from state/control-plane (one line per server).
K3S_NODES_STUB = r'''echo "${0##*/} $*" >>"$STUB_STATE/calls.log"
if [[ -f "$STUB_STATE/api-down" ]]; then echo "connection refused" >&2; exit 1; fi
[[ "$*" == *"get nodes --request-timeout=10s -l node-role.kubernetes.io/control-plane=true"* ]] || exit 2
sed -n "s/^\([^ ]*\) \(.*\)$/\1 \2/p" "$STUB_STATE/control-plane"
if [[ -f "$STUB_STATE/upgrade-after-one" ]]; then
  sed -i "s/ v1.35.3+k3s1$/ v1.36.5+k3s1/" "$STUB_STATE/control-plane"
fi
'''


def version_node(tmp_path: Path, servers: dict[str, str]) -> FakeNode:
    node = FakeNode.create(tmp_path)
    node.stub("k3s", K3S_NODES_STUB)
    node.flag("control-plane", "".join(f"{name} {version}\n" for name, version in servers.items()))
    return node


def wait_for(node: FakeNode, version: str, wait: int = 0) -> subprocess.CompletedProcess[str]:
    return node.run_script("await-control-plane-version.sh", K3S_VERSION=version,
                           WAIT_SECONDS=str(wait), INTERVAL="0",
                           CONTROL_PLANE_SELECTOR=f"{CONTROL_PLANE_LABEL}=true")


def test_an_agent_waits_until_every_server_runs_its_release(tmp_path: Path) -> None:
    node = version_node(tmp_path, {"cp-1": "v1.36.5+k3s1", "cp-2": "v1.35.3+k3s1"})
    node.flag("upgrade-after-one")
    result = wait_for(node, "v1.36.5+k3s1", wait=30)
    assert result.returncode == 0, result.stderr
    assert len([c for c in node.calls() if c.startswith("k3s ")]) == 2


def test_servers_newer_than_the_agent_do_not_hold_it(tmp_path: Path) -> None:
    node = version_node(tmp_path, {"cp-1": "v1.36.5+k3s1", "cp-2": "v1.36.5+k3s2"})
    assert wait_for(node, "v1.36.5+k3s1").returncode == 0
    # Minor versions compare as versions, not as text (1.9 < 1.10).
    node = version_node(tmp_path / "b", {"cp-1": "v1.10.1+k3s1"})
    assert wait_for(node, "v1.9.3+k3s1").returncode == 0


def test_an_agent_never_upgrades_past_a_server_that_stays_behind(tmp_path: Path) -> None:
    node = version_node(tmp_path, {"cp-1": "v1.36.5+k3s1", "cp-3": "v1.35.3+k3s1"})
    result = wait_for(node, "v1.36.5+k3s1")
    assert result.returncode == 1
    assert "cp-3 v1.35.3+k3s1" in result.stderr and "after 0 s" in result.stderr


def test_a_server_tag_that_does_not_parse_counts_as_older(tmp_path: Path) -> None:
    # sort -V would rank an rc above its release; a tag k3s does not release holds the agent.
    node = version_node(tmp_path, {"cp-1": "v1.36.5+k3s1", "cp-2": "v1.36.5-rc1+k3s1"})
    result = wait_for(node, "v1.36.5+k3s1")
    assert result.returncode == 1 and "cp-2 v1.36.5-rc1+k3s1" in result.stderr


def test_an_api_that_does_not_answer_is_not_read_as_servers_up_to_date(tmp_path: Path) -> None:
    node = version_node(tmp_path, {"cp-1": "v1.36.5+k3s1"})
    node.flag("api-down")
    result = wait_for(node, "v1.36.5+k3s1")
    assert result.returncode == 1 and "did not list" in result.stderr


def test_agents_drain_only_after_the_version_wait_and_servers_never_wait() -> None:
    plan = example_plan(LB_STACK)
    by_name = commands(plan)
    for node in plan.by_type(NODE):
        waits = by_name.get(f"{node.name}-servers-at")
        if node.inputs.get("role") != "agent":
            assert waits is None, node.name
            continue
        create = waits.plain_inputs()["create"]
        assert "await-control-plane-version.sh" in create, node.name
        assert f"K3S_VERSION={node.inputs['k3sVersion']}" in create
        # A version bump re-runs it (the rollout's triggers), and the drain (which takes the
        # pool's rollout slot) waits for it: no slot is held while the servers upgrade.
        drain = by_name[f"{node.name}-drain"]
        assert waits.plain_inputs()["triggers"] == drain.plain_inputs()["triggers"]
        assert waits.urn in drain.dependencies
        assert "await-control-plane-version.sh" not in drain.plain_inputs()["create"]


def test_a_new_drain_script_re_runs_the_uncordon_after_it() -> None:
    """pulumi-command runs a command again when its text changes: the uncordon's triggers carry
    the drain's text, so a drain re-run by a program release is always followed by its
    uncordon, never leaving the node cordoned."""
    plan = example_plan(LB_STACK)
    by_name = commands(plan)
    for node in plan.by_type(NODE):
        drain = by_name[f"{node.name}-drain"].plain_inputs()
        uncordon = by_name[f"{node.name}-uncordon"].plain_inputs()
        assert uncordon["triggers"][:-1] == drain["triggers"], node.name
        assert uncordon["triggers"][-1] == hashlib.sha256(drain["create"].encode()).hexdigest()


def test_a_lone_server_behind_a_load_balancer_does_not_leave_the_rotation(tmp_path: Path) -> None:
    # With one server nobody takes over its traffic: leaving first would only add downtime.
    config = example_config(NO_LB_STACK)
    config["k3s-hcloud:controlPlane"]["loadBalancer"] = {"enabled": True}
    plan = plan_config(tmp_path, config, stack=NO_LB_STACK)
    [server] = servers_of(plan)
    assert plan.by_type(SERVICE)
    assert "ROTATION_MARKER=" not in commands(plan)[f"{server}-k3s"].plain_inputs()["create"]


def test_the_agents_wait_stops_on_its_own_before_pulumi_gives_up() -> None:
    plan = example_plan(LB_STACK)
    by_name = commands(plan)
    agent = next(r.name for r in plan.by_type(NODE) if r.inputs.get("role") == "agent")
    waits = by_name[f"{agent}-servers-at"]
    seconds = int(next(word.split("=", 1)[1] for word in waits.plain_inputs()["create"].split()
                       if word.startswith("WAIT_SECONDS=")))
    assert seconds == rollout.SERVER_VERSION_WAIT_MINUTES * 60
    timeout_minutes = int(waits.options["customTimeouts"]["create"].removesuffix("m"))
    assert seconds < timeout_minutes * 60
