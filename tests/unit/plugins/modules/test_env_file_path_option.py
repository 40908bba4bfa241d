# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`path`, the environment file, is one option shared by the modules of group/wandb_local.fleet.wandb
that read or write it, so one module_defaults entry reaches all of them."""

from __future__ import annotations

import pytest
from harness import run_module

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import DEFAULT_PATH, path_option
from ansible_collections.wandb_local.fleet.plugins.modules import restore_mode
from ansible_collections.wandb_local.fleet.plugins.modules import settings as settings_module


class _Captured(Exception):
    pass


def argument_spec_of(module, monkeypatch):
    seen = {}

    def capture(argument_spec, **_kwargs):
        seen.update(argument_spec)
        raise _Captured

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(_Captured):
        module.main()
    return seen


@pytest.mark.parametrize("module", [settings_module, restore_mode], ids=["settings", "restore_mode"])
def test_each_module_takes_the_one_shared_path_option(module, monkeypatch):
    spec = argument_spec_of(module, monkeypatch)
    assert spec["path"] == path_option()
    assert not [name for name in spec if name != "path" and "path" in name], "one name for the env file"


def test_the_shared_option():
    assert path_option() == {"type": "path", "default": DEFAULT_PATH, "aliases": ["settings_path"]}
    assert DEFAULT_PATH == "/etc/wandb/wandb.env"
    path_option()["aliases"].append("changed")
    assert path_option()["aliases"] == ["settings_path"], "each module gets its own copy"


def test_settings_takes_the_alias_too(tmp_path):
    env_file = tmp_path / "wandb.env"
    result = run_module(settings_module.main, {"settings_path": str(env_file), "settings": {"LOGGING_ENABLED": True}})
    assert not result.failed, result
    assert "LOGGING_ENABLED=true\n" in env_file.read_text()
