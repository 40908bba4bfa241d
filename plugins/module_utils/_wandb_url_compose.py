# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Compose the W&B connection URLs (MYSQL, BUCKET, BUCKET_QUEUE, REDIS) from their parts.

Private to the collection: re-exported by _wandb_urls, which callers import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import quote

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_url_parts import (
    _AZ_ACCOUNT_RE,
    _AZ_NAME_RE,
    _GCS_BUCKET_RE,
    _PUBSUB_NAME_RE,
    _PUBSUB_PROJECT_RE,
    _S3_BUCKET_RE,
    _SQS_NAME_RE,
    MYSQL_DEFAULT_DATABASE,
    MYSQL_TLS_MODES,
    REDIS_DEFAULT_PORT,
    REDIS_SENTINEL_DEFAULT_PORT,
    URL_SCHEMES,
    WandbUrlError,
    _absolute_path,
    _check_parts,
    _extra_params,
    _flag,
    _format_hostport,
    _object_path,
    _plain,
    _query,
    _quote_all,
    _split_hostport,
    _text,
    _userinfo,
    validate_host,
    validate_port,
)

# ---------------------------------------------------------------------------------------------
# Composing
# ---------------------------------------------------------------------------------------------

MYSQL_PARTS = ("scheme", "kind", "user", "password", "host", "port", "database", "tls", "ssl_ca", "params")


def compose_mysql_url(parts):
    """mysql://USER:PASS@HOST[:PORT]/DB[?tls=MODE[&ssl-ca=/path]]"""
    _check_parts(parts, MYSQL_PARTS, "mysql_url")
    _expect_scheme(parts, "mysql")
    user = _text(parts.get("user"), "user", required=True)
    password = _text(parts.get("password"), "password")
    host = validate_host(parts.get("host"))
    port = validate_port(parts.get("port"))
    database = _text(parts.get("database"), "database") or MYSQL_DEFAULT_DATABASE
    tls = _mysql_tls(parts.get("tls"))
    ssl_ca = _absolute_path(parts.get("ssl_ca"), "ssl_ca")
    _check_mysql_tls(tls, ssl_ca)
    return "mysql://%s%s/%s%s" % (
        _userinfo(user, password),
        _format_hostport(host, port),
        _quote_all(database),
        _query([("tls", tls), ("ssl-ca", ssl_ca), *_extra_params(parts.get("params"), ("tls", "ssl-ca"))]),
    )


def _mysql_tls(value):
    if isinstance(value, bool):
        return "true" if value else None
    value = _text(value, "tls")
    if value is not None and value not in MYSQL_TLS_MODES:
        raise WandbUrlError("tls", "must be one of %s, got %r" % (", ".join(MYSQL_TLS_MODES), value))
    return value


def _check_mysql_tls(tls, ssl_ca):
    if tls == "custom" and not ssl_ca:
        raise WandbUrlError("ssl_ca", "is required with tls=custom (the CA file the server trusts)")
    if ssl_ca and tls != "custom":
        raise WandbUrlError("ssl_ca", "is only read with tls=custom")


BUCKET_PARTS = (
    "scheme",
    "kind",
    "bucket",
    "access_key",
    "secret_key",
    "endpoint",
    "path",
    "tls",
    "account",
    "container",
)


def compose_bucket_url(parts):
    """s3://[AK:SK@]BUCKET[/PATH], s3://[AK:SK@]HOST:PORT/BUCKET[/PATH][?tls=true], gs://BUCKET[/PATH],
    az://ACCOUNT/CONTAINER[/PATH]."""
    _check_parts(parts, BUCKET_PARTS, "bucket_url")
    scheme = _text(parts.get("scheme"), "scheme", required=True)
    path = _object_path(parts.get("path"))
    quoted_path = "" if path is None else "/" + quote(path, safe="/")
    if scheme == "s3":
        _refuse(parts, ("account", "container"), "s3")
        bucket = _s3_bucket(parts.get("bucket"))
        access_key = _text(parts.get("access_key"), "access_key")
        secret_key = _text(parts.get("secret_key"), "secret_key")
        if (access_key is None) != (secret_key is None):
            missing = "secret_key" if secret_key is None else "access_key"
            raise WandbUrlError(missing, "access_key and secret_key go together")
        endpoint = _endpoint(parts.get("endpoint"))
        tls = _flag(parts.get("tls"), "tls")
        userinfo = _userinfo(access_key, secret_key)
        if endpoint is None:
            if tls:
                raise WandbUrlError("tls", "only applies to an S3-compatible endpoint (set endpoint: HOST:PORT)")
            return "s3://%s%s%s" % (userinfo, bucket, quoted_path)
        query = _query([("tls", "true" if tls else None)])
        return "s3://%s%s/%s%s%s" % (userinfo, _format_hostport(*endpoint), bucket, quoted_path, query)
    if scheme == "gs":
        _refuse(parts, ("access_key", "secret_key", "endpoint", "tls", "account", "container"), "gs")
        bucket = _text(parts.get("bucket"), "bucket", required=True)
        if not _GCS_BUCKET_RE.match(bucket):
            raise WandbUrlError("bucket", "%r is not a valid GCS bucket name" % bucket)
        return "gs://%s%s" % (bucket, quoted_path)
    if scheme == "az":
        _refuse(parts, ("access_key", "secret_key", "endpoint", "tls", "bucket"), "az")
        account = _az_account(parts.get("account"))
        container = _az_name(parts.get("container"), "container")
        return "az://%s/%s%s" % (account, container, quoted_path)
    raise WandbUrlError("scheme", "must be s3, gs or az, got %r" % scheme)


def _expect_scheme(parts, scheme):
    given = parts.get("scheme")
    if given not in (None, "", scheme):
        raise WandbUrlError("scheme", "must be %s, got %r" % (scheme, given))


def _refuse(parts, names, scheme):
    for name in names:
        if parts.get(name) not in (None, "", False):
            raise WandbUrlError(name, "is not used by %s:// URLs" % scheme)


def _s3_bucket(value):
    bucket = _text(value, "bucket", required=True)
    if not _S3_BUCKET_RE.match(bucket) or ".." in bucket:
        raise WandbUrlError("bucket", "%r is not a valid S3 bucket name (3-63 of a-z 0-9 . -)" % bucket)
    return bucket


def _endpoint(value):
    value = _plain(value, "endpoint")
    if value is None:
        return None
    if "://" in value or "/" in value:
        raise WandbUrlError("endpoint", "must be HOST:PORT without scheme or path, got %r" % value)
    host, port = _split_hostport(value, "endpoint")
    if port is None:
        raise WandbUrlError("endpoint", "must name a port (HOST:PORT): W&B tells an endpoint from a bucket by it")
    return host, port


def _az_account(value):
    account = _text(value, "account", required=True)
    if not _AZ_ACCOUNT_RE.match(account):
        raise WandbUrlError("account", "%r is not a valid storage account name (3-24 of a-z 0-9)" % account)
    return account


def _az_name(value, part):
    name = _text(value, part, required=True)
    if not _AZ_NAME_RE.match(name):
        raise WandbUrlError(part, "%r is not a valid Azure %s name (3-63 of a-z 0-9 -)" % (name, part))
    return name


QUEUE_PARTS = ("scheme", "kind", "name", "project", "topic", "subscription", "account", "queue")


def compose_queue_url(parts):
    """sqs://NAME, pubsub:/PROJECT/TOPIC/SUBSCRIPTION, az://ACCOUNT/QUEUE or internal://"""
    _check_parts(parts, QUEUE_PARTS, "queue_url")
    scheme = _text(parts.get("scheme"), "scheme", required=True)
    if scheme == "sqs":
        name = _text(parts.get("name"), "name", required=True)
        if not _SQS_NAME_RE.match(name):
            raise WandbUrlError("name", "%r is not a valid SQS queue name (1-80 of A-Z a-z 0-9 - _)" % name)
        return "sqs://%s" % name
    if scheme == "pubsub":
        project = _text(parts.get("project"), "project", required=True)
        if not _PUBSUB_PROJECT_RE.match(project):
            raise WandbUrlError("project", "%r is not a valid Google Cloud project ID" % project)
        names = []
        for part in ("topic", "subscription"):
            name = _text(parts.get(part), part, required=True)
            if not _PUBSUB_NAME_RE.match(name):
                raise WandbUrlError(part, "%r is not a valid Pub/Sub %s name" % (name, part))
            names.append(name)
        return "pubsub:/%s/%s/%s" % (project, names[0], names[1])
    if scheme == "az":
        return "az://%s/%s" % (_az_account(parts.get("account")), _az_name(parts.get("queue"), "queue"))
    if scheme == "internal":
        return "internal://"
    raise WandbUrlError("scheme", "must be sqs, pubsub, az or internal, got %r" % scheme)


REDIS_PARTS = (
    "scheme",
    "kind",
    "host",
    "port",
    "username",
    "password",
    "tls",
    "ca_cert_path",
    "ttl_in_seconds",
    "sentinel_master",
    "params",
)


def compose_redis_url(parts):
    """redis://[USER][:PASS@]HOST:PORT[?tls=true&caCertPath=/p&ttlInSeconds=N][&master=NAME]"""
    _check_parts(parts, REDIS_PARTS, "redis_url")
    _expect_scheme(parts, "redis")
    host = validate_host(parts.get("host"))
    username = _text(parts.get("username"), "username")
    password = _text(parts.get("password"), "password")
    master = _plain(parts.get("sentinel_master"), "sentinel_master")
    port = validate_port(parts.get("port"))
    if port is None:
        port = REDIS_SENTINEL_DEFAULT_PORT if master else REDIS_DEFAULT_PORT
    tls = _flag(parts.get("tls"), "tls")
    ca_cert_path = _absolute_path(parts.get("ca_cert_path"), "ca_cert_path")
    if ca_cert_path and not tls:
        raise WandbUrlError("ca_cert_path", "is only read with tls: true")
    ttl = _positive_int(parts.get("ttl_in_seconds"), "ttl_in_seconds")
    query = _query(
        [
            ("tls", "true" if tls else None),
            ("caCertPath", ca_cert_path),
            ("ttlInSeconds", ttl),
            ("master", master),
            *_extra_params(parts.get("params"), ("tls", "caCertPath", "ttlInSeconds", "master")),
        ]
    )
    return "redis://%s%s%s" % (_userinfo(username, password), _format_hostport(host, port), query)


def _positive_int(value, part):
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WandbUrlError(part, "must be a positive whole number, got %r" % (value,))
    return value


def compose_url(parts):
    """Compose any W&B URL from a parts dict, dispatching on `kind` or else `scheme`."""
    if not isinstance(parts, dict):
        raise WandbUrlError("parts", "must be a dict")
    kind = parts.get("kind") or URL_SCHEMES.get(parts.get("scheme"))
    composer = {
        "mysql": compose_mysql_url,
        "bucket": compose_bucket_url,
        "queue": compose_queue_url,
        "redis": compose_redis_url,
    }.get(kind)
    if composer is None:
        raise WandbUrlError("scheme", "unknown URL kind for scheme %r" % (parts.get("scheme"),))
    return composer(parts)
