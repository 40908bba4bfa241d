#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: settings
short_description: Manage the W&B server's environment file (configuration as code)
version_added: 0.1.0
description:
  - Sets, changes and removes the environment variables the W&B server container (C(wandb/local)) reads at start,
    in the environment file the container is run with.
  - Validates every variable the vendor documents before anything is written (URL formats of C(MYSQL), C(BUCKET),
    C(BUCKET_QUEUE), C(NOTIFICATIONS_QUEUE), C(REDIS); C(HOST), C(OIDC_ISSUER), booleans, C(AWS_REGION), ...)
    and the rules between them (an C(az://) bucket needs C(AZURE_STORAGE_KEY), an C(sqs://) queue needs
    C(AWS_REGION), C(OIDC_ISSUER) needs C(OIDC_CLIENT_ID), C(SLACK_CLIENT_ID) needs C(SLACK_SECRET), ...).
    On any invalid input the module fails with a message naming the variable and the rule, and the file is left
    exactly as it was.
  - Unknown upper-case variables (C(GORILLA_*), C(LDAP_*), ...) pass through with only the file-level rules; a name
    close to a known variable gets a warning.
  - The complete list of variables and rules is in the collection's C(docs/settings.md).
  - Compose URL values with the P(wandb_local.fleet.mysql_url#filter), P(wandb_local.fleet.bucket_url#filter),
    P(wandb_local.fleet.queue_url#filter) and P(wandb_local.fleet.redis_url#filter) filters, which URL-encode
    credentials correctly.
author:
  - wandb_local.fleet maintainers (@wandb-local)
options:
  settings:
    description:
      - Variable name to value. Strings are written as given, numbers as their decimal text, booleans as
        V(true) or V(false) (the server parses Go booleans).
      - A value of V(null) removes the variable.
      - Variables not named here are left alone, unless O(purge=true).
      - The values are never logged; the module returns only the names of changed variables and a masked diff.
    type: dict
    default: {}
  purge:
    description:
      - Remove every variable (and every line not in C(KEY=value) form) that O(settings) does not name.
        Comments are kept.
      - Cross-field rules then apply to the whole file, not only to the variables named.
    type: bool
    default: false
  owner:
    description:
      - Owner of the file. Unchanged when not given (a new file belongs to the connecting user).
    type: str
  group:
    description:
      - Group of the file. Unchanged when not given.
    type: str
  mode:
    description:
      - Permissions of the file, as for M(ansible.builtin.file). Keep it private, the file holds the license and
        database and storage credentials.
    type: raw
    default: '0600'
  verify_oidc:
    description:
      - Fetch C($OIDC_ISSUER/.well-known/openid-configuration) from the managed host before writing, and fail
        when it is unreachable, is not JSON, or names another issuer than C(OIDC_ISSUER).
      - Uses the resulting C(OIDC_ISSUER), whether given in O(settings) or already in the file.
      - Also runs in check mode (it only reads).
    type: bool
    default: false
  restore_mode:
    description:
      - What to do about restore mode (C(LOCAL_RESTORE), see M(wandb_local.fleet.restore_mode)) when O(settings)
        does not name C(LOCAL_RESTORE).
      - V(ignore) treats C(LOCAL_RESTORE) like any other variable (O(purge=true) removes it, ending restore mode).
      - V(keep) leaves restore mode on while it is on, in the file or in the running container
        (see O(restore_mode_running)). The file keeps its C(LOCAL_RESTORE), or gets C(LOCAL_RESTORE=true) when only
        the container has it, also with O(purge=true). A warning says that restore mode is on. For a run that owns the
        whole file on a schedule (the C(wandb_local.fleet.server) role), so that it does not end an operator's
        factory reset.
      - V(leave) removes C(LOCAL_RESTORE), ending restore mode.
      - A C(LOCAL_RESTORE) named in O(settings) always wins.
    type: str
    choices: [ignore, keep, leave]
    default: ignore
    version_added: 0.2.0
  restore_mode_running:
    description:
      - Whether the running container was started with C(LOCAL_RESTORE) on (the caller reads it with
        M(community.docker.docker_container_info)). With O(restore_mode=keep) restore mode is then kept even when
        the file no longer says so; with O(restore_mode=leave) RV(restart_required) is true so the container is
        recreated without it.
    type: bool
    default: false
    version_added: 0.2.0
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
  - wandb_local.fleet.attributes.ACTIONGROUP_WANDB
  - wandb_local.fleet.settings_file
attributes:
  check_mode:
    details:
      - Reports the variables that would change and the masked diff without writing. O(verify_oidc) still runs.
  diff_mode:
    details:
      - The diff shows the file with secret values masked.
seealso:
  - module: wandb_local.fleet.restore_mode
  - module: community.docker.docker_container
"""

EXAMPLES = r"""
- name: Point the server at its database, bucket and Redis
  wandb_local.fleet.settings:
    settings:
      HOST: https://wandb.example.net
      LICENSE: "{{ wandb_license }}"
      MYSQL: >-
        {{ {'user': 'wandb_local', 'password': wandb_mysql_password, 'host': 'db1.example.net',
            'tls': 'custom', 'ssl_ca': '/etc/wandb/mysql-ca.pem'} | wandb_local.fleet.mysql_url }}
      BUCKET: >-
        {{ {'scheme': 's3', 'bucket': 'wandb', 'access_key': minio_access_key, 'secret_key': minio_secret_key,
            'endpoint': 'minio1.example.net:9000', 'tls': true} | wandb_local.fleet.bucket_url }}
      BUCKET_QUEUE: internal://
      AWS_REGION: us-east-1
      REDIS: "{{ {'host': 'redis1.example.net', 'password': redis_password} | wandb_local.fleet.redis_url }}"
  register: wandb_settings

- name: Recreate the container when the environment changed
  community.docker.docker_container:
    name: wandb-local
    image: wandb/local:0.83.0
    env_file: /etc/wandb/wandb.env
    published_ports:
      - 127.0.0.1:8080:8080
  when: wandb_settings.restart_required

- name: Single sign-on through Okta, checking the issuer first
  wandb_local.fleet.settings:
    verify_oidc: true
    settings:
      OIDC_ISSUER: https://example.okta.com
      OIDC_CLIENT_ID: 0oa1b2c3d4e5f6g7h8
      OIDC_AUTH_METHOD: pkce

- name: Remove a variable
  wandb_local.fleet.settings:
    settings:
      LOGGING_ENABLED: null

- name: Own the whole file (remove every variable not listed)
  wandb_local.fleet.settings:
    purge: true
    owner: root
    group: root
    mode: '0600'
    settings: "{{ wandb_environment }}"
"""

RETURN = r"""
changed_keys:
  description:
    - Names of the variables whose value was (or in check mode would be) added, changed or removed, sorted.
    - Only names; values never appear in the result.
  returned: always
  type: list
  elements: str
  sample: [BUCKET, MYSQL]
restart_required:
  description:
    - Whether the environment the container would get differs from before, so the container must be recreated
      for the change to take effect. False when only comments, duplicates or file attributes changed, and when
      only C(LOCAL_RESTORE) was written to match the running container (O(restore_mode=keep)).
  returned: always
  type: bool
  sample: true
restore_mode:
  description: Restore mode before and after the run.
  returned: success
  type: dict
  version_added: 0.2.0
  contains:
    enabled:
      description: Whether the resulting file has restore mode on.
      type: bool
      sample: true
    found_in:
      description: Where restore mode was on before the run.
      type: list
      elements: str
      sample: [the environment file, the running container]
    kept:
      description: Restore mode was on and stays on because of O(restore_mode=keep).
      type: bool
      sample: true
    left:
      description: Restore mode was on and this run ends it (O(restore_mode=leave)); also in check mode.
      type: bool
      sample: false
errors:
  description: Every rule the requested settings broke, one message each, starting with the variable name.
  returned: failure due to invalid settings
  type: list
  elements: str
  sample: ["MYSQL: must name exactly one database after the host (mysql://USER:PASS@HOST/DB)"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import path_option
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings import run_settings


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=path_option(),
            settings=dict(type="dict", default={}, no_log=True),
            purge=dict(type="bool", default=False),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw", default="0600"),
            verify_oidc=dict(type="bool", default=False),
            restore_mode=dict(type="str", default="ignore", choices=["ignore", "keep", "leave"]),
            restore_mode_running=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run_settings(module, open_url)


if __name__ == "__main__":
    main()
