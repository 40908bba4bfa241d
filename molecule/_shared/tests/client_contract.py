"""A training host judged by the real `wandb` SDK, the same way next to any topology.

The client role configured the host (group wandb_client) and installed the SDK; the prepare step
(molecule/_shared/prepare-clients.yml) made the user the runs are made as. A run logs history and
saves a 5 MB file; the SDK exits 0 and prints success even when uploads or the file stream failed,
so every check is on what arrived: the object in the bucket (read with mc on the MinIO host, its
sha256) and what the stand-in kept (read through the proxy). A scenario uses it like this:

    import client_contract
    from client_contract import ClientSite

    test_a_real_run_arrives = client_contract.test_a_real_run_arrives
    ...

    @pytest.fixture(scope="module")
    def client_site():
        return ClientSite(client="fleet-client", minio="fleet-minio", proxy="fleet-proxy")
"""

import json
import re
import shlex
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from endpoint_contract import published_endpoint
from lab_playbook import lab_host

SDK = "/opt/wandb-sdk/bin"
SITE_CA = "/usr/local/share/ca-certificates/wandb-site-ca.crt"
MC = "/usr/local/bin/mc"
MINIO_CA = "/etc/minio/certs/ca.crt"
BLOB_BYTES = 5 * 1024 * 1024
RUN_PY = """
import sys, wandb
run = wandb.init(project=sys.argv[1], id=sys.argv[2])
for i in range(5):
    run.log({"loss": 1.0 / (i + 1)})
run.save("blob.bin", policy="now")
run.finish()
"""


@dataclass
class ClientSite:
    client: str  # inventory name of the training host
    minio: str  # a MinIO host (the bucket's endpoint is read from its published fact)
    proxy: str  # the name W&B is reached at (the proxy's server name)
    user: str = "alice"
    project: str = "client-contract"

    @property
    def base(self):
        return f"https://{self.proxy}"

    @property
    def host(self):
        return lab_host(self.client)

    def bucket(self):
        """endpoint, bucket, prefix, key, secret and scheme of the BUCKET the server got."""
        env = published_endpoint("bucket", self.minio, "-wandb_minio_endpoint")["env"]
        parts = urlsplit(env["BUCKET"])
        path = parts.path.strip("/").partition("/")
        bucket, prefix = path[0], path[2]
        return {
            "endpoint": f"{parts.hostname}:{parts.port}",
            "bucket": bucket,
            "prefix": prefix,
            "key": unquote(parts.username or ""),
            "secret": unquote(parts.password or ""),
            "scheme": "https" if "tls=true" in parts.query else "http",
        }

    def sdk(self, command, env="", timeout=120):
        """A command as the user with only what the role set (/etc/environment) plus `env` (NAME=value ...)."""
        inner = f"cd ~; set -a; . /etc/environment; set +a; {env} timeout {timeout} {command}"
        return self.host.run(
            f"runuser -u {self.user} -- env -i HOME=/home/{self.user} PATH=/usr/bin:/bin sh -c {shlex.quote(inner)}"
        )

    def run(self, name, env="", timeout=120):
        """A real run that logs 5 steps and saves a 5 MB file; returns (result, the file's sha256)."""
        work = f"/home/{self.user}/{name}"
        make = f"mkdir -p {work} && head -c {BLOB_BYTES} /dev/urandom > {work}/blob.bin"
        self.host.check_output(f"runuser -u {self.user} -- sh -c {shlex.quote(make)}")
        self.host.check_output(f"printf %s {shlex.quote(RUN_PY)} > {work}/run.py && chown {self.user} {work}/run.py")
        digest = self.host.check_output(f"sha256sum {work}/blob.bin").split()[0]
        result = self.sdk(f"sh -c 'cd {work} && {SDK}/python run.py {self.project} {name}'", env=env, timeout=timeout)
        return result, digest

    def object_sha256(self, run):
        """The sha256 of the run's file in the bucket, read on the MinIO host with the server's key; None if absent."""
        b = self.bucket()
        key = "/".join(part for part in (b["prefix"], "standin", self.project, run, "blob.bin") if part)
        alias = f"{b['scheme']}://{b['key']}:{b['secret']}@{b['endpoint']}"
        minio = lab_host(self.minio)
        copy = f"/root/client-contract-{run}"
        got = minio.run(
            f"env SSL_CERT_FILE={MINIO_CA} MC_HOST_w={shlex.quote(alias)} {MC} --config-dir /tmp/mc-client-contract"
            f" cat w/{b['bucket']}/{key} > {copy}"
        )
        try:
            return minio.check_output(f"sha256sum {copy}").split()[0] if got.rc == 0 else None
        finally:
            minio.run(f"rm -f {copy}")

    def kept(self, run):
        """What the stand-in kept of the run (through the proxy), or None when it knows no such run."""
        got = self.host.run(
            f"curl -sS --cacert {SITE_CA} -w '\\n%{{http_code}}' {self.base}/standin/runs/standin/{self.project}/{run}"
        )
        answer = got.stdout.rpartition("\n")
        body, code = answer[0], answer[2]
        return json.loads(body) if code.strip() == "200" else None

    def preflight(self, origin):
        """The response headers of a CORS preflight to the bucket endpoint (a browser's PUT)."""
        b = self.bucket()
        return self.host.check_output(
            f"curl -sS -o /dev/null -D - --cacert {SITE_CA} -X OPTIONS -H 'Origin: {origin}'"
            f" -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: content-type'"
            f" {b['scheme']}://{b['endpoint']}/{b['bucket']}/cors-probe"
        ).lower()


def fresh(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def test_a_real_run_arrives(client_site):
    name = fresh("ok")
    result, digest = client_site.run(name)
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The SDK's exit code is not evidence: what arrived is.
    assert client_site.object_sha256(name) == digest, "the 5 MB file is not in the bucket with its sha256"
    kept = client_site.kept(name)
    assert kept is not None, "the stand-in knows no such run"
    assert len(kept["history"]) == 5 and kept["complete"] and kept["exitcode"] == 0, kept


def test_wandb_status_shows_the_site(client_site):
    status = client_site.sdk(f"{SDK}/wandb status", timeout=60)
    assert status.rc == 0, status.stderr
    assert client_site.base in status.stdout, status.stdout


def test_a_wrong_ca_gets_nothing_in(client_site):
    """Every CA variable the SDK and requests read points at a bundle without the site CA."""
    wrong, wrong_dir = "/etc/wrong-ca.pem", "/etc/wrong-ca.d"
    client_site.host.check_output(
        f"ls /usr/share/ca-certificates/mozilla/*.crt | head -1 | xargs cat > {wrong}; mkdir -p {wrong_dir};"
        f" cp {wrong} {wrong_dir}/"
    )
    name = fresh("ca")
    client_site.run(name, env=f"SSL_CERT_FILE={wrong} SSL_CERT_DIR={wrong_dir} REQUESTS_CA_BUNDLE={wrong}", timeout=60)
    assert client_site.object_sha256(name) is None, "a run that trusts another CA uploaded"
    assert client_site.kept(name) is None, "a run that trusts another CA reached the stand-in"


def test_a_blocked_bucket_port_gets_no_file_in(client_site):
    port = client_site.bucket()["endpoint"].rsplit(":", 1)[1]
    host = client_site.host
    host.check_output(
        "nft add table inet lab_block && nft add chain inet lab_block out '{ type filter hook output priority 0; }'"
        f" && nft add rule inet lab_block out tcp dport {port} reject"
    )
    try:
        name = fresh("port")
        # The SDK retries a refused upload until it is stopped; a run that can upload has its file in within a few
        # seconds (test_a_real_run_arrives: about 4 s), so 30 s is ample time for one to arrive.
        client_site.run(name, timeout=30)
        assert client_site.object_sha256(name) is None, "a run uploaded with the bucket's port blocked"
    finally:
        host.run("nft delete table inet lab_block")


def test_a_wrong_api_key_gets_nothing_in(client_site):
    name = fresh("key")
    client_site.run(name, env="WANDB_API_KEY=" + "x" * 40, timeout=60)
    assert client_site.object_sha256(name) is None, "a run with a wrong key uploaded"
    assert client_site.kept(name) is None, "a run with a wrong key reached the stand-in"


def test_cors_preflight_allows_the_host_origin_only(client_site):
    allowed = client_site.preflight(client_site.base)
    assert re.search(r"^http/\S+ 20[04]", allowed), allowed
    assert f"access-control-allow-origin: {client_site.base}" in allowed, allowed
    other = client_site.preflight("https://elsewhere.example.net")
    assert "access-control-allow-origin: https://elsewhere.example.net" not in other, other
    assert "access-control-allow-origin: *" not in other, other


# The checks of `wandb verify` a deployment is judged on without the real server's read APIs
# (docs/clients.md lists the others and why the stand-in does not answer them).
VERIFY_DEPLOYMENT_CHECKS = (
    "Checking if logged in",
    "Checking signed URL upload",
    "Checking ability to send large payloads through proxy",
    "Checking requests to base url",
    "Checking requests made over signed URLs",
    "Checking CORs configuration of the bucket",
)
VERIFY_LINE = re.compile(r"^(Checking .*?)\.{3,}(.*)$")


def verify_results(output):
    """{check: passed} from wandb verify's output lines ("Checking ...........✅")."""
    return {m[1]: "\u2705" in m[2] for m in map(VERIFY_LINE.match, output.splitlines()) if m}


def test_wandb_verify_deployment_checks_pass(client_site):
    verify = client_site.sdk(f"{SDK}/wandb verify --host {client_site.base}", timeout=300)
    results = verify_results(verify.stdout)
    missing = {check: results.get(check) for check in VERIFY_DEPLOYMENT_CHECKS if not results.get(check)}
    assert not missing, f"{missing}\n{verify.stdout[-4000:]}\n{verify.stderr[-4000:]}"
