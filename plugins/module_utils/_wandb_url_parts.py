# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pieces shared by composing and parsing W&B connection URLs: the rules of Go's net/url the
server parses them with, the parts' validators and the error they raise.

Private to the collection: used by _wandb_url_compose and _wandb_urls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from urllib.parse import quote

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
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (from a mis-decoded file) cannot be percent-encoded or sent.
        raise WandbUrlError(part, "must be valid Unicode text (it holds a lone surrogate)") from None
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
