# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The W&B server's environment variables: the catalogue, each value's rule, what is secret.

Every variable the vendor documents, with the validator its value must pass, and the rules for
names and values that every line of the environment file follows (see docs/settings.md). What is
secret is decided here too, by name and by URL userinfo, for masking diffs, results and messages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import difflib
import re

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import (
    MASK,
    WandbUrlError,
    mask_url,
    parse_bucket_url,
    parse_mysql_url,
    parse_queue_url,
    parse_redis_url,
    url_password,
)

KEY_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_ANY_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BAD_VALUE_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# Go's strconv.ParseBool, which the server uses for its flags.
GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_GO_DURATION_RE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|m|h))+$")
_AWS_REGION_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
_TOKEN_RE = re.compile(r"^\S+$")
_EMAIL_RE = re.compile(r"^(?:[^<>\n]*<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")
_ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9_.-]+(?::\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$|^\*$")
# Over-masking a harmless variable only costs a less useful diff; under-masking leaks.
_SECRET_NAME_PARTS = ("SECRET", "PASS", "PWD", "KEY", "TOKEN", "CRED", "PRIVATE")
_SECRET_NAMES = ("LICENSE",)
OIDC_SECRET_NAMES = ("OIDC_SECRET", "GORILLA_OIDC_SECRET", "OIDC_CLIENT_SECRET")


class SettingError(ValueError):
    """One value breaks one rule; the message says which rule, never the secret itself."""


class SettingsInvalid(ValueError):
    """The requested settings break rules; `errors` lists 'KEY: rule' messages."""

    def __init__(self, errors):
        super(SettingsInvalid, self).__init__("; ".join(errors))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Validators: take the value as text, return the text to write (normalized) or raise SettingError
# ---------------------------------------------------------------------------------------------


def _url(parser):
    def validate(value):
        try:
            parser(value, kind="value")
        except WandbUrlError as exc:
            message = str(exc)
            if message.startswith("value: "):
                message = message[len("value: ") :]
            raise SettingError(message) from None
        return value

    validate.__doc__ = parser.__doc__
    return validate


def _boolean(value):
    if value in GO_TRUE:
        return "true"
    if value in _GO_FALSE:
        return "false"
    raise SettingError("must be true or false, got %r" % value)


def _token(value):
    if not _TOKEN_RE.match(value):
        raise SettingError("must be a single word without spaces")
    return value


def _base64_key(value):
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SettingError("must be the storage account's base64 access key (key1 or key2)") from None
    return value


def _http_url(value, require_https=False, allow_path=True):
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise SettingError("must be an absolute http:// or https:// URL, got %r" % value)
    if require_https and scheme != "https":
        raise SettingError("must be an https:// URL, got %r" % value)
    if "?" in rest or "#" in rest:
        raise SettingError("must not have a query or fragment, got %r" % value)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        raise SettingError("must not carry credentials")
    if not re.match(r"^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$", authority):
        raise SettingError("names no valid HOST[:PORT], got %r" % value)
    if not allow_path and slash:
        hint = " (drop the trailing '/')" if not path else ""
        raise SettingError("must be SCHEME://HOST[:PORT] with no path, got %r%s" % (value, hint))
    return value


def _host(value):
    """HOST is the base URL users reach; the server appends /oidc/callback etc. to it."""
    return _http_url(value, allow_path=False)


def _oidc_issuer(value):
    return _http_url(value, require_https=True)


def _oidc_auth_method(value):
    if value.lower() not in ("implicit", "pkce"):
        raise SettingError("must be implicit or pkce, got %r" % value)
    return value.lower()


def _aws_region(value):
    if not _AWS_REGION_RE.match(value):
        raise SettingError("must be a region name such as us-east-1 (lower case, digits, '-'), got %r" % value)
    return value


def _email_sink(value):
    scheme, sep, _rest = value.partition("://")
    if not sep or not re.match(r"^[a-z][a-z0-9+.-]*$", scheme):
        raise SettingError("must be a URL such as smtp://USER:PASS@HOST:PORT")
    if scheme in ("smtp", "smtps"):
        host_port = _rest.rpartition("@")[2].split("/")[0].split("?")[0]
        if not re.match(r"^[A-Za-z0-9_.-]+(?::\d{1,5})?$", host_port):
            raise SettingError("names no valid HOST[:PORT] after the credentials")
    return value


def _email_address(value):
    if not _EMAIL_RE.match(value):
        raise SettingError("must be an e-mail address (name@example.com or Name <name@example.com>), got %r" % value)
    return value


def _cors_origins(value):
    for origin in value.split(","):
        origin = origin.strip()
        if not _ORIGIN_RE.match(origin):
            raise SettingError("must be a comma-separated list of origins (https://host[:port] or *), got %r" % origin)
    return value


def _go_duration(value):
    if not _GO_DURATION_RE.match(value):
        hint = " (append the unit: %sh)" % value if value.isdigit() else ""
        raise SettingError("must be a duration such as 24h or 720h%s, got %r" % (hint, value))
    return value


def _hours(value):
    if not value.isdigit() or int(value) < 1:
        raise SettingError("must be a whole number of hours (for example 720), got %r" % value)
    return value


def _any_url(value):
    if not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value):
        raise SettingError("must be a URL (SCHEME://...)")
    return value


class Variable(object):
    def __init__(self, name, summary, validate=None, secret=False, example=None):
        self.name = name
        self.summary = summary
        self.validate = validate
        self.secret = secret
        self.example = example


# Every variable the vendor documents (the seed's table, wandb-facts.md). Rules for formats the
# vendor does not pin down are kept loose on purpose; docs/settings.md says which are which.
CATALOGUE = (
    Variable("LICENSE", "Your wandb/local license.", _token, secret=True),
    Variable("MYSQL", "MySQL connection URL.", _url(parse_mysql_url)),
    Variable("BUCKET", "Object storage for files (s3://, gs://, az://).", _url(parse_bucket_url)),
    Variable("BUCKET_QUEUE", "Object-creation event queue.", _url(parse_queue_url)),
    Variable("NOTIFICATIONS_QUEUE", "Queue on which run events are published.", _url(parse_queue_url)),
    Variable("AWS_REGION", "Region of the bucket (us-east-1 for MinIO).", _aws_region),
    Variable("HOST", "Base URL users reach the server at.", _host),
    Variable("OIDC_ISSUER", "OpenID Connect issuer URL.", _oidc_issuer),
    Variable("OIDC_CLIENT_ID", "Client ID of the application in the identity provider.", _token),
    Variable("OIDC_AUTH_METHOD", "implicit (default) or pkce.", _oidc_auth_method),
    Variable("OIDC_SECRET", "OIDC client secret (one of three names the vendor has used).", _token, secret=True),
    Variable("GORILLA_OIDC_SECRET", "OIDC client secret (alternative name).", _token, secret=True),
    Variable("OIDC_CLIENT_SECRET", "OIDC client secret (alternative name).", _token, secret=True),
    Variable("SLACK_CLIENT_ID", "Client ID of the Slack application for alerts.", _token),
    Variable("SLACK_SECRET", "Secret of the Slack application for alerts.", _token, secret=True),
    Variable("LOCAL_RESTORE", "Restore mode: temporary admin credentials in the logs, SSO off.", _boolean),
    Variable("REDIS", "External Redis URL (single node or Sentinel).", _url(parse_redis_url)),
    Variable("LOGGING_ENABLED", "Stream access logs to stdout.", _boolean),
    Variable("AZURE_STORAGE_KEY", "Access key of the Azure storage account of an az:// bucket.", _base64_key, True),
    Variable("AWS_S3_KMS_ID", "KMS key used to encrypt the S3 bucket.", _token),
    Variable("GORILLA_EMAIL_SINK", "Mail transport, e.g. smtp://USER:PASS@HOST:PORT.", _email_sink),
    Variable("GORILLA_EMAIL_FROM_ADDRESS", "Sender address of the server's mail.", _email_address),
    Variable("GORILLA_CORS_ORIGINS", "Extra origins allowed by CORS, comma-separated.", _cors_origins),
    Variable("GORILLA_DISABLE_PERSONAL_ENTITY", "Turn off personal entities.", _boolean),
    Variable("GORILLA_ALLOW_USER_TEAM_CREATION", "Let non-admin users create teams.", _boolean),
    Variable(
        "GORILLA_DATA_RETENTION_PERIOD", "How long deleted run data is kept (Go duration, e.g. 720h).", _go_duration
    ),
    Variable("GORILLA_ARTIFACT_GC_ENABLED", "Garbage-collect deleted artifacts.", _boolean),
    Variable("GORILLA_SUPPORTED_FILE_STORES", "Extra buckets teams may use (secure storage connector).", None),
    Variable("SESSION_LENGTH", "User session length in hours (default 720).", _hours),
    Variable("BUCKET_PROXY", "Proxy URL the server uses to reach the bucket.", _any_url),
)
CATALOGUE_BY_NAME = dict((variable.name, variable) for variable in CATALOGUE)
# LDAP_* / LOCAL_LDAP_*, unknown GORILLA_* and any other upper-case names pass through with only
# the file-level value rules: the vendor adds variables faster than any catalogue.


def is_secret_key(name):
    if name in _SECRET_NAMES:
        return True
    if name in CATALOGUE_BY_NAME and CATALOGUE_BY_NAME[name].secret:
        return True
    return any(part in name for part in _SECRET_NAME_PARTS) or name.endswith("_PW") or "_PW_" in name


def mask_value(name, value):
    """What a diff may show of a value: nothing of a secret, URLs without their passwords."""
    if value is None:
        return None
    if is_secret_key(name):
        return MASK if value else value
    if "://" in value:
        return mask_url(value)
    return value


def secret_fragments(name, value):
    """Strings that must never appear in output for this variable: the value of a secret variable,
    and the password inside a URL both as written and decoded."""
    if not value:
        return set()
    if is_secret_key(name):
        return set([value])
    found = set()
    raw, decoded = url_password(value)
    for fragment in (raw, decoded):
        if fragment:
            found.add(fragment)
    return found


# ---------------------------------------------------------------------------------------------
# Input normalization and validation
# ---------------------------------------------------------------------------------------------


def value_text(value):
    """The text a setting's value is written as; YAML booleans become the server's true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    raise SettingError("must be a string, number or boolean, not a %s" % type(value).__name__)


def check_key(key):
    if not isinstance(key, str) or not _ANY_KEY_RE.match(key):
        raise SettingError("is not a valid variable name (letters, digits and '_', not starting with a digit)")
    if not KEY_RE.match(key):
        hint = " (did you mean %s?)" % key.upper() if key.upper() in CATALOGUE_BY_NAME else ""
        raise SettingError("must be upper case like every W&B variable%s" % hint)


def normalize_value(key, value):
    text = value_text(value)
    if _BAD_VALUE_CHARS.search(text):
        raise SettingError("must not contain line breaks, tabs or other control characters")
    if text != text.strip():
        raise SettingError(
            "must not start or end with whitespace (docker_container and docker run read it differently)"
        )
    variable = CATALOGUE_BY_NAME.get(key)
    if variable is None or variable.validate is None:
        return text
    if text == "":
        raise SettingError("is empty: give null to remove the variable instead")
    return variable.validate(text)


def unknown_key_warning(key):
    if key in CATALOGUE_BY_NAME:
        return None
    close = difflib.get_close_matches(key, list(CATALOGUE_BY_NAME), n=1, cutoff=0.85)
    if close:
        return "%s is not a W&B variable this collection knows; did you mean %s?" % (key, close[0])
    return None


def _display_key(key):
    return key if isinstance(key, str) and len(key) <= 80 and key.isprintable() else repr(key)[:80]


def normalize_request(requested):
    """{KEY: value or None} -> {KEY: text or None}; raises SettingsInvalid naming every bad key."""
    if not isinstance(requested, dict):
        raise SettingsInvalid(["settings: must be a dict of variable names to values"])
    errors, normalized = [], {}
    for key in sorted(requested, key=str):
        try:
            check_key(key)
            value = requested[key]
            normalized[key] = None if value is None else normalize_value(key, value)
        except SettingError as exc:
            errors.append("%s: %s" % (_display_key(key), exc))
    if errors:
        raise SettingsInvalid(errors)
    return normalized
