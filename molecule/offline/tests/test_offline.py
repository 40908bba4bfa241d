"""An air-gapped site installed from an offline bundle (docs/air-gapped.md): its hosts reach no package source,
every package came from the bundle's signed repository, W&B answers through the proxy, a training host logs a
real run with the SDK from the bundle's wheels; a corrupted or foreign bundle is refused before any host is
touched; a second build of the bundle changes nothing and a package no source has stops the build naming it."""

import json
import os
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import client_contract
import proxy_contract
import pytest
from client_contract import ClientSite
from lab_playbook import lab_host, run_playbook
from proxy_contract import ProxySite

testinfra_hosts = ["ansible://offline"]

CA = "/etc/nginx/wandb-tls/ca.crt"
ROOT = "/var/lib/wandb-offline"
BUNDLE = Path(os.environ["WANDB_LAB_CACHE"]).expanduser() / "bundles" / "lab"

test_ready_through_the_proxy_with_every_tier = proxy_contract.test_ready_through_the_proxy_with_every_tier
test_a_real_run_arrives = client_contract.test_a_real_run_arrives


@pytest.fixture
def proxy_site(host):
    return ProxySite(host, "offline", CA)


@pytest.fixture(scope="module")
def client_site():
    return ClientSite(client="offline-client", minio="offline", proxy="offline")


# Prints every source a host reaches (shared with prepare.yml).
PROBE = (Path(__file__).resolve().parent.parent / "reach.py").read_text()


@pytest.mark.parametrize("name", ["offline", "offline-client"])
def test_the_hosts_reach_no_package_source(name):
    # By name, and by the addresses this machine (which reaches them) resolves: no name and no route.
    targets = ["deb.debian.org", "pypi.org", "files.pythonhosted.org"]
    addresses = sorted({info[4][0] for target in targets for info in socket.getaddrinfo(target, 80, socket.AF_INET)})
    assert addresses, "this machine resolves none of the package sources: the test would prove nothing"
    probe = lab_host(name).run(f"python3 -c {shlex.quote(PROBE)} " + " ".join(targets + addresses))
    assert probe.rc == 0 and probe.stdout.strip() == "", f"reached {probe.stdout}{probe.stderr}"


@pytest.mark.parametrize("name", ["offline", "offline-client"])
def test_every_package_came_from_the_bundle(name):
    host = lab_host(name)
    # The host's own package lists were never filled (its sources are out of reach), so apt installed from
    # the bundle's configuration only.
    assert not host.run("ls /var/lib/apt/lists/ | grep -q _Packages").succeeded
    packages = {"offline": ["mysql-server", "docker.io", "redis-server", "nginx"], "offline-client": ["python3-venv"]}[
        name
    ]
    for package in packages:
        assert host.package(package).is_installed, package
        policy = host.check_output(f"APT_CONFIG={ROOT}/apt.conf apt-cache policy {package}")
        assert "file:/var/lib/wandb-offline/repo" in policy, policy


def test_apt_trusts_the_repository_by_its_key_only(host):
    sources = host.file(f"{ROOT}/sources.list.d/wandb-offline.sources").content_string
    assert f"Signed-By: {ROOT}/signing-key.asc" in sources
    assert "trusted" not in sources.lower()
    # An index whose signature no longer matches is refused: apt checks it, not only our manifest.
    tampered = f"{ROOT}.tampered"
    host.run(f"rm -rf {tampered} && cp -a {ROOT} {tampered}")
    try:
        host.check_output(
            f"sed -i 's/^Suite: sid$/Suite: sid-tampered/' {tampered}/repo/dists/sid/InRelease"
            f" && sed -i 's#{ROOT}#{tampered}#g' {tampered}/apt.conf {tampered}/sources.list.d/wandb-offline.sources"
            f" && rm -rf {tampered}/lists/*"
        )
        update = host.run(f"APT_CONFIG={tampered}/apt.conf apt-get update -q -o APT::Update::Error-Mode=any")
        assert update.rc != 0 and "sid" in update.stdout + update.stderr, update.stdout + update.stderr
        good = host.run(f"APT_CONFIG={ROOT}/apt.conf apt-get update -q -o APT::Update::Error-Mode=any")
        assert good.rc == 0, good.stderr
    finally:
        host.run(f"rm -rf {tampered}")


def copy_of_the_bundle(tmp_path):
    """A copy of the lab bundle (hard links: the tests replace files, never write into them)."""
    copy = tmp_path / "bundle"
    subprocess.run(["cp", "-al", str(BUNDLE), str(copy)], check=True)
    return copy


def host_state(name):
    host = lab_host(name)
    return host.check_output(
        f"stat -c '%n %Y %s' {ROOT}/bundle.sha256 {ROOT}/apt.conf /etc/wandb/wandb.env 2>/dev/null || true"
    )


def test_a_corrupted_bundle_is_refused_before_any_host_is_touched(tmp_path):
    copy = copy_of_the_bundle(tmp_path)
    victim = copy / "bin" / "mc"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.unlink()  # a new file: the hard link to the cached bundle stays as it was
    victim.write_bytes(bytes(data))
    before = host_state("offline")
    run = run_playbook(extra_vars={"wandb_offline_bundle": str(copy)})
    assert run.returncode != 0, run.tail()
    assert "bin/mc: sha256" in run.output and "nothing was installed" in run.output, run.tail()
    assert not any(run.changed.values()), run.changed
    # The failing check is the first task of the run: no host task ran after it.
    assert "TASK [wandb_local.fleet.offline : Read the host's release]" not in run.output, run.tail()
    assert host_state("offline") == before


def test_a_bundle_of_another_collection_version_is_refused(tmp_path):
    copy = copy_of_the_bundle(tmp_path)
    manifest_path = copy / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["collection"]["version"] = "0.0.1"
    manifest_path.unlink()
    manifest_path.write_text(json.dumps(manifest))
    run = run_playbook(extra_vars={"wandb_offline_bundle": str(copy)})
    assert run.returncode != 0, run.tail()
    assert "collection.version: the bundle was made for wandb_local.fleet 0.0.1" in run.output, run.tail()
    assert not any(run.changed.values()), run.changed


def test_building_the_bundle_again_changes_nothing():
    run = run_playbook("../../playbooks/bundle.yml")
    assert run.returncode == 0, run.tail()
    assert run.changed.get("localhost") == 0, run.tail()
    assert "nothing changed" in run.output, run.tail()


def test_a_package_no_source_has_stops_the_build_naming_it(tmp_path):
    target = tmp_path / "missing"
    run = run_playbook(
        "../../playbooks/bundle.yml",
        extra_vars={
            "wandb_offline_bundle": str(target),
            "wandb_offline_bundle_packages": ["nginx", "no-such-package-wandb"],
        },
    )
    assert run.returncode != 0, run.tail()
    assert "no-such-package-wandb: not in the bundle's sources" in run.output, run.tail()
    assert not (target / "manifest.json").exists()
    shutil.rmtree(str(target) + ".work", ignore_errors=True)
