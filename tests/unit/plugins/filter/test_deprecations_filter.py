# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""deprecated_input: a renamed input keeps working for one release and says what to set instead."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from jinja2.runtime import Undefined

from ansible_collections.wandb_local.fleet.plugins.filter import wandb_deprecations


@pytest.fixture
def deprecations(monkeypatch):
    seen = []

    class RecordingDisplay:
        def deprecated(self, msg, version=None, collection_name=None, **kwargs):
            seen.append((msg, version, collection_name))

    monkeypatch.setattr(wandb_deprecations, "Display", RecordingDisplay)
    monkeypatch.setattr(wandb_deprecations, "_warned", set())
    return seen


def test_a_set_value_is_returned_and_warned_about_once(deprecations):
    for _attempt in range(3):
        assert wandb_deprecations.deprecated_input("m:9000", "wandb_old_name", "wandb_new_name") == "m:9000"
    assert deprecations == [
        ("wandb_old_name is deprecated: set wandb_new_name instead (same value)", "0.3.0", "wandb_local.fleet")
    ]


def test_each_renamed_input_warns_for_itself(deprecations):
    wandb_deprecations.deprecated_input({"a": 1}, "wandb_a", "wandb_b")
    wandb_deprecations.deprecated_input(3306, "wandb_c", "wandb_d")
    assert [msg.split()[0] for msg, _version, _collection in deprecations] == ["wandb_a", "wandb_c"]


@pytest.mark.parametrize("unset", [None, "", Undefined()])
def test_an_unset_value_is_empty_and_silent(deprecations, unset):
    assert wandb_deprecations.deprecated_input(unset, "wandb_old_name", "wandb_new_name") == ""
    assert deprecations == []


def test_the_message_never_carries_the_value(deprecations):
    wandb_deprecations.deprecated_input("s3cr3t-value", "wandb_old_password", "wandb_new_password")
    assert "s3cr3t-value" not in deprecations[0][0]


@pytest.mark.parametrize(("old", "new"), [("", "wandb_new"), ("wandb_old", None), ("wandb old", "wandb_new")])
def test_names_must_be_variable_names(deprecations, old, new):
    with pytest.raises(AnsibleFilterError, match=r"deprecated_input: (old|new)_name must be a variable name"):
        wandb_deprecations.deprecated_input("x", old, new)
