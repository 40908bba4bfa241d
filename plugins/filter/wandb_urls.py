# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The filters are documented one per file next to this one (mysql_url.yml, bucket_url.yml, ...):
# a plugin file that defines several filters cannot carry their docs itself.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.module_utils._plain_values import plain
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import (
    WandbUrlError,
    compose_bucket_url,
    compose_mysql_url,
    compose_queue_url,
    compose_redis_url,
    parse_url,
)


def _run(filter_name, function, *args):
    try:
        return function(*[plain(arg) for arg in args])
    except WandbUrlError as exc:
        # The message names the part and the rule; the value itself may be a secret, so it is never
        # repeated here beyond what the rule's message chose to show.
        raise AnsibleFilterError("wandb_local.fleet.%s: %s" % (filter_name, exc)) from None


def mysql_url(parts):
    return _run("mysql_url", compose_mysql_url, parts)


def bucket_url(parts):
    return _run("bucket_url", compose_bucket_url, parts)


def queue_url(parts):
    return _run("queue_url", compose_queue_url, parts)


def redis_url(parts):
    return _run("redis_url", compose_redis_url, parts)


def parse_wandb_url(url, kind=None):
    return _run("parse_wandb_url", parse_url, url, kind)


class FilterModule(object):
    def filters(self):
        return {
            "mysql_url": mysql_url,
            "bucket_url": bucket_url,
            "queue_url": queue_url,
            "redis_url": redis_url,
            "parse_wandb_url": parse_wandb_url,
        }
