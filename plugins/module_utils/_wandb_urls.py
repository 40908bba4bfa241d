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

from urllib.parse import unquote, unquote_plus

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_url_compose import (
    BUCKET_PARTS,
    MYSQL_PARTS,
    QUEUE_PARTS,
    REDIS_PARTS,
    _check_mysql_tls,
    _positive_int,
    _s3_bucket,
    compose_bucket_url,
    compose_mysql_url,
    compose_queue_url,
    compose_redis_url,
    compose_url,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_url_parts import (
    _CONTROL_OR_SPACE,
    _PERCENT_RE,
    _USERINFO_CHARS,
    MASK,
    MYSQL_DEFAULT_DATABASE,
    MYSQL_TLS_MODES,
    REDIS_DEFAULT_PORT,
    REDIS_SENTINEL_DEFAULT_PORT,
    URL_SCHEMES,
    WandbUrlError,
    _flag,
    _format_hostport,
    _split_hostport,
    validate_host,
    validate_port,
)

# Callers import every URL function from here; the pieces live in _wandb_url_parts and
# _wandb_url_compose so that no file grows past ~500 lines.
__all__ = [
    "BUCKET_PARTS",
    "MASK",
    "MYSQL_DEFAULT_DATABASE",
    "MYSQL_PARTS",
    "MYSQL_TLS_MODES",
    "QUEUE_PARTS",
    "REDIS_DEFAULT_PORT",
    "REDIS_PARTS",
    "REDIS_SENTINEL_DEFAULT_PORT",
    "URL_SCHEMES",
    "WandbUrlError",
    "compose_bucket_url",
    "compose_mysql_url",
    "compose_queue_url",
    "compose_redis_url",
    "compose_url",
    "mask_url",
    "parse_bucket_url",
    "parse_mysql_url",
    "parse_queue_url",
    "parse_redis_url",
    "parse_url",
    "url_password",
    "validate_host",
    "validate_port",
]


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


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
