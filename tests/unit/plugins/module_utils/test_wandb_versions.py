# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The version preflight: ordering of real wandb/local tags, withdrawn releases, downgrades, schemas."""

from __future__ import annotations

import pytest

from ansible_collections.wandb_local.fleet.plugins.filter.wandb_versions import upgrade_preflight
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_versions import (
    compare_versions,
    image_tag,
    is_version,
    parse_schema,
    preflight,
)

WITHDRAWN = [{"version": "0.78.0", "reason": "artifact access bug"}, {"version": "0.78.1", "reason": "same"}]


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("0.62.2", "0.62.2", 0),
        ("0.10.0", "0.9.1", 1),
        ("v0.83.0", "0.83.0", 0),
        ("0.83", "0.83.0", 0),
        ("0.83.1", "0.83.0", 1),
        ("0.84.0-rc1", "0.84.0", -1),
        ("0.84.0-rc.2", "0.84.0-rc.10", -1),
        ("0.84.0-rc.1", "0.84.0-beta", 1),
        ("0.4.0-broken", "0.3.0", 1),
        ("0.83.0+build.7", "0.83.0", 0),
    ],
)
def test_versions_order_as_semver(a, b, want):
    assert compare_versions(a, b) == want
    # And the other way round (the arguments swapped on purpose).
    first, second = b, a
    assert compare_versions(first, second) == -want


@pytest.mark.parametrize("tag", ["latest", "nightly", "", "0.83.x", "sha256:abc", "0.83.0.1", "v", "prod-0.83"])
def test_tags_that_are_no_version(tag):
    assert not is_version(tag)
    with pytest.raises(ValueError):
        compare_versions(tag, "0.1.0")


def test_image_tag():
    assert image_tag("wandb/local:0.83.0") == "0.83.0"
    assert image_tag("registry.lab:5000/wandb/local:v0.62.2") == "v0.62.2"
    assert image_tag("registry.lab:5000/wandb/local") == ""
    assert image_tag("wandb/local:0.83.0@sha256:00") == "0.83.0"


def test_schema_records():
    assert parse_schema(None) is None
    assert parse_schema("  ") is None
    assert parse_schema("0.2.0") == {"raw": "0.2.0", "version": "0.2.0", "migration": None, "dirty": False}
    assert parse_schema("0.4.0-broken 1")["dirty"] is True
    assert parse_schema("123 0") == {"raw": "123 0", "version": None, "migration": 123, "dirty": False}
    assert parse_schema("124 1")["dirty"] is True


def test_upgrade_passes_and_says_so():
    plan = preflight("0.2.0", ["0.1.0"], "0.1.0", WITHDRAWN)
    assert plan["problems"] == []
    assert plan["direction"] == "upgrade"
    assert plan["running"] == "0.1.0"


def test_same_version_is_same():
    assert preflight("0.2.0", ["0.2.0", "0.2.0"], "0.2.0 0")["direction"] == "same"


def test_a_fresh_site_is_an_install():
    plan = preflight("0.83.0", [], "")
    assert plan["direction"] == "install"
    assert plan["problems"] == []
    assert "records no schema version" in plan["notes"][0]


def test_older_than_the_running_container_is_refused():
    plan = preflight("0.1.0", ["0.2.0"], None)
    assert plan["direction"] == "downgrade"
    (problem,) = plan["problems"]
    assert "0.1.0 is older than what this site has: the server runs 0.2.0" in problem
    assert "wandb_upgrade_allow_downgrade" in problem


def test_older_than_the_schema_is_refused_even_when_the_container_is_older():
    # A container put back by hand on an older image: the database still holds the newer schema.
    plan = preflight("0.1.0", ["0.1.0"], "0.2.0")
    assert plan["direction"] == "downgrade"
    assert "the database schema was written by 0.2.0" in plan["problems"][0]


def test_the_newest_running_tag_counts():
    # A standby left on a newer image (an upgrade stopped half-way).
    assert preflight("0.2.0", ["0.2.0", "0.3.0"], None)["direction"] == "downgrade"


def test_downgrade_needs_both_the_override_and_a_backup():
    assert preflight("0.1.0", ["0.2.0"], allow_downgrade=True)["problems"]
    assert preflight("0.1.0", ["0.2.0"], downgrade_backup="20260101T000000Z")["problems"]
    plan = preflight("0.1.0", ["0.2.0"], allow_downgrade=True, downgrade_backup="20260101T000000Z")
    assert plan["problems"] == []
    assert "backup 20260101T000000Z" in plan["notes"][-1]


@pytest.mark.parametrize("target", ["0.78.0", "0.78.1", "v0.78.1"])
def test_withdrawn_releases_are_refused(target):
    (problem,) = preflight(target, ["0.77.0"], None, WITHDRAWN)["problems"]
    assert "list of releases not to install (artifact access bug)" in problem or "(same)" in problem


def test_withdrawn_list_of_plain_strings():
    assert preflight("0.3.0", [], None, ["0.3.0"])["problems"]
    assert not preflight("0.78.2", [], None, WITHDRAWN)["problems"]


@pytest.mark.parametrize("target", ["latest", "nightly", "corp-mirror"])
def test_a_target_that_is_no_version_is_refused(target):
    (problem,) = preflight(target, ["0.1.0"], None)["problems"]
    assert "is not a release version" in problem


def test_a_running_tag_that_is_no_version_is_noted_and_skipped():
    plan = preflight("0.2.0", ["latest"], "0.1.0")
    assert plan["problems"] == []
    assert plan["running"] is None
    assert plan["direction"] == "upgrade"
    assert any("latest" in note for note in plan["notes"])


def test_a_dirty_schema_is_refused():
    plan = preflight("0.2.0", ["0.2.0"], "0.4.0-broken 1")
    assert any("dirty" in p for p in plan["problems"])
    plan = preflight("0.84.0", ["0.83.0"], "124 1")
    assert any("dirty" in p for p in plan["problems"])


def test_a_migration_number_is_not_compared():
    plan = preflight("0.84.0", ["0.83.0"], "124 0")
    assert plan["problems"] == []
    assert any("names no release" in note for note in plan["notes"])


def test_filter_reads_tags_of_image_references():
    plan = upgrade_preflight("0.1.0", images=["wandb-fleet-lab/wandb-standin:0.2.0"], withdrawn=WITHDRAWN)
    assert plan["direction"] == "downgrade"
    assert plan["running"] == "0.2.0"
