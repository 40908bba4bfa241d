# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Compose and parse the connection URLs the W&B server reads (MYSQL, BUCKET, BUCKET_QUEUE, REDIS).

The server is written in Go and parses these with net/url, so the rules here follow Go's: the
authority ends at the first '/', '?' or '#', userinfo is split at the last '@' of the authority,
and query values are unescaped with '+' meaning a space. Credentials are always percent-encoded
with nothing left safe, which makes composing and parsing exact inverses for any credential.

Private to the collection: used by the settings modules and the wandb_urls filter plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from urllib.parse import quote, unquote, unquote_plus

MASK = "********"

MYSQL_DEFAULT_DATABASE = "wandb_local"
MYSQL_TLS_MODES = ("preferred", "true", "false", "skip-verify", "custom")
REDIS_DEFAULT_PORT = 6379
REDIS_SENTINEL_DEFAULT_PORT = 26379

_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$")
_S3_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GCS_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_AZ_ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")
_AZ_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
_SQS_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$")
_PUBSUB_PROJECT_RE = re.compile(r"^(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_PUBSUB_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$")
_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Go's net/url accepts these in userinfo; anything else must be percent-encoded.
_USERINFO_CHARS = re.compile(r"^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

URL_SCHEMES = {
    "mysql": "mysql",
    "s3": "bucket",
    "gs": "bucket",
    "az": "bucket",
    "sqs": "queue",
    "pubsub": "queue",
    "internal": "queue",
    "redis": "redis",
}


class WandbUrlError(ValueError):
    """A URL or one of its parts is invalid. `part` names the offending part."""

    def __init__(self, part, message):
        super(WandbUrlError, self).__init__("%s: %s" % (part, message))
        self.part = part


# ---------------------------------------------------------------------------------------------
# Small helpers shared by composing and parsing
# ---------------------------------------------------------------------------------------------


def _text(value, part, required=False):
    """Optional string part: None and '' mean absent. Numbers are accepted as their decimal text."""
    if value is None or value == "":
        if required:
            raise WandbUrlError(part, "is required")
        return None
    if isinstance(value, bool):
        raise WandbUrlError(part, "must be a string, not a boolean")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise WandbUrlError(part, "must be a string, got %s" % type(value).__name__)
    return value


def _plain(value, part, required=False):
    """A part that lands unencoded in the URL, so it may not carry whitespace or control characters."""
    value = _text(value, part, required)
    if value is not None and _CONTROL_OR_SPACE.search(value):
        raise WandbUrlError(part, "must not contain whitespace or control characters")
    return value


def _flag(value, part):
    """tls-style flags: booleans or the strings true/false."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise WandbUrlError(part, "must be true or false, got %r" % (value,))


def validate_host(host, part="host"):
    host = _plain(host, part, required=True)
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise WandbUrlError(part, "%r is neither a host name nor an IPv6 address" % host) from None
        return host
    if not _HOSTNAME_RE.match(host):
        raise WandbUrlError(part, "%r is not a valid host name (letters, digits, '.', '-', '_')" % host)
    return host


def validate_port(port, part="port"):
    if port is None or port == "":
        return None
    if isinstance(port, bool):
        raise WandbUrlError(part, "must be a number from 1 to 65535")
    if isinstance(port, str):
        if not port.isdigit() or not port.isascii():
            raise WandbUrlError(part, "must be a number from 1 to 65535, got %r" % port)
        port = int(port)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise WandbUrlError(part, "must be a number from 1 to 65535, got %r" % (port,))
    return port


def _format_hostport(host, port):
    shown = "[%s]" % host if ":" in host else host
    return shown if port is None else "%s:%d" % (shown, port)


def _quote_all(value):
    return quote(value, safe="")


def _quote_query(value):
    return quote(value, safe="/")


def _userinfo(user, password):
    if user is None and password is None:
        return ""
    if password is None:
        return "%s@" % _quote_all(user)
    return "%s:%s@" % (_quote_all(user or ""), _quote_all(password))


def _query(pairs):
    pairs = [(k, v) for k, v in pairs if v is not None]
    if not pairs:
        return ""
    return "?" + "&".join("%s=%s" % (_quote_query(k), _quote_query(str(v))) for k, v in pairs)


def _check_parts(parts, allowed, filter_name):
    if not isinstance(parts, dict):
        raise WandbUrlError(filter_name, "expects a dict of URL parts, got %s" % type(parts).__name__)
    unknown = sorted(set(parts) - set(allowed))
    if unknown:
        raise WandbUrlError(unknown[0], "is not a part of this URL (known parts: %s)" % ", ".join(sorted(allowed)))


def _extra_params(params, known):
    """Query parameters the collection has no name for (driver options), kept in sorted order."""
    if not params:
        return []
    if not isinstance(params, dict):
        raise WandbUrlError("params", "must be a dict of query parameter names to values")
    for key in params:
        if not isinstance(key, str) or not key or key in known:
            raise WandbUrlError("params", "%r cannot be given here: use the part of that name" % (key,))
    return [(key, _text(params[key], "params.%s" % key) or "") for key in sorted(params)]


def _absolute_path(value, part):
    value = _plain(value, part)
    if value is not None and not value.startswith("/"):
        raise WandbUrlError(part, "must be an absolute path, got %r" % value)
    return value


def _object_path(value, part="path"):
    """A key prefix inside a bucket: surrounding slashes are dropped, empty segments refused."""
    value = _text(value, part)
    if value is None:
        return None
    value = value.strip("/")
    if not value:
        return None
    if "//" in value:
        raise WandbUrlError(part, "must not contain empty segments ('//')")
    if _CONTROL.search(value):
        raise WandbUrlError(part, "must not contain control characters")
    return value


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


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def _split_hostport(hostport, part):
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise WandbUrlError(part, "unclosed '[' in %r" % hostport)
        host, rest = hostport[1:end], hostport[end + 1 :]
        if rest and not rest.startswith(":"):
            raise WandbUrlError(part, "unexpected %r after the IPv6 address" % rest)
        port = rest[1:] if rest else None
    elif hostport.count(":") > 1:
        raise WandbUrlError(part, "an IPv6 address must be written in brackets: [%s]" % hostport)
    else:
        host, sep, port = hostport.partition(":")
        if not sep:
            port = None
    host = validate_host(host, part)
    if port is not None:
        port = validate_port(port, part if part != "host" else "port")
    return host, port


def _split(url, kind):
    """Split a URL Go's way into (scheme, userinfo or None, hostport, path, query pairs)."""
    if not isinstance(url, str):
        raise WandbUrlError(kind, "must be a string, got %s" % type(url).__name__)
    if _CONTROL_OR_SPACE.search(url):
        raise WandbUrlError(kind, "must not contain whitespace or control characters (URL-encode them)")
    if "#" in url:
        raise WandbUrlError(kind, "must not contain '#' (URL-encode it as %23)")
    if _PERCENT_RE.search(url):
        raise WandbUrlError(kind, "has a '%' that does not start a %XX escape (URL-encode it as %25)")
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise WandbUrlError(kind, "must look like SCHEME://..., got no '://'")
    cut = len(rest)
    for char in "/?":
        index = rest.find(char)
        if 0 <= index < cut:
            cut = index
    authority, rest = rest[:cut], rest[cut:]
    if "@" in rest:
        # An '@' after the authority is almost always a password with a raw '/', '?' or '#' in it;
        # parsing on would echo fragments of that password in the messages below.
        raise WandbUrlError(
            kind, "has an '@' after the host: URL-encode '/', '?', '#' and '@' in credentials and paths"
        )
    path, _sep, raw_query = rest.partition("?")
    userinfo = None
    if "@" in authority:
        userinfo, _sep, authority = authority.rpartition("@")
        if not _USERINFO_CHARS.match(userinfo):
            raise WandbUrlError(
                kind, "credentials contain characters that must be URL-encoded (use the wandb_local.fleet URL filters)"
            )
    return scheme, userinfo, authority, path, _parse_query(raw_query, kind)


def _parse_query(raw, kind):
    pairs = {}
    if not raw:
        return pairs
    for item in raw.split("&"):
        if not item:
            continue
        key, _sep, value = item.partition("=")
        key = unquote_plus(key)
        if key in pairs:
            raise WandbUrlError(kind, "query parameter %r is given twice" % key)
        pairs[key] = unquote_plus(value)
    return pairs


def _credentials(userinfo):
    if userinfo is None:
        return None, None
    user, sep, password = userinfo.partition(":")
    return unquote(user) or None, (unquote(password) or None) if sep else None


def _normalize(name):
    return name.lower().replace("-", "").replace("_", "")


def _take_query(query, known, kind):
    """Known parameters, refusing near-misses of them (ssl_ca for ssl-ca); others are kept as extra."""
    known_by_shape = dict((_normalize(k), k) for k in known)
    taken, extra = {}, {}
    for key, value in query.items():
        if key in known:
            taken[key] = value
        elif _normalize(key) in known_by_shape:
            raise WandbUrlError(kind, "query parameter %r is spelled %r" % (key, known_by_shape[_normalize(key)]))
        else:
            extra[key] = value
    return taken, extra


def parse_mysql_url(url, kind="MYSQL"):
    scheme, userinfo, hostport, path, query = _split(url, kind)
    if scheme != "mysql":
        raise WandbUrlError(kind, "must start with mysql://, got %s://" % scheme)
    user, password = _credentials(userinfo)
    if user is None:
        raise WandbUrlError(kind, "names no user (mysql://USER:PASS@HOST/DB)")
    if not hostport:
        raise WandbUrlError(kind, "names no host")
    host, port = _split_hostport(hostport, "host")
    database = unquote(path[1:]) if path.startswith("/") else ""
    if not database or "/" in path[1:]:
        raise WandbUrlError(kind, "must name exactly one database after the host (mysql://USER:PASS@HOST/DB)")
    known, extra = _take_query(query, ("tls", "ssl-ca"), kind)
    tls = known.get("tls") or None
    if tls is not None and tls not in MYSQL_TLS_MODES:
        raise WandbUrlError(kind, "tls=%s is not one of %s" % (tls, ", ".join(MYSQL_TLS_MODES)))
    ssl_ca = known.get("ssl-ca") or None
    if ssl_ca is not None and not ssl_ca.startswith("/"):
        raise WandbUrlError(kind, "ssl-ca must be an absolute path")
    try:
        _check_mysql_tls(tls, ssl_ca)
    except WandbUrlError as exc:
        raise WandbUrlError(kind, str(exc)) from None
    parts = {"scheme": "mysql", "user": user, "password": password, "host": host, "port": port}
    parts.update({"database": database, "tls": tls, "ssl_ca": ssl_ca})
    return _finish(parts, "mysql", extra)


def _finish(parts, kind, extra=None):
    parts = dict((k, v) for k, v in parts.items() if v is not None)
    parts["kind"] = kind
    if extra:
        parts["params"] = extra
    return parts


def parse_bucket_url(url, kind="BUCKET"):
    scheme, userinfo, hostport, path, query = _split(url, kind)
    segments = [unquote(s) for s in path.split("/")[1:]] if path else []
    if segments and segments[-1] == "":
        segments.pop()
    if any(s == "" for s in segments):
        raise WandbUrlError(kind, "path must not contain empty segments ('//')")
    known, extra = _take_query(query, ("tls",), kind)
    if extra:
        raise WandbUrlError(kind, "unknown query parameter %r" % sorted(extra)[0])
    if scheme == "s3":
        parts = _reraise_as(kind, _parse_s3, (userinfo, hostport, segments, known))
    elif scheme in ("gs", "az"):
        if known:
            raise WandbUrlError(kind, "tls= is only read for S3-compatible endpoints")
        if userinfo is not None:
            where = "AZURE_STORAGE_KEY" if scheme == "az" else "the server's service account"
            raise WandbUrlError(kind, "%s:// URLs carry no credentials: they come from %s" % (scheme, where))
        if scheme == "gs":
            parts = {"scheme": "gs", "bucket": hostport}
        else:
            if not segments:
                raise WandbUrlError(kind, "must be az://ACCOUNT/CONTAINER")
            parts = {"scheme": "az", "account": hostport, "container": segments.pop(0)}
        parts["path"] = "/".join(segments) or None
        _reraise_as(kind, compose_bucket_url, parts)
    else:
        raise WandbUrlError(kind, "must start with s3://, gs:// or az://, got %r" % _scheme_shown(url))
    return _finish(parts, "bucket")


def _parse_s3(pieces):
    userinfo, hostport, segments, known = pieces
    access_key, secret_key = _credentials(userinfo)
    if userinfo is not None and (access_key is None or secret_key is None):
        raise WandbUrlError("credentials", "must be ACCESS_KEY:SECRET_KEY@")
    parts = {"scheme": "s3", "access_key": access_key, "secret_key": secret_key}
    tls = _flag(known.get("tls"), "tls")
    if ":" in hostport:
        host, port = _split_hostport(hostport, "endpoint")
        if not segments:
            raise WandbUrlError("bucket", "is missing after the endpoint (s3://AK:SK@HOST:PORT/BUCKET)")
        parts.update({"endpoint": _format_hostport(host, port), "tls": tls, "bucket": segments.pop(0)})
    else:
        if tls:
            raise WandbUrlError("tls", "only applies to s3://AK:SK@HOST:PORT/BUCKET endpoints")
        parts["bucket"] = hostport
    _s3_bucket(parts["bucket"])
    parts["path"] = "/".join(segments) or None
    return parts


def _scheme_shown(url):
    scheme, sep, _rest = url.partition(":")
    return scheme + ":" if sep else url[:20]


def parse_queue_url(url, kind="BUCKET_QUEUE"):
    if isinstance(url, str) and url.startswith("pubsub:") and not url.startswith("pubsub:/"):
        raise WandbUrlError(kind, "must be pubsub:/PROJECT/TOPIC/SUBSCRIPTION")
    if isinstance(url, str) and url.startswith("pubsub:/"):
        if url.startswith("pubsub://"):
            raise WandbUrlError(kind, "pubsub takes exactly one slash: pubsub:/PROJECT/TOPIC/SUBSCRIPTION")
        segments = url[len("pubsub:/") :].split("/")
        if len(segments) != 3:
            raise WandbUrlError(kind, "must be pubsub:/PROJECT/TOPIC/SUBSCRIPTION (three names)")
        parts = {"scheme": "pubsub", "project": segments[0], "topic": segments[1], "subscription": segments[2]}
        _reraise_as(kind, compose_queue_url, parts)
        return _finish(parts, "queue")
    scheme, userinfo, hostport, path, query = _split(url, kind)
    if userinfo is not None or query:
        raise WandbUrlError(kind, "queue URLs carry no credentials or query parameters")
    if scheme == "internal":
        if hostport or path:
            raise WandbUrlError(kind, "must be exactly internal://")
        return _finish({"scheme": "internal"}, "queue")
    if scheme == "sqs":
        if path:
            raise WandbUrlError(kind, "must be sqs://QUEUE-NAME (the name, not the queue URL)")
        parts = {"scheme": "sqs", "name": hostport}
        _reraise_as(kind, compose_queue_url, parts)
        return _finish(parts, "queue")
    if scheme == "az":
        segments = path.split("/")[1:] if path else []
        if len(segments) != 1:
            raise WandbUrlError(kind, "must be az://ACCOUNT/QUEUE")
        parts = {"scheme": "az", "account": hostport, "queue": segments[0]}
        _reraise_as(kind, compose_queue_url, parts)
        return _finish(parts, "queue")
    raise WandbUrlError(kind, "must start with sqs://, pubsub:/, az:// or internal://, got %r" % _scheme_shown(url))


def _reraise_as(kind, function, parts):
    try:
        return function(parts)
    except WandbUrlError as exc:
        raise WandbUrlError(kind, str(exc)) from None


def parse_redis_url(url, kind="REDIS"):
    scheme, userinfo, hostport, path, query = _split(url, kind)
    if scheme != "redis":
        hint = " (TLS is ?tls=true, not rediss://)" if scheme == "rediss" else ""
        raise WandbUrlError(kind, "must start with redis://, got %s://%s" % (scheme, hint))
    if path not in ("", "/"):
        raise WandbUrlError(kind, "takes no path or database number after HOST:PORT")
    if not hostport:
        raise WandbUrlError(kind, "names no host")
    username, password = _credentials(userinfo)
    host, port = _split_hostport(hostport, "host")
    known, extra = _take_query(query, ("tls", "caCertPath", "ttlInSeconds", "master"), kind)
    parts = {"scheme": "redis", "host": host, "port": port, "username": username, "password": password}
    parts.update(
        {
            "tls": _reraise_as(kind, lambda v: _flag(v, "tls"), known.get("tls")),
            "ca_cert_path": known.get("caCertPath") or None,
            "ttl_in_seconds": _reraise_as(kind, lambda v: _positive_int(v, "ttlInSeconds"), known.get("ttlInSeconds")),
            "sentinel_master": known.get("master") or None,
        }
    )
    if parts["ca_cert_path"] is not None:
        if not parts["ca_cert_path"].startswith("/"):
            raise WandbUrlError(kind, "caCertPath must be an absolute path")
        if not parts["tls"]:
            raise WandbUrlError(kind, "caCertPath is only read with tls=true")
    return _finish(parts, "redis", extra)


def parse_url(url, kind=None):
    """Parse any W&B URL into its parts. `kind` (mysql, bucket, queue, redis) settles az://, which
    is both a bucket (az://ACCOUNT/CONTAINER) and a queue (az://ACCOUNT/QUEUE); without it az://
    is read as a bucket."""
    if not isinstance(url, str):
        raise WandbUrlError("url", "must be a string, got %s" % type(url).__name__)
    if kind is None:
        scheme = url.partition(":")[0]
        # rediss:// is refused by the Redis parser with the hint to use ?tls=true.
        kind = URL_SCHEMES.get(scheme) or ("redis" if scheme == "rediss" else None)
        if kind is None:
            raise WandbUrlError("url", "unknown scheme %r (known: %s)" % (scheme, ", ".join(sorted(URL_SCHEMES))))
    parser = {
        "mysql": parse_mysql_url,
        "bucket": parse_bucket_url,
        "queue": parse_queue_url,
        "redis": parse_redis_url,
    }.get(kind)
    if parser is None:
        raise WandbUrlError("kind", "must be one of mysql, bucket, queue, redis, got %r" % (kind,))
    return parser(url, kind="url")


# ---------------------------------------------------------------------------------------------
# Secrets inside URLs
# ---------------------------------------------------------------------------------------------


def _userinfo_span(url):
    """(start, end) of the password inside url, found the way Go finds userinfo; None if absent.

    When a raw '/', '?' or '#' hides the '@' from the authority (an unencoded password), the last
    '@' of the whole URL is used instead: masking too much is better than leaking."""
    if not isinstance(url, str):
        return None
    marker = url.find("://")
    if marker < 0:
        return None
    start = marker + 3
    at = url.rfind("@", start)
    if at < 0:
        return None
    colon = url.find(":", start, at)
    if colon < 0:
        return None
    return colon + 1, at


def url_password(url):
    """The password of a URL as written (still percent-encoded) and decoded, or (None, None)."""
    span = _userinfo_span(url)
    if span is None or span[0] == span[1]:
        return None, None
    raw = url[span[0] : span[1]]
    return raw, unquote(raw)


def mask_url(url):
    """The URL with the password of its userinfo replaced by ********."""
    span = _userinfo_span(url)
    if span is None or span[0] == span[1]:
        return url
    return url[: span[0]] + MASK + url[span[1] :]
