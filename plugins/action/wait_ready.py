# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Wait for a starting W&B server's /ready, showing progress at every poll (plugins/modules/wait_ready.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.wandb_local.fleet.plugins.module_utils._wait_ready import (
    STATE_COMMAND,
    answer_text,
    fragments_of,
    give_up_reason,
    parse_state,
    progress_line,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_redact import redact_text

display = Display()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("url", "container", "timeout", "interval", "max_restarts", "env"))

    def _poll(self, task_vars, url, container):
        answer = self._execute_module(
            module_name="ansible.builtin.uri",
            module_args={"url": url, "status_code": list(range(100, 600)), "timeout": 10, "return_content": True},
            task_vars=task_vars,
        )
        state = self._execute_module(
            module_name="ansible.builtin.command",
            module_args={"argv": ["sh", "-c", STATE_COMMAND, "sh", container]},
            task_vars=task_vars,
        )
        status = answer.get("status", -1)
        return (
            status,
            answer_text(status, answer.get("content") or answer.get("json")),
            parse_state(state.get("stdout")),
        )

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        url, container = args.get("url"), args.get("container", "wandb-local")
        timeout, interval = float(args.get("timeout", 1800)), float(args.get("interval", 5))
        max_restarts = int(args.get("max_restarts", 3))
        fragments = fragments_of(args.get("env"))
        host = task_vars.get("inventory_hostname", "?")
        if not url:
            return dict(result, failed=True, msg="wait_ready needs url")
        result["changed"] = False
        if self._play_context.check_mode:
            return dict(result, skipped=True, msg="not waited for in check mode")
        started = time.time()
        baseline = None
        polls = 0
        while True:
            polls += 1
            status, answer, state = self._poll(task_vars, url, container)
            elapsed = time.time() - started
            baseline = state["restarts"] if baseline is None else baseline
            line = progress_line(host, elapsed, answer, state, fragments)
            result.update(
                status=status,
                elapsed=round(elapsed, 1),
                polls=polls,
                answer=answer,
                container=state["status"],
                restarts=state["restarts"] - baseline,
                last_log=redact_text(state["last_log"], fragments),
            )
            if status == 200:
                display.display(line.replace("waiting for /ready", "ready"))
                result["ready"] = True
                result["msg"] = "%s answered 200 after %ds" % (url, int(elapsed))
                return result
            display.display(line)
            reason = give_up_reason(state, baseline, max_restarts)
            if not reason and elapsed + interval > timeout:
                reason = "not ready within %ds" % int(timeout)
            if reason:
                result.update(failed=True, ready=False, reason=reason)
                result["msg"] = "%s did not become ready: %s; last answer %s%s" % (
                    container,
                    reason,
                    answer,
                    ("; last log line: " + result["last_log"]) if result["last_log"] else "",
                )
                return result
            time.sleep(interval)
