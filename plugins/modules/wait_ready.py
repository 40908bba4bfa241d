#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: wait_ready
short_description: Wait for a starting W&B server's /ready, showing progress at every poll
version_added: 0.3.0
description:
  - Asks O(url) (the server's C(/ready) on its host) every O(interval) seconds until it answers 200, printing at every
    poll the elapsed time, the answer (and what the server says failed), the container's state and restart count, and
    its last log line (secrets masked), so a long migration is visible instead of a silent retry count.
  - Gives up at once when the container does not exist, has stopped, or restarted O(max_restarts) times since the
    wait began (a crash loop), and after O(timeout) seconds otherwise; the failure says which, with the last answer and
    log line.
  - An action plugin. The polling runs on the controller, each poll runs M(ansible.builtin.uri) and one C(docker)
    command on the host.
author:
  - wandb_local.fleet maintainers (@wandb-local)
options:
  url:
    description: The server's C(/ready) URL as the host reaches it.
    type: str
    required: true
  container:
    description: The server container's name.
    type: str
    default: wandb-local
  timeout:
    description: Seconds to wait; migrations of a large instance take 10-20 minutes.
    type: float
    default: 1800
  interval:
    description: Seconds between polls.
    type: float
    default: 5
  max_restarts:
    description: Give up after this many container restarts during the wait (0 never).
    type: int
    default: 3
  env:
    description: The server's environment (name to value); its secrets are masked in every line shown.
    type: dict
    default: {}
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
attributes:
  check_mode:
    support: partial
    details:
      - Waits for nothing in check mode (skipped).
  diff_mode:
    support: none
notes:
  - Run it with C(no_log) when O(env) holds secrets (the lines it prints are masked already) and repeat a failure's
    message through M(ansible.builtin.fail).
"""

EXAMPLES = r"""
- name: Wait for the server, showing progress
  wandb_local.fleet.wait_ready:
    url: http://127.0.0.1:8080/ready
    container: wandb-local
    timeout: 1800
"""

RETURN = r"""
ready:
  description: Whether /ready answered 200.
  returned: always
  type: bool
elapsed:
  description: Seconds waited.
  returned: always
  type: float
polls:
  description: Polls made.
  returned: always
  type: int
answer:
  description: The last answer, for example C(HTTP 503 (migrations - pending)).
  returned: always
  type: str
container:
  description: The container's last state (running, restarting, exited, missing).
  returned: always
  type: str
restarts:
  description: Container restarts during the wait.
  returned: always
  type: int
last_log:
  description: The container's last log line, secrets masked.
  returned: always
  type: str
reason:
  description: Why the wait gave up.
  returned: failed
  type: str
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    # The options as documented; the action plugin does the work (this runs only if called directly).
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            container=dict(type="str", default="wandb-local"),
            timeout=dict(type="float", default=1800),
            interval=dict(type="float", default=5),
            max_restarts=dict(type="int", default=3),
            env=dict(type="dict", default={}, no_log=True),
        ),
        supports_check_mode=True,
    )
    module.fail_json(msg="wandb_local.fleet.wait_ready runs as an action plugin on the controller")


if __name__ == "__main__":
    main()
