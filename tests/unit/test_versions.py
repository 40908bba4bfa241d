"""The ansible-core releases the collection claims are the ones it is tested on: the minimum in
meta/runtime.yml and every role's min_ansible_version are the minor that requirements.txt pins
(the only one `make test` runs sanity, unit, integration and Molecule tests on)."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1].parent


def tested_minor():
    pin = re.search(r"^ansible-core==(\d+)\.(\d+)\.\d+", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert pin, "requirements.txt pins no ansible-core release"
    return "%s.%s" % pin.groups()


def test_requires_ansible_is_the_tested_minor():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] == ">=%s.0" % tested_minor()


def test_every_role_claims_the_tested_minor():
    minor = tested_minor()
    roles = sorted((REPO / "roles").glob("*/meta/main.yml"))
    assert roles
    for meta in roles:
        claimed = yaml.safe_load(meta.read_text())["galaxy_info"]["min_ansible_version"]
        assert str(claimed) == minor, "%s says min_ansible_version %s, tested is %s" % (meta, claimed, minor)


def test_readme_names_the_tested_minor():
    readme = (REPO / "README.md").read_text()
    requirements = readme.split("## Requirements", 1)[1].split("\n## ", 1)[0]
    assert "ansible-core %s" % tested_minor() in requirements
    assert "2.17" not in requirements
