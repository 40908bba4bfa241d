# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one contract between tiers: the shape of `wandb_<role>_endpoint`.

Every tier role (mysql, redis, minio, server, proxy) publishes exactly one fact of this shape, and
an external service is given to the server in the same shape (`wandb_server_mysql`,
`wandb_server_redis`, `wandb_server_bucket`). docs/role-conventions.md carries the same table as
FIELDS below; tests/unit/plugins/module_utils/test_tier_endpoints.py keeps the two equal.

Messages name the field and the rule, never a value of `env` (it carries passwords).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import (
    WandbUrlError,
    parse_url,
    validate_host,
    validate_port,
)

# field -> (tiers that carry it, meaning). "all" means every tier.
FIELDS = {
    "env": ("all", "the W&B variables this tier provides to the server (name: value); may hold secrets"),
    "url": ("all", "where the service answers, without credentials (for example mysql://db1:3306/wandb_local)"),
    "host": ("all", "the host name or address clients connect to"),
    "port": ("all", "the TCP port clients connect to (integer)"),
    "tls": ("all", "whether clients must speak TLS (boolean)"),
    "ca_file": (
        "all",
        "the CA certificate on the controller that verifies the service, '' for the system roots or no TLS",
    ),
    "client_url": (
        "bucket",
        "the object store endpoint training hosts reach through signed URLs; may differ from the one in BUCKET",
    ),
}

# tier -> (role that publishes it, W&B variables its env must hold, variables it may hold)
TIERS = {
    "mysql": ("mysql", ("MYSQL",), ()),
    "redis": ("redis", ("REDIS",), ()),
    "bucket": ("minio", ("BUCKET",), ("BUCKET_QUEUE", "AWS_REGION")),
    "server": ("server", (), ()),
    "proxy": ("proxy", (), ("HOST",)),
}

# The kind of URL each variable holds, to read host and port of an external service from it.
_URL_KINDS = {"MYSQL": "mysql", "REDIS": "redis", "BUCKET": "bucket", "BUCKET_QUEUE": "queue"}
_DEFAULT_PORTS = {"mysql": 3306, "redis": 6379, "bucket": 443}


class EndpointError(ValueError):
    """An endpoint does not have the contract's shape; the message names the field."""


def _not_in_shape(where, field, tier):
    shape = ", ".join(fields_for(tier))
    return EndpointError("%s has %s, which is not part of the %s endpoint (%s)" % (where, field, tier, shape))


def fields_for(tier):
    if tier not in TIERS:
        raise EndpointError("unknown tier %r (known: %s)" % (tier, ", ".join(sorted(TIERS))))
    return [name for name, (tiers, _meaning) in FIELDS.items() if tiers in ("all", tier)]


def fact_name(tier):
    """The fact a tier's role publishes: wandb_<role>_endpoint."""
    fields_for(tier)
    return "wandb_%s_endpoint" % TIERS[tier][0]


def _check_env(tier, env, where):
    if not isinstance(env, dict):
        raise EndpointError("%s.env must be a mapping of W&B variables, got %s" % (where, type(env).__name__))
    _role, required, optional = TIERS[tier]
    for name in required:
        if name not in env or env[name] in (None, ""):
            raise EndpointError("%s.env must set %s" % (where, name))
    unknown = sorted(set(env) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(required + optional) or "nothing"
        raise EndpointError(
            "%s.env sets %s, which the %s tier does not provide (it provides %s)" % (where, unknown[0], tier, allowed)
        )
    for name, value in env.items():
        if not isinstance(value, str):
            raise EndpointError("%s.env.%s must be a string, got %s" % (where, name, type(value).__name__))
        if name in _URL_KINDS:
            try:
                parse_url(value, _URL_KINDS[name])
            except WandbUrlError as exc:
                # The parser's messages name the part and never repeat a password.
                rule = str(exc).split(": ", 1)[-1]
                raise EndpointError("%s.env.%s is not a URL the server reads: %s" % (where, name, rule)) from None
    return dict(env)


def check_endpoint(tier, value, where=None):
    """Return `value` if it has every field of the tier's shape with the right types, else raise."""
    where = where or fact_name(tier)
    if not isinstance(value, dict):
        shape = ", ".join(fields_for(tier))
        raise EndpointError("%s must be a mapping with %s, got %s" % (where, shape, type(value).__name__))
    expected = fields_for(tier)
    missing = [name for name in expected if name not in value]
    if missing:
        raise EndpointError("%s lacks %s" % (where, ", ".join(missing)))
    unknown = sorted(set(value) - set(expected))
    if unknown:
        raise _not_in_shape(where, unknown[0], tier)
    _check_env(tier, value["env"], where)
    for name in ("url", "ca_file") + (("client_url",) if tier == "bucket" else ()):
        if not isinstance(value[name], str):
            raise EndpointError("%s.%s must be a string, got %s" % (where, name, type(value[name]).__name__))
    if "@" in value["url"]:
        raise EndpointError("%s.url must not carry credentials (they belong in env)" % where)
    if value["ca_file"] and not value["ca_file"].startswith("/"):
        raise EndpointError("%s.ca_file must be an absolute path on the controller or ''" % where)
    if not isinstance(value["tls"], bool):
        raise EndpointError("%s.tls must be true or false, got %r" % (where, value["tls"]))
    if isinstance(value["port"], bool) or not isinstance(value["port"], int):
        raise EndpointError("%s.port must be an integer, got %r" % (where, value["port"]))
    try:
        validate_host(value["host"], "%s.host" % where)
        validate_port(value["port"], "%s.port" % where)
    except WandbUrlError as exc:
        raise EndpointError(str(exc)) from None
    return value


def _service_parts(tier, env):
    """(host, port, tls, url) of an external service, read from its connection URL."""
    if tier == "mysql":
        parts = parse_url(env["MYSQL"], "mysql")
        port = parts.get("port") or _DEFAULT_PORTS["mysql"]
        tls = parts.get("tls") not in (None, "false")
        return parts["host"], port, tls, "mysql://%s:%d/%s" % (parts["host"], port, parts["database"])
    if tier == "redis":
        parts = parse_url(env["REDIS"], "redis")
        port = parts.get("port") or _DEFAULT_PORTS["redis"]
        return parts["host"], port, bool(parts.get("tls")), "redis://%s:%d" % (parts["host"], port)
    parts = parse_url(env["BUCKET"], "bucket")
    if parts["scheme"] == "s3" and parts.get("endpoint"):
        host, _sep, port = parts["endpoint"].partition(":")
        tls = bool(parts.get("tls"))
        port = int(port) if port else (443 if tls else 80)
        return host, port, tls, "%s://%s:%d" % ("https" if tls else "http", host, port)
    host = {"s3": "s3.amazonaws.com", "gs": "storage.googleapis.com"}.get(parts["scheme"])
    if host is None:
        host = "%s.blob.core.windows.net" % parts["account"]
    return host, 443, True, "https://%s" % host


def external_endpoint(tier, value, where):
    """An external service given in the contract's shape: `env` is required, the other fields are
    read from its URL when left out (a given field wins)."""
    if not isinstance(value, dict):
        raise EndpointError("%s must be a mapping with at least env, got %s" % (where, type(value).__name__))
    if "env" not in value:
        raise EndpointError("%s must set env (the W&B variables: %s)" % (where, ", ".join(TIERS[tier][1])))
    env = _check_env(tier, value["env"], where)
    unknown = sorted(set(value) - set(fields_for(tier)))
    if unknown:
        raise _not_in_shape(where, unknown[0], tier)
    host, port, tls, url = _service_parts(tier, env)
    endpoint = {"env": env, "url": url, "host": host, "port": port, "tls": tls, "ca_file": ""}
    if tier == "bucket":
        endpoint["client_url"] = url
    endpoint.update(dict((k, v) for k, v in value.items() if k != "env"))
    return check_endpoint(tier, endpoint, where)


# The inputs before the contract, kept for one release: tier -> (old variable -> W&B variable).
LEGACY_INPUTS = {
    "mysql": {"wandb_server_mysql_url": "MYSQL"},
    "redis": {"wandb_server_redis_url": "REDIS"},
    "bucket": {
        "wandb_server_bucket_url": "BUCKET",
        "wandb_server_bucket_queue": "BUCKET_QUEUE",
        "wandb_server_aws_region": "AWS_REGION",
    },
}


def legacy_endpoint(tier, legacy_values):
    """The endpoint the deprecated *_url inputs describe, or None when none is set; and the names of
    the deprecated inputs that were set."""
    names = LEGACY_INPUTS.get(tier, {})
    given = dict((name, legacy_values.get(name)) for name in names if legacy_values.get(name) not in (None, ""))
    if not given:
        return None, []
    env = dict((names[name], value) for name, value in given.items())
    where = "wandb_server_%s (from %s)" % (tier, ", ".join(sorted(given)))
    return external_endpoint(tier, {"env": env}, where), sorted(given)


# ---------------------------------------------------------------------------------------------
# The server's side of the contract
# ---------------------------------------------------------------------------------------------

# The site's groups and the role publishing each tier's endpoint.
SITE_GROUPS = (("mysql", "wandb_mysql"), ("redis", "wandb_redis"), ("bucket", "wandb_minio"), ("proxy", "wandb_proxy"))
EXTERNAL_INPUTS = {"mysql": "wandb_server_mysql", "redis": "wandb_server_redis", "bucket": "wandb_server_bucket"}


def unpublished_hosts(hosts, host_vars, fact):
    """The hosts that did not publish `fact` in this play run (their play did not run: --limit).
    Only a mapping counts: before 0.2.0 wandb_minio_endpoint was an input (a host:port string)."""
    return [host for host in hosts if not isinstance(host_vars.get(host, {}).get(fact), dict)]


def site_endpoints(groups, host_vars):
    """{tier: endpoint} for every tier whose group has hosts, read from the group's first host
    (every host of a tier publishes the same installation-wide endpoint)."""
    endpoints = {}
    for tier, group in SITE_GROUPS:
        hosts = groups.get(group) or []
        if not hosts:
            continue
        fact = fact_name(tier)
        published = host_vars.get(hosts[0], {})
        if fact not in published:
            raise EndpointError(
                "%s did not publish %s: run its play, or its role's publish entry point, before wiring the server"
                % (hosts[0], fact)
            )
        endpoints[tier] = check_endpoint(tier, published[fact], "%s of %s" % (fact, hosts[0]))
    return endpoints


def server_endpoints(site, external, legacy):
    """The endpoints the server uses, and the deprecated inputs that were read.

    `site`: {tier: endpoint} the site's own tier hosts published (wins); `external`:
    {wandb_server_mysql: ..., ...} as given (empty mapping: not given); `legacy`: the deprecated
    wandb_server_*_url inputs by name. A tier with none of them is left out: the server's embedded
    service (MySQL, Redis, /vol for files) serves it."""
    endpoints = {}
    deprecated = []
    for tier, value in site.items():
        endpoints[tier] = check_endpoint(tier, value, "the site's %s endpoint" % tier)
    for tier, name in EXTERNAL_INPUTS.items():
        if tier in endpoints:
            continue
        given = external.get(name)
        if given not in (None, {}, ""):
            endpoints[tier] = external_endpoint(tier, given, name)
            continue
        endpoint, used = legacy_endpoint(tier, legacy)
        if endpoint is not None:
            endpoints[tier] = endpoint
            deprecated.extend((old, name) for old in used)
    return endpoints, deprecated


def server_environment(endpoints, host_url, license_key):
    """The W&B variables the server role manages: every endpoint's env, HOST and LICENSE."""
    env = {}
    for tier in ("mysql", "redis", "bucket"):
        env.update(endpoints.get(tier, {}).get("env", {}))
    host = host_url or endpoints.get("proxy", {}).get("env", {}).get("HOST", "")
    if host:
        env["HOST"] = host
    if license_key:
        env["LICENSE"] = license_key
    return env
