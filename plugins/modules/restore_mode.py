#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: restore_mode
short_description: Put the W&B server into restore mode and back (the vendor's factory-reset procedure)
version_added: 0.1.0
description:
  - Restore mode is how the vendor lets an administrator back into an instance they cannot log in to (a broken SSO
    configuration, a lost admin password) C(LOCAL_RESTORE=true) makes the server print a temporary username and
    password to its log and turns SSO off until the variable is removed again.
  - O(state=enabled) sets C(LOCAL_RESTORE=true) in the environment file (through the same code as
    M(wandb_local.fleet.settings)), recreates the container so it runs with that environment, and waits for the
    credentials in the log lines written after the new container started.
  - O(state=disabled) removes C(LOCAL_RESTORE), recreates the container and waits until C(/ready) answers 200.
  - The container is recreated, not restarted, because a container's environment is fixed when it is created and
    the server role runs it with M(community.docker.docker_container)'s C(env_file). The copy keeps everything of
    the original (image, name, command, entrypoint, user, labels, working directory, health check, stop signal, the
    whole host configuration with binds, mounts, published ports, restart policy, network mode, log configuration,
    capabilities; its networks with aliases and fixed addresses; its anonymous volumes) and only the environment
    changes, to what M(community.docker.docker_container) would compute from the new file. The original is stopped
    and renamed until the copy has started; if creating or starting the copy fails, the original gets its name back
    and is started again.
  - The image is the one the container runs. If its tag now names another image, the copy is created from the
    running image's ID and a warning says so.
  - Talks to the Docker engine on the managed host through the Docker SDK for Python, configured like the docker
    CLI (C(DOCKER_HOST), C(DOCKER_TLS_VERIFY), C(DOCKER_CERT_PATH) environment variables, else the local socket).
author:
  - wandb_local.fleet maintainers (@wandb-local)
requirements:
  - docker (the Docker SDK for Python) on the managed host
options:
  state:
    description:
      - V(enabled) puts the server into restore mode and returns the temporary credentials.
      - V(disabled) takes it out of restore mode (SSO on again) and waits until it is ready.
    type: str
    required: true
    choices: [enabled, disabled]
  container:
    description: Name of the W&B server container.
    type: str
    default: wandb-local
  timeout:
    description:
      - Seconds to wait for the credentials (O(state=enabled)) or for C(/ready) to answer 200 (O(state=disabled)).
      - The server runs its database migrations before it is ready, which can take 10 to 20 minutes on a large
        instance.
    type: int
    default: 1200
  credentials_pattern:
    description:
      - Regular expression (Python syntax) with the named groups C(username) and C(password), searched in the log
        lines written after the new container started. The last match wins.
      - >-
        The default matches the test stand-in's line
        C(Restore mode: log in with username: restore@wandb.com password: XXXX) and reasonable variants, because
        the real server's exact line is not documented - C(user), C(username), C(user name) or C(login), then
        C(pass), C(password) or C(pwd); C(:), C(=) or a space before each value; optional quotes (also JSON
        style); the password on the same or the next line.
      - When nothing matches before O(timeout), the module fails and shows the last 20 log lines with secrets masked,
        so the pattern can be adjusted.
    type: str
    default: "(?i)\\b(?:user(?:[ _-]?name)?|login)[\"']?\\s*(?:[:=]\\s*|\\s)[\"']?(?P<username>[^\\s\"',;]+?)[\"']?\
      [\\s,;]+(?:and\\s+)?[\"']?(?:pass(?:word)?|pwd)[\"']?\\s*(?:[:=]\\s*|\\s)[\"']?(?P<password>[^\\s\"',;]+)"
  credentials_file:
    description:
      - With O(state=enabled), write the credentials to this file on the managed host (mode V(0600), YAML with
        C(username) and C(password)) instead of returning them.
      - Recommended whenever task results are logged or shown (CI, AWX, callback plugins).
      - With O(state=disabled), delete this file once the container runs without restore mode (also when restore
        mode was already off), so the temporary credentials do not stay on the host. Check mode only reports it.
    type: path
  ready_url:
    description:
      - URL whose answer 200 means the server is ready, for O(state=disabled).
      - Default is C(/ready) on the host address and port that the container's port 8080 is published on (a
        wildcard address is reached through the loopback address), else on the container's own address.
    type: str
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
  - wandb_local.fleet.attributes.ACTIONGROUP_WANDB
  - wandb_local.fleet.settings_file
attributes:
  check_mode:
    details:
      - Reports whether the container would be recreated; nothing is written, nothing is restarted. When restore mode
        is already on, the credentials are still read from the logs.
  diff_mode:
    details:
      - The diff shows the environment file, with secrets masked.
  idempotent:
    details:
      - With O(state=enabled) on a container already in restore mode, the credentials are read from its logs and
        nothing changes. Only if the logs no longer hold them is the container recreated for new ones.
notes:
  - Restore mode turns SSO off. Leave it with O(state=disabled) as soon as access is restored.
  - If the module fails while waiting for the credentials, the container stays in restore mode.
  - The container is (re)started in both states, also when it was stopped before.
seealso:
  - module: wandb_local.fleet.settings
  - module: community.docker.docker_container
"""

EXAMPLES = r"""
- name: Enter restore mode and keep the credentials on the host, not in the task result
  wandb_local.fleet.restore_mode:
    state: enabled
    credentials_file: /root/wandb-restore-credentials.yml

- name: Enter restore mode and show the credentials (only where results are not logged)
  wandb_local.fleet.restore_mode:
    state: enabled
  register: restore

- name: Tell the operator
  ansible.builtin.debug:
    msg: "Log in as {{ restore.username }} with the password in the task result"

- name: Leave restore mode once access is fixed, deleting the credentials file
  wandb_local.fleet.restore_mode:
    state: disabled
    credentials_file: /root/wandb-restore-credentials.yml
    timeout: 1800

- name: A server whose restore line reads like "admin user X, temporary password Y"
  wandb_local.fleet.restore_mode:
    state: enabled
    credentials_pattern: 'admin user (?P<username>\S+), temporary password (?P<password>\S+)'
"""

RETURN = r"""
credentials_found:
  description: Whether the temporary credentials were found in the log.
  returned: always
  type: bool
  sample: true
username:
  description: The temporary username.
  returned: O(state=enabled) and credentials found, unless O(credentials_file) is given
  type: str
  sample: restore@wandb.com
password:
  description: The temporary password. Prefer O(credentials_file) where task results are logged.
  returned: O(state=enabled) and credentials found, unless O(credentials_file) is given
  type: str
  sample: AbCdEfGhJkMnPqRsTuVw
credentials_file:
  description: Where the credentials were written (O(state=enabled)) or the file that was deleted (O(state=disabled)).
  returned: O(state=enabled), credentials found and O(credentials_file) given; O(state=disabled) when it was deleted
  type: str
  sample: /root/wandb-restore-credentials.yml
credentials_file_removed:
  description: Whether O(credentials_file) was (in check mode, would be) deleted.
  returned: O(state=disabled)
  type: bool
  sample: true
  version_added: 0.2.0
ready_url:
  description: The URL that answered 200 (or was polled, on failure).
  returned: O(state=disabled) when the container was recreated
  type: str
  sample: http://127.0.0.1:8080/ready
log_tail:
  description: The container's last 20 log lines, secrets masked.
  returned: failure while waiting for the credentials or for readiness
  type: list
  elements: str
  sample: ["2026/01/01 10:00:00 listening on :8080 (app) and :8181 (metrics)"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import path_option
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_restore_mode import (
    DEFAULT_CREDENTIALS_PATTERN,
    docker_client,
    run_restore_mode,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=["enabled", "disabled"]),
            container=dict(type="str", default="wandb-local"),
            path=path_option(),
            timeout=dict(type="int", default=1200),
            credentials_pattern=dict(type="str", default=DEFAULT_CREDENTIALS_PATTERN),
            credentials_file=dict(type="path"),
            ready_url=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    run_restore_mode(module, docker_client, open_url)


if __name__ == "__main__":
    main()
