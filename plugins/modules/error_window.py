#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: error_window
short_description: Measure the error window of a day-2 operation as users see it through the proxy
version_added: 0.1.0
description:
  - A day-2 operation (restore, upgrade, failover) reports how long users got errors. O(state=started) before the
    operation starts a sampler on the managed host (the proxy host) that asks O(url) (the site's C(/ready) through
    the proxy) every O(interval) seconds with a short O(timeout) and writes every answer to a file;
    O(state=stopped) after it stops the sampler and returns the window.
  - The window runs from the first failed sample to the first good sample after the last failed one. A sample is good
    only when the answer is HTTP 200; a timeout, a refused or reset connection, a TLS failure or any other status
    fails it. The times are exact to about one interval plus the timeout.
  - The sampler is a detached process in its own session (it outlives the task and the connection). It ends when
    stopped, or by itself after O(max_seconds), so a playbook that fails half-way leaves nothing running for long.
  - The computation is plain Python in C(plugins/module_utils/_error_window.py), which the benchmark harness imports
    too.
author:
  - wandb_local.fleet maintainers (@wandb-local)
options:
  state:
    description:
      - V(started) starts a sampler named O(name). One of that name that still runs is stopped first and its samples
        are discarded, so each start begins a new measurement.
      - V(stopped) stops the sampler named O(name), removes its files and returns the window. Fails with a clear
        message when no sampler of that name runs (never started, or ended by itself).
    type: str
    required: true
    choices: [started, stopped]
  name:
    description: Name of the measurement; several can run side by side under different names.
    type: str
    default: wandb
  url:
    description:
      - What to ask, for O(state=started), typically C(https://<proxy name>/ready).
      - Required with O(state=started).
    type: str
  ca_path:
    description: CA certificate file on the managed host that verifies O(url); unset, the system's roots.
    type: path
  interval:
    description: Seconds between the starts of two samples (a sample slower than this delays the next).
    type: float
    default: 0.1
  timeout:
    description: Seconds a sample waits for the answer before it counts as failed.
    type: float
    default: 0.5
  max_seconds:
    description: The sampler ends by itself after this many seconds (a stop after that fails, saying so).
    type: int
    default: 7200
  state_dir:
    description: Directory on the managed host for the sampler's record and samples (mode 0700).
    type: path
    default: /run/wandb-error-window
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
  - wandb_local.fleet.attributes.ACTIONGROUP_WANDB
attributes:
  check_mode:
    details:
      - O(state=started) starts nothing and reports a change.
      - O(state=stopped) returns the window so far and leaves the sampler running; with no sampler (the start was
        a check-mode run too) it reports no change and RV(measured=false) instead of failing.
  diff_mode:
    details:
      - The diff says whether a sampler runs before and after.
  idempotent:
    support: partial
    details:
      - Each O(state=started) begins a new measurement (a running sampler is replaced), and each O(state=stopped) ends
        one; both always report a change.
notes:
  - Give the sampler's host the same view of the site as the users have. On the proxy host, the proxy's own name and
    its CA (C(wandb_proxy_tls_dir)/ca.crt with the controller CA) do; the restore playbook shows how.
seealso:
  - module: ansible.builtin.uri
"""

EXAMPLES = r"""
- name: Start measuring before the servers stop
  wandb_local.fleet.error_window:
    state: started
    url: https://wandb.example.com/ready
    ca_path: /etc/nginx/wandb-tls/ca.crt
  delegate_to: "{{ groups['wandb_proxy'][0] }}"

- name: Stop measuring once the site answers again
  wandb_local.fleet.error_window:
    state: stopped
  delegate_to: "{{ groups['wandb_proxy'][0] }}"
  register: window

- name: Report it
  ansible.builtin.debug:
    msg: "{{ window.summary }}"
"""

RETURN = r"""
measured:
  description: Whether a window was measured (false only for O(state=stopped) in check mode with no sampler).
  returned: always
  type: bool
  sample: true
pid:
  description: The sampler's process ID.
  returned: when a sampler was started or found
  type: int
  sample: 12345
samples_file:
  description: The file the sampler writes (one line per sample, C(<unix time> <1|0> <status or error>)).
  returned: O(state=started)
  type: str
  sample: /run/wandb-error-window/wandb.samples
replaced:
  description: Whether a sampler of that name was running and was replaced.
  returned: O(state=started), not in check mode
  type: bool
  sample: false
window_seconds:
  description: First failed sample to the first good sample after the last failed one; 0.0 without a failure.
  returned: O(state=stopped), measured
  type: float
  sample: 12.4
failed_samples:
  description: How many samples failed.
  returned: O(state=stopped), measured
  type: int
  sample: 118
samples:
  description: How many samples there are.
  returned: O(state=stopped), measured
  type: int
  sample: 402
outages:
  description: How many runs of consecutive failed samples there were.
  returned: O(state=stopped), measured
  type: int
  sample: 1
longest_outage_seconds:
  description: The longest run of failed samples, from its first to the good sample after it.
  returned: O(state=stopped), measured
  type: float
  sample: 12.4
interval_seconds:
  description: The sampling interval (the resolution of every time here).
  returned: O(state=stopped), measured
  type: float
  sample: 0.1
first_failure:
  description: Unix time of the first failed sample; null without one.
  returned: O(state=stopped), measured
  type: float
  sample: 1767323045.123
recovered_at:
  description: Unix time of the first good sample after the last failure; null without a failure or a recovery.
  returned: O(state=stopped), measured
  type: float
  sample: 1767323057.523
recovered:
  description: False when the last sample failed (the window is then a lower bound).
  returned: O(state=stopped), measured
  type: bool
  sample: true
sampled_seconds:
  description: First to last sample.
  returned: O(state=stopped), measured
  type: float
  sample: 40.1
summary:
  description: The window in one line, for a playbook's summary.
  returned: O(state=stopped), measured
  type: str
  sample: error window 12.4 s through the proxy (118 of 402 samples failed, longest outage 12.4 s, a sample every 0.1 s)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wandb_local.fleet.plugins.module_utils._error_window import (
    ErrorWindowError,
    describe,
    sampler_record,
    start_sampler,
    stop_sampler,
)


def run(module):
    params = module.params
    record = sampler_record(params["state_dir"], params["name"])
    running = record is not None and record["running"]
    before = {"sampler": "running" if running else "none"}
    if params["state"] == "started":
        url = params["url"] or ""
        if not url.startswith(("http://", "https://")):
            module.fail_json(
                msg="url must be an http:// or https:// URL (the site's /ready through the proxy), got %r" % url
            )
        for field in ("interval", "timeout", "max_seconds"):
            if params[field] <= 0:
                module.fail_json(msg="%s must be above 0, got %s" % (field, params[field]))
        diff = {"before": before, "after": {"sampler": "running"}}
        if module.check_mode:
            module.exit_json(changed=True, measured=False, diff=diff)
        started = start_sampler(
            params["state_dir"],
            params["name"],
            url,
            interval=params["interval"],
            timeout=params["timeout"],
            ca_path=params["ca_path"],
            max_seconds=params["max_seconds"],
        )
        module.exit_json(
            changed=True,
            measured=False,
            pid=started["pid"],
            samples_file=started["samples_file"],
            replaced=started["replaced"],
            diff=diff,
        )
    if module.check_mode and record is None:
        module.exit_json(changed=False, measured=False, msg="no sampler named %s runs (check mode)" % params["name"])
    window = stop_sampler(params["state_dir"], params["name"], stop=not module.check_mode)
    window.pop("stopped", None)
    module.exit_json(
        changed=True,
        measured=True,
        summary=describe(window),
        diff={"before": before, "after": {"sampler": before["sampler"] if module.check_mode else "none"}},
        **window,
    )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=["started", "stopped"]),
            name=dict(type="str", default="wandb"),
            url=dict(type="str"),
            ca_path=dict(type="path"),
            interval=dict(type="float", default=0.1),
            timeout=dict(type="float", default=0.5),
            max_seconds=dict(type="int", default=7200),
            state_dir=dict(type="path", default="/run/wandb-error-window"),
        ),
        required_if=[("state", "started", ["url"])],
        supports_check_mode=True,
    )
    if "/" in module.params["name"] or not module.params["name"].strip("."):
        module.fail_json(msg="name must be a plain file name (no /), got %r" % module.params["name"])
    try:
        run(module)
    except (ErrorWindowError, OSError) as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
