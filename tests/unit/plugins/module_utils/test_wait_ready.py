# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the wait_ready action shows at each poll and when it gives up."""

from __future__ import annotations

import json
import subprocess

from ansible_collections.wandb_local.fleet.plugins.module_utils._wait_ready import (
    STATE_COMMAND,
    answer_text,
    fragments_of,
    give_up_reason,
    parse_state,
    progress_line,
)


def test_state_of_a_running_container():
    state = parse_state("running 0 0\n2026/12/02 17:00:00 migrations: simulating 30s of schema migrations\n")
    assert state == {
        "status": "running",
        "restarts": 0,
        "exit_code": 0,
        "last_log": "2026/12/02 17:00:00 migrations: simulating 30s of schema migrations",
    }


def test_state_of_a_missing_container():
    assert parse_state("Error: No such container: wandb-local\nError: No such container: wandb-local")["status"] == (
        "missing"
    )
    assert parse_state("")["status"] == "missing"


def test_the_state_command_prints_two_lines_with_a_fake_docker(tmp_path):
    fake = tmp_path / "docker"
    fake.write_text(
        '#!/bin/sh\ncase "$1" in container) echo "restarting 2 1";; logs) printf "a\\nlast one\\n";; esac\n'
    )
    fake.chmod(0o755)
    out = subprocess.run(
        ["sh", "-c", STATE_COMMAND, "sh", "wandb-local"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "%s:/usr/bin:/bin" % tmp_path},
    ).stdout
    assert parse_state(out) == {"status": "restarting", "restarts": 2, "exit_code": 1, "last_log": "last one"}


def test_answer_names_what_failed():
    body = json.dumps({"status": "not ready", "failed": ["migrations"], "checks": {"migrations": "pending"}})
    assert answer_text(503, body) == "HTTP 503 (migrations: pending)"
    assert answer_text(200, "{}") == "HTTP 200"
    assert answer_text(-1, None) == "no answer"
    assert answer_text(502, "<html>bad gateway</html>") == "HTTP 502"


def test_give_up_on_a_stopped_missing_or_crash_looping_container():
    running = {"status": "running", "restarts": 1, "exit_code": 0, "last_log": ""}
    assert give_up_reason(running, 1, 3) == ""
    assert "crash loop" in give_up_reason(dict(running, status="restarting", restarts=4), 1, 3)
    assert "exit code 1" in give_up_reason(dict(running, status="exited", exit_code=1), 0, 3)
    assert "does not exist" in give_up_reason(dict(running, status="missing"), 0, 3)
    assert give_up_reason(dict(running, restarts=9), 0, 0) == ""


def test_progress_line_masks_secrets():
    env = {"MYSQL": "mysql://wandb:s3cr3t-pass@db:3306/wandb_local", "LICENSE": "lic-value-123"}
    state = {"status": "running", "restarts": 2, "exit_code": 0, "last_log": "connect mysql://wandb:s3cr3t-pass@db"}
    line = progress_line("app1", 12.7, "HTTP 503", state, fragments_of(env))
    assert line.startswith("[app1] waiting for /ready: 12s, HTTP 503, container running (2 restarts), last log line:")
    assert "s3cr3t-pass" not in line
    restore = dict(state, last_log="Restore mode: log in with username: restore password: Abc123xyz")
    assert "Abc123xyz" not in progress_line("app1", 1, "HTTP 503", restore, ())
