"""execution-environment.yml is a valid ansible-builder 3 definition that installs this release of
the collection (the tarball `make build` names after galaxy.yml's version) with the ansible-core and
ansible-runner the tests use, and the lab's variant of it (tests/lab/ee/lab_ee.py) changes only the
base image and where the collections come from. The image itself is built and used in the
all-in-one scenario (molecule/all-in-one/tests/test_execution_environment.py)."""

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1].parent
ee_schema = pytest.importorskip("ansible_builder.ee_schema", reason="ansible-builder comes with tests/requirements.txt")


def definition():
    return yaml.safe_load((REPO / "execution-environment.yml").read_text())


def pin(name, requirements="requirements.txt"):
    found = re.search(rf"^{re.escape(name)}==(\S+)", (REPO / requirements).read_text(), re.MULTILINE)
    assert found, f"{requirements} pins no {name}"
    return f"{name}=={found.group(1)}"


def test_the_definition_passes_ansible_builders_schema():
    ee_schema.validate_schema(definition())


def test_the_collection_comes_from_the_tarball_of_this_release():
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    tarball = f"wandb_local-fleet-{version}.tar.gz"
    ee = definition()
    assert ee["dependencies"]["galaxy"]["collections"] == [{"name": f"collections/{tarball}", "type": "file"}]
    assert ee["additional_build_files"] == [{"src": f"build/dist/{tarball}", "dest": "collections"}]


def test_ansible_core_and_runner_are_the_tested_releases():
    dependencies = definition()["dependencies"]
    assert dependencies["ansible_core"]["package_pip"] == pin("ansible-core")
    assert dependencies["ansible_runner"]["package_pip"] == pin("ansible-runner", "tests/requirements.txt")


def test_the_collection_carries_the_dependency_files_the_builder_reads():
    # ansible-builder reads requirements.txt and bindep.txt from the installed collection's root.
    for name in ("requirements.txt", "bindep.txt"):
        assert (REPO / name).is_file()
    assert "bindep.txt" not in yaml.safe_load((REPO / "galaxy.yml").read_text()).get("build_ignore", [])


def test_the_lab_variant_changes_only_the_base_image_and_the_collection_sources(tmp_path):
    out = tmp_path / "lab.yml"
    tarballs = [tmp_path / "wandb_local-fleet-0.0.1.tar.gz", tmp_path / "community-docker-1.0.0.tar.gz"]
    subprocess.run(
        [sys.executable, str(REPO / "tests/lab/ee/lab_ee.py"), "definition", str(REPO / "execution-environment.yml")]
        + [str(out), "lab/base:1"]
        + [str(t) for t in tarballs],
        check=True,
    )
    lab, shipped = yaml.safe_load(out.read_text()), definition()
    ee_schema.validate_schema(copy.deepcopy(lab))  # it fills in defaults
    assert lab["images"]["base_image"]["name"] == "lab/base:1"
    assert lab["dependencies"]["galaxy"]["collections"] == [
        {"name": f"collections/{t.name}", "type": "file"} for t in tarballs
    ]
    assert lab["build_arg_defaults"] == {"ANSIBLE_GALAXY_CLI_COLLECTION_OPTS": "--offline"}
    for key in ("images", "additional_build_files", "build_arg_defaults"):
        lab.pop(key), shipped.pop(key, None)
    lab["dependencies"].pop("galaxy"), shipped["dependencies"].pop("galaxy")
    assert lab == shipped
