# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_restore_state import (
    ENV_FILE,
    RUNNING_CONTAINER,
    container_in_restore_mode,
    decide_restore_mode,
    is_restore_value,
    restart_needed,
)

REQUEST = {"HOST": "https://wandb.example.net"}


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("true", True),
        ("1", True),
        ("T", True),
        ("TRUE", True),
        ("false", False),
        ("", False),
        (None, False),
        ("yes", False),
        ("0", False),
    ],
)
def test_restore_values_are_go_booleans(value, on):
    assert is_restore_value(value) is on


@pytest.mark.parametrize(
    ("env", "on"),
    [
        (None, False),
        ([], False),
        (["PATH=/usr/bin", "LOCAL_RESTORE=true"], True),
        (["LOCAL_RESTORE=false"], False),
        (["LOCAL_RESTORE"], False),
        (["LOCAL_RESTORE=true", "LOCAL_RESTORE=false"], False),
        (["XLOCAL_RESTORE=true", "LOCAL_RESTORE_X=true"], False),
    ],
)
def test_container_in_restore_mode(env, on):
    assert container_in_restore_mode(env) is on


def test_keep_leaves_the_files_value_when_the_file_has_it():
    decision = decide_restore_mode({"LOCAL_RESTORE": "1"}, REQUEST, "keep", running=True)
    assert decision.requested == {**REQUEST, "LOCAL_RESTORE": "1"}
    assert decision.found_in == [ENV_FILE, RUNNING_CONTAINER]
    assert decision.kept and not decision.leaving


def test_keep_writes_true_when_only_the_container_runs_in_restore_mode():
    decision = decide_restore_mode({}, REQUEST, "keep", running=True)
    assert decision.requested == {**REQUEST, "LOCAL_RESTORE": "true"}
    assert decision.found_in == [RUNNING_CONTAINER]
    assert decision.running_matches
    assert not restart_needed(["LOCAL_RESTORE"], decision, True), "the file only catches up with the container"
    assert restart_needed(["LOCAL_RESTORE", "HOST"], decision, True)


def test_keep_without_restore_mode_changes_nothing():
    decision = decide_restore_mode({"LOCAL_RESTORE": "false"}, REQUEST, "keep", running=False)
    assert decision.requested == REQUEST
    assert not decision.kept and not decision.was_on


def test_leave_removes_the_variable_and_says_so_only_when_it_was_on():
    decision = decide_restore_mode({"LOCAL_RESTORE": "true"}, REQUEST, "leave")
    assert decision.requested == {**REQUEST, "LOCAL_RESTORE": None}
    assert decision.leaving
    assert not decide_restore_mode({}, REQUEST, "leave").leaving


def test_leave_recreates_a_container_whose_file_no_longer_has_it():
    decision = decide_restore_mode({}, REQUEST, "leave", running=True)
    assert decision.leaving
    assert restart_needed([], decision, False)


def test_ignore_is_the_old_behaviour():
    decision = decide_restore_mode({"LOCAL_RESTORE": "true"}, REQUEST, "ignore", running=True)
    assert decision.requested == REQUEST
    assert not decision.kept and not decision.leaving
    assert decision.was_on


@pytest.mark.parametrize("policy", ["keep", "leave"])
def test_an_explicit_local_restore_always_wins(policy):
    request = {**REQUEST, "LOCAL_RESTORE": "false"}
    decision = decide_restore_mode({"LOCAL_RESTORE": "true"}, request, policy, running=True)
    assert decision.requested == request
    assert not decision.kept and not decision.leaving


def test_the_request_is_not_modified_in_place():
    request = dict(REQUEST)
    decide_restore_mode({"LOCAL_RESTORE": "true"}, request, "keep")
    assert request == REQUEST


def test_unknown_policy():
    with pytest.raises(ValueError, match="keep"):
        decide_restore_mode({}, {}, "forget")
