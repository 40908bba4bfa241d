# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter import wandb_servers

restore_mode_running = wandb_servers.FilterModule().filters()["restore_mode_running"]

ENV = ["LICENSE=secret-license", "HOST=https://wandb.example.net"]


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ({"exists": True, "container": {"Config": {"Env": [*ENV, "LOCAL_RESTORE=true"]}}}, True),
        ({"exists": True, "container": {"Config": {"Env": ENV}}}, False),
        ({"exists": True, "container": {"Config": {"Env": [*ENV, "LOCAL_RESTORE=false"]}}}, False),
        ({"Config": {"Env": ["LOCAL_RESTORE=1"]}}, True),
        ({"exists": False, "container": None}, False),
        ({"skipped": True, "changed": False}, False),
        ({}, False),
        (None, False),
        ("", False),
    ],
)
def test_restore_mode_running(value, on):
    assert restore_mode_running(value) is on


def test_a_config_that_is_no_mapping_fails():
    with pytest.raises(AnsibleFilterError, match="restore_mode_running"):
        restore_mode_running({"container": {"Config": ["LOCAL_RESTORE=true"]}})
