# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How the modules that edit the W&B server's environment file treat it.
    DOCUMENTATION = r"""
options:
  path:
    description:
      - The environment file the W&B server container is run with (its C(env_file)). Its directory must exist.
      - Every module of the action group C(wandb_local.fleet.wandb) that reads or writes this file calls it O(path),
        so one C(module_defaults) entry for C(group/wandb_local.fleet.wandb) sets it for all of them.
      - The alias O(settings_path) is the name M(wandb_local.fleet.restore_mode) used first.
    type: path
    default: /etc/wandb/wandb.env
    aliases: [settings_path]
notes:
  - The environment file holds one C(KEY=value) line per variable, read by C(docker run --env-file) and by
    M(community.docker.docker_container)'s O(community.docker.docker_container#module:env_file). Values are
    written verbatim, without quotes; values that those two readers would read differently (line breaks, control
    characters, leading or trailing whitespace) are refused.
  - Comments and lines the module does not manage are kept in place; variables keep their position, new ones are
    appended in alphabetical order. A file created by the module starts with a one-line comment saying so.
  - The file is replaced atomically (written to a temporary file in the same directory, then renamed), and never
    exists with permissions wider than V(0600) before the requested mode is applied.
  - In the diff and in every returned field, secret values are masked as C(********), a changed secret is marked
    C((secret changed)). Secrets are the values of C(LICENSE), C(AZURE_STORAGE_KEY) and of every variable whose
    name contains C(SECRET), C(PASS), C(PWD), C(KEY), C(TOKEN), C(CRED) or C(PRIVATE) or ends in C(_PW), and
    the password inside any URL value (C(MYSQL), C(REDIS), C(BUCKET), C(GORILLA_EMAIL_SINK), ...). The module
    invocation in the result shows the settings masked the same way.
  - The container reads the file only when it is created, so a changed file takes effect when the container is
    recreated (M(community.docker.docker_container) does that when the environment differs).
"""
