# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tiers strategy, run by ansible-playbook on local hosts, judged by the order its tasks ran in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.wandb_local.fleet.plugins.strategy.tiers import assign_lanes, pattern_groups

FIXTURES = Path(__file__).parent / "fixtures"
TIERS = "wandb_local.fleet.tiers"


def run_play(tmp_path, strategy, **extra):
    log = tmp_path / "steps.log"
    extra_vars = {"strategy_under_test": strategy, "log": str(log), **extra}
    env = dict(
        os.environ,
        ANSIBLE_ROLES_PATH=str(FIXTURES / "roles"),
        ANSIBLE_FORKS="10",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            str(FIXTURES / "inventory.ini"),
            str(FIXTURES / "play.yml"),
            "-e",
            json.dumps(extra_vars),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    steps = []
    for line in log.read_text().splitlines() if log.exists() else []:
        host, tier, step, what, stamp = line.split()
        steps.append({"host": host, "tier": tier, "step": step, "what": what, "at": float(stamp)})
    return proc, steps


def at(steps, tier, step, what, host=None):
    return [
        s["at"]
        for s in steps
        if s["tier"] == tier and s["step"] == step and s["what"] == what and host in (None, s["host"])
    ]


def hosts_of(steps, tier, step):
    """The hosts that started a step."""
    return sorted(s["host"] for s in steps if s["tier"] == tier and s["step"] == step and s["what"] == "start")


def test_pattern_groups_keeps_plain_group_names_only():
    known = {"wandb_mysql": 1, "wandb_redis": 1, "wandb_minio": 1, "all": 1}
    assert pattern_groups("wandb_mysql:wandb_redis,!wandb_minio:&all:web*", known) == ["wandb_mysql", "wandb_redis"]
    assert pattern_groups(["wandb_minio", "somehost"], known) == ["wandb_minio"]


def test_lanes_join_tiers_that_share_a_host():
    lanes = assign_lanes(
        {"m": ["all", "mysql"], "r": ["redis"], "mr": ["mysql", "minio"], "x": ["other"], "s": ["minio"]},
        ["mysql", "redis", "minio"],
    )
    assert lanes == {"m": "minio+mysql", "r": "redis", "mr": "minio+mysql", "x": "", "s": "minio+mysql"}
    # One host in every tier: one lane, as linear runs it.
    assert set(assign_lanes({"aio": ["mysql", "redis"]}, ["mysql", "redis"]).values()) == {"mysql+redis"}


@pytest.fixture(scope="module")
def tiers_run(tmp_path_factory):
    return run_play(tmp_path_factory.mktemp("tiers"), TIERS)


def sleeps(steps, tier):
    """The (start, end) of each sleep a tier's hosts ran."""
    return [
        (start, end)
        for step in ("one", "two")
        for host in hosts_of(steps, tier, step)
        for start, end in zip(at(steps, tier, step, "start", host), at(steps, tier, step, "end", host), strict=True)
    ]


def overlapping(steps, tier, other):
    return [(a, b) for a in sleeps(steps, tier) for b in sleeps(steps, other) if a[0] < b[1] and b[0] < a[1]]


def test_tiers_run_side_by_side(tiers_run):
    proc, steps = tiers_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # Lane b is a step behind lane a (it skipped a's include first), and its sleeps run beside a's.
    assert overlapping(steps, "a", "b")


def test_tiers_keep_lockstep_within_a_lane(tiers_run):
    _proc, steps = tiers_run
    assert hosts_of(steps, "a", "one") == ["a1", "a2"]
    # Both hosts of lane a end step one before either starts step two (as linear keeps a tier).
    assert max(at(steps, "a", "one", "end")) < min(at(steps, "a", "two", "start"))
    # Tiers c and d share host cd1: one lane, its three hosts in lockstep.
    assert hosts_of(steps, "cd", "two") == ["c1", "cd1", "d1"]
    assert max(at(steps, "cd", "one", "end")) < min(at(steps, "cd", "two", "start"))


def test_run_once_runs_once_per_lane_and_its_result_reaches_the_lane_only(tiers_run):
    _proc, steps = tiers_run
    assert len(at(steps, "a", "once", "start")) == 1
    assert len(at(steps, "b", "once", "start")) == 1
    assert len(at(steps, "cd", "once", "start")) == 1
    # Every host of a lane has its own lane's registered result, not another lane's (the three lanes register
    # the same name at about the same moment).
    seen = {s["host"]: s["what"] for s in steps if s["step"] == "saw"}
    assert seen == {"a1": "a", "a2": "a", "b1": "b", "c1": "cd", "cd1": "cd", "d1": "cd"}


def test_handlers_flush_per_lane(tiers_run):
    _proc, steps = tiers_run
    for tier, hosts in (("a", ["a1", "a2"]), ("b", ["b1"]), ("cd", ["c1", "cd1", "d1"])):
        assert sorted(host for host in hosts_of(steps, "handler", "ran") if host in hosts) == hosts
        ran = [stamp for host in hosts for stamp in at(steps, "handler", "ran", "start", host)]
        assert max(ran) < min(at(steps, tier, "two", "start"))


def test_the_play_goes_on_after_every_lane(tiers_run):
    _proc, steps = tiers_run
    assert hosts_of(steps, "play", "after") == ["a1", "a2", "b1", "c1", "cd1", "d1"]


def test_linear_does_not_overlap_the_tiers(tmp_path):
    # The overlap test above could fail: under linear, lane b starts after lane a is done.
    proc, steps = run_play(tmp_path, "linear")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert sleeps(steps, "a") and sleeps(steps, "b")
    assert not overlapping(steps, "a", "b")
    assert min(at(steps, "b", "one", "start")) > max(at(steps, "a", "three", "start"))


def test_a_failing_host_stops_alone(tmp_path):
    proc, steps = run_play(tmp_path, TIERS, fail_on=["a2"])
    assert proc.returncode == 2
    assert hosts_of(steps, "a", "three") == ["a1"]
    assert hosts_of(steps, "b", "three") == ["b1"]
    assert "a2" not in hosts_of(steps, "play", "after")


def test_any_errors_fatal_stops_every_lane(tmp_path):
    proc, steps = run_play(tmp_path, TIERS, fail_on=["a2"], fatal=True)
    assert proc.returncode == 2
    assert hosts_of(steps, "a", "three") == []
    # Lane b stops too (a task it had started when a2 failed may end); lane cd (0.2 s steps) may have ended the
    # play already: a lane cannot take back what it did before another lane failed.
    assert not {"a1", "a2", "b1"} & set(hosts_of(steps, "play", "after"))
