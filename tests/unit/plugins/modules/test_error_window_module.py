# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The error_window module with a real detached sampler against a local HTTP server that goes down and up."""

from __future__ import annotations

import os
import time

import pytest
from harness import run_module

from ansible_collections.wandb_local.fleet.plugins.module_utils._error_window import sampler_record
from ansible_collections.wandb_local.fleet.plugins.modules import error_window


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "state"
    yield str(path)
    # Never leave a sampler behind, whatever a test did.
    for name in ("wandb", "other"):
        record = sampler_record(str(path), name)
        if record and record["running"]:
            os.kill(record["pid"], 9)


def samples_so_far(state_dir, name="wandb"):
    with open(os.path.join(state_dir, name + ".samples")) as handle:
        return handle.read().splitlines()


def wait_for_samples(state_dir, count, name="wandb"):
    deadline = time.time() + 10
    while len(samples_so_far(state_dir, name)) < count:
        assert time.time() < deadline, "the sampler wrote no samples"
        time.sleep(0.05)


def test_an_outage_between_start_and_stop_is_the_window(ready_site, state_dir):
    started = run_module(
        error_window.main,
        {"state": "started", "url": ready_site.url, "state_dir": state_dir, "interval": 0.05, "timeout": 0.5},
    )
    assert started["changed"] and not started["replaced"]
    record = sampler_record(state_dir, "wandb")
    assert record["running"] and record["pid"] == started["pid"] != os.getpid()
    assert oct(os.stat(state_dir).st_mode & 0o777) == "0o700"
    wait_for_samples(state_dir, 3)
    ready_site.status = 503
    down = time.time()
    time.sleep(1.0)
    ready_site.status = 200
    up = time.time()
    time.sleep(0.3)
    window = run_module(error_window.main, {"state": "stopped", "state_dir": state_dir}, diff=True)
    assert window["changed"] and window["measured"]
    assert window["failed_samples"] >= 10
    assert window["outages"] == 1
    assert 0.7 <= window["window_seconds"] <= (up - down) + 0.2
    assert window["longest_outage_seconds"] == window["window_seconds"]
    assert window["recovered"] is True
    assert window["interval_seconds"] == 0.05
    assert window["summary"].startswith("error window %.1f s through the proxy" % window["window_seconds"])
    assert window["diff"] == {"before": {"sampler": "running"}, "after": {"sampler": "none"}}
    # Stopped and gone: the process and its files.
    assert sampler_record(state_dir, "wandb") is None
    assert os.listdir(state_dir) == []
    deadline = time.time() + 5
    while os.path.exists("/proc/%d" % started["pid"]) and time.time() < deadline:
        with open("/proc/%d/stat" % started["pid"]) as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.05)
    else:
        assert not os.path.exists("/proc/%d" % started["pid"])


def test_a_site_that_never_fails_has_no_window(ready_site, state_dir):
    run_module(error_window.main, {"state": "started", "url": ready_site.url, "state_dir": state_dir, "interval": 0.05})
    wait_for_samples(state_dir, 3)
    window = run_module(error_window.main, {"state": "stopped", "state_dir": state_dir})
    assert window["window_seconds"] == 0.0 and window["failed_samples"] == 0 and window["samples"] >= 3


def test_stopping_with_no_sampler_fails_clearly(state_dir):
    result = run_module(error_window.main, {"state": "stopped", "state_dir": state_dir})
    assert result.failed
    assert "no error-window sampler named 'wandb' runs on" in result["msg"]
    assert "start one with state=started before the operation" in result["msg"]


def test_check_mode_starts_nothing_and_a_check_mode_stop_without_a_sampler_is_no_change(ready_site, state_dir):
    started = run_module(
        error_window.main, {"state": "started", "url": ready_site.url, "state_dir": state_dir}, check_mode=True
    )
    assert started["changed"] and not started["measured"]
    assert not os.path.exists(state_dir)
    stopped = run_module(error_window.main, {"state": "stopped", "state_dir": state_dir}, check_mode=True)
    assert not stopped["changed"] and not stopped["measured"]


def test_check_mode_stop_reads_the_window_so_far_and_leaves_the_sampler_running(ready_site, state_dir):
    run_module(error_window.main, {"state": "started", "url": ready_site.url, "state_dir": state_dir, "interval": 0.05})
    wait_for_samples(state_dir, 2)
    so_far = run_module(error_window.main, {"state": "stopped", "state_dir": state_dir}, check_mode=True)
    assert so_far["measured"] and so_far["samples"] >= 2
    assert sampler_record(state_dir, "wandb")["running"]
    run_module(error_window.main, {"state": "stopped", "state_dir": state_dir})
    assert sampler_record(state_dir, "wandb") is None


def test_a_second_start_replaces_the_running_sampler_and_names_run_side_by_side(ready_site, state_dir):
    first = run_module(error_window.main, {"state": "started", "url": ready_site.url, "state_dir": state_dir})
    other = run_module(
        error_window.main, {"state": "started", "url": ready_site.url, "state_dir": state_dir, "name": "other"}
    )
    second = run_module(error_window.main, {"state": "started", "url": ready_site.url, "state_dir": state_dir})
    assert second["replaced"] and second["pid"] != first["pid"]
    assert sampler_record(state_dir, "other")["pid"] == other["pid"]
    assert sampler_record(state_dir, "other")["running"]
    for name in ("wandb", "other"):
        run_module(error_window.main, {"state": "stopped", "state_dir": state_dir, "name": name})


def test_a_sampler_that_ended_by_itself_fails_the_stop_saying_so(ready_site, state_dir):
    run_module(error_window.main, {"state": "started", "url": ready_site.url, "state_dir": state_dir, "max_seconds": 1})
    deadline = time.time() + 10
    while sampler_record(state_dir, "wandb")["running"]:
        assert time.time() < deadline
        time.sleep(0.1)
    result = run_module(error_window.main, {"state": "stopped", "state_dir": state_dir})
    assert result.failed
    assert "had ended before it was stopped" in result["msg"] and "max_seconds of 1" in result["msg"]
    assert sampler_record(state_dir, "wandb") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"url": "fleet-proxy/ready"}, "url must be an http:// or https:// URL"),
        ({"url": "https://x/ready", "interval": 0}, "interval must be above 0"),
        ({"url": "https://x/ready", "ca_path": "/nonexistent/ca.crt"}, "ca_path /nonexistent/ca.crt is not a file"),
        ({"url": "https://x/ready", "name": "../x"}, "name must be a plain file name"),
        ({}, "state is started but all of the following are missing: url"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_starts_nothing(state_dir, args, message):
    result = run_module(error_window.main, dict({"state": "started", "state_dir": state_dir}, **args))
    assert result.failed
    assert message in result["msg"]
    assert not os.path.exists(state_dir)
