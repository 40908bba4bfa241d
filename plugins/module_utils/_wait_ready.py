# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the wait_ready action shows and decides at each poll of a starting W&B server.

Private to the collection: used by plugins/action/wait_ready.py (unit tested on its own).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_redact import known_fragments, redact_text

# The command the action runs on the host each poll: the container's state and restart count on the
# first line, its last log line on the second.
STATE_COMMAND = (
    "docker container inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' \"$1\" 2>&1 | head -n 1;"
    ' docker logs --tail 1 "$1" 2>&1 | tail -n 1'
)


def parse_state(stdout):
    """{'status', 'restarts', 'exit_code', 'last_log'} from the state command's output."""
    lines = (stdout or "").splitlines()
    first = lines[0].split() if lines else []
    state = {"status": "missing", "restarts": 0, "exit_code": None, "last_log": ""}
    if len(first) == 3 and first[1].isdigit():
        state.update(status=first[0], restarts=int(first[1]))
        state["exit_code"] = int(first[2]) if first[2].lstrip("-").isdigit() else None
    state["last_log"] = lines[1].strip() if len(lines) > 1 else ""
    return state


def answer_text(status, body):
    """A short text of /ready's answer: the status and what its JSON says failed."""
    if not status or status == -1:
        return "no answer"
    text = "HTTP %s" % status
    try:
        data = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        data = None
    if isinstance(data, dict) and status != 200:
        failed = data.get("failed") or []
        checks = data.get("checks") or {}
        if failed:
            text += " (%s)" % "; ".join("%s: %s" % (name, checks.get(name, "failed")) for name in failed)
    return text


def give_up_reason(state, baseline_restarts, max_restarts):
    """Why waiting longer is pointless (the container is gone, exited, or crash-loops), or ''."""
    if state["status"] == "missing":
        return "the container does not exist"
    if state["status"] in ("exited", "dead"):
        return "the container stopped (exit code %s)" % state["exit_code"]
    restarts = state["restarts"] - baseline_restarts
    if max_restarts and restarts >= max_restarts:
        return "the container restarted %d times while starting (a crash loop)" % restarts
    return ""


def progress_line(host, elapsed, answer, state, fragments=()):
    line = "[%s] waiting for /ready: %ds, %s, container %s" % (host, int(elapsed), answer, state["status"])
    if state["restarts"]:
        line += " (%d restarts)" % state["restarts"]
    if state["last_log"]:
        line += ", last log line: %s" % state["last_log"]
    return redact_text(line, fragments)


def fragments_of(env):
    return known_fragments(env=env or {})
