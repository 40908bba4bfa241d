# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The W&B server's environment file: variable catalogue, validation, planning, masking, writing.

Shared by the settings and restore_mode modules so both change the file the same way. The file is
read by `docker run --env-file` and by community.docker.docker_container's `env_file`, whose parsers
differ (docker-py strips each line, the Docker CLI does not, and docker-py refuses lines without
'='), so the rules below keep to what both read identically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import difflib
import json
import os
import re
import tempfile

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

DEFAULT_PATH = "/etc/wandb/wandb.env"
NEW_FILE_HEADER = "# W&B server environment (wandb/local), managed by Ansible: wandb_local.fleet.settings"
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


# ---------------------------------------------------------------------------------------------
# Cross-field rules, on the environment as it will be after the change
# ---------------------------------------------------------------------------------------------


def _parsed(env, key, parser):
    value = env.get(key)
    if not value:
        return None
    try:
        return parser(value, kind=key)
    except WandbUrlError:
        return None


def cross_field_findings(env):
    """[(severity, keys involved, message)] for the whole environment."""
    findings = []

    def need(condition, severity, keys, message):
        if condition:
            findings.append((severity, keys, message))

    bucket = _parsed(env, "BUCKET", parse_bucket_url)
    bucket_queue = _parsed(env, "BUCKET_QUEUE", parse_queue_url)
    notifications = _parsed(env, "NOTIFICATIONS_QUEUE", parse_queue_url)
    bucket_scheme = bucket and bucket["scheme"]
    queue_scheme = bucket_queue and bucket_queue["scheme"]
    s3_compatible = bool(bucket and bucket_scheme == "s3" and bucket.get("endpoint"))

    need(
        bucket_scheme == "az" and not env.get("AZURE_STORAGE_KEY"),
        "error",
        ("BUCKET", "AZURE_STORAGE_KEY"),
        "BUCKET: an az:// bucket needs AZURE_STORAGE_KEY (the storage account's access key)",
    )
    need(
        queue_scheme == "az" and not env.get("AZURE_STORAGE_KEY"),
        "error",
        ("BUCKET_QUEUE", "AZURE_STORAGE_KEY"),
        "BUCKET_QUEUE: an az:// queue needs AZURE_STORAGE_KEY",
    )
    need(
        queue_scheme == "az" and bucket_scheme == "az" and bucket_queue["account"] != bucket["account"],
        "error",
        ("BUCKET_QUEUE", "BUCKET"),
        "BUCKET_QUEUE: the az:// queue must be in the bucket's storage account (one AZURE_STORAGE_KEY serves both)",
    )
    for key, queue in (("BUCKET_QUEUE", bucket_queue), ("NOTIFICATIONS_QUEUE", notifications)):
        need(
            bool(queue and queue["scheme"] == "sqs" and not env.get("AWS_REGION")),
            "error",
            (key, "AWS_REGION"),
            "%s: an sqs:// queue needs AWS_REGION" % key,
        )
    if queue_scheme and queue_scheme != "internal":
        pairs = {"sqs": "s3", "pubsub": "gs", "az": "az"}
        need(
            not bucket,
            "error",
            ("BUCKET_QUEUE", "BUCKET"),
            "BUCKET_QUEUE: a %s queue receives the bucket's events, so BUCKET must be set" % queue_scheme,
        )
        need(
            bool(bucket) and (pairs[queue_scheme] != bucket_scheme or s3_compatible),
            "error",
            ("BUCKET_QUEUE", "BUCKET"),
            "BUCKET_QUEUE: a %s queue cannot receive events from a %s bucket%s"
            % (
                queue_scheme,
                "S3-compatible (endpoint)" if s3_compatible else (bucket_scheme or "") + "://",
                "; use internal://" if s3_compatible else "",
            ),
        )
    need(
        bool(env.get("OIDC_ISSUER")) and not env.get("OIDC_CLIENT_ID"),
        "error",
        ("OIDC_ISSUER", "OIDC_CLIENT_ID"),
        "OIDC_ISSUER: needs OIDC_CLIENT_ID",
    )
    need(
        bool(env.get("OIDC_CLIENT_ID")) and not env.get("OIDC_ISSUER"),
        "error",
        ("OIDC_CLIENT_ID", "OIDC_ISSUER"),
        "OIDC_CLIENT_ID: needs OIDC_ISSUER",
    )
    need(
        bool(env.get("OIDC_AUTH_METHOD")) and not env.get("OIDC_ISSUER"),
        "error",
        ("OIDC_AUTH_METHOD", "OIDC_ISSUER"),
        "OIDC_AUTH_METHOD: needs OIDC_ISSUER",
    )
    oidc_secrets = [name for name in OIDC_SECRET_NAMES if env.get(name)]
    need(
        bool(oidc_secrets) and not env.get("OIDC_CLIENT_ID"),
        "error",
        (*oidc_secrets, "OIDC_CLIENT_ID"),
        "%s: an OIDC client secret needs OIDC_CLIENT_ID" % (oidc_secrets[0] if oidc_secrets else ""),
    )
    need(
        len(set(env[name] for name in oidc_secrets)) > 1,
        "error",
        tuple(oidc_secrets),
        "%s: these name the same OIDC client secret but hold different values; keep one" % ", ".join(oidc_secrets),
    )
    need(
        bool(env.get("SLACK_CLIENT_ID")) and not env.get("SLACK_SECRET"),
        "error",
        ("SLACK_CLIENT_ID", "SLACK_SECRET"),
        "SLACK_CLIENT_ID: needs SLACK_SECRET",
    )
    need(
        bool(env.get("SLACK_SECRET")) and not env.get("SLACK_CLIENT_ID"),
        "error",
        ("SLACK_SECRET", "SLACK_CLIENT_ID"),
        "SLACK_SECRET: needs SLACK_CLIENT_ID",
    )
    need(
        s3_compatible and not env.get("AWS_REGION"),
        "warning",
        ("BUCKET", "AWS_REGION"),
        "BUCKET: an S3-compatible store is usually reached with AWS_REGION=us-east-1; AWS_REGION is not set",
    )
    need(
        bucket_scheme == "s3" and not s3_compatible and not env.get("AWS_REGION"),
        "warning",
        ("BUCKET", "AWS_REGION"),
        "BUCKET: set AWS_REGION to the region the S3 bucket lives in",
    )
    need(
        bool(env.get("OIDC_ISSUER")) and not env.get("HOST"),
        "warning",
        ("OIDC_ISSUER", "HOST"),
        "OIDC_ISSUER: HOST is not set, but the identity provider calls back to HOST/oidc/callback",
    )
    need(
        bool(env.get("GORILLA_EMAIL_SINK")) and not env.get("GORILLA_EMAIL_FROM_ADDRESS"),
        "warning",
        ("GORILLA_EMAIL_SINK", "GORILLA_EMAIL_FROM_ADDRESS"),
        "GORILLA_EMAIL_SINK: GORILLA_EMAIL_FROM_ADDRESS is not set",
    )
    need(
        env.get("LOCAL_RESTORE") in GO_TRUE,
        "warning",
        ("LOCAL_RESTORE",),
        "LOCAL_RESTORE: restore mode is on (SSO off, temporary admin credentials in the logs); remove it when done",
    )
    return findings


# ---------------------------------------------------------------------------------------------
# The env file
# ---------------------------------------------------------------------------------------------


class EnvLine(object):
    __slots__ = ("key", "raw", "value")

    def __init__(self, raw, key=None, value=None):
        self.raw = raw
        self.key = key
        self.value = value

    @property
    def is_comment_or_blank(self):
        stripped = self.raw.strip()
        return not stripped or stripped.startswith("#")


class EnvFile(object):
    """KEY=value lines in their order; comments and lines of any other shape are kept verbatim."""

    def __init__(self, lines, exists=True):
        self.lines = lines
        self.exists = exists

    @classmethod
    def parse(cls, text, exists=True):
        pieces = text.split("\n")
        if pieces and pieces[-1] == "":
            pieces.pop()
        lines = []
        for raw in pieces:
            line = raw.rstrip("\r").lstrip()
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#") and KEY_RE.match(key):
                lines.append(EnvLine(raw, key, value))
            else:
                lines.append(EnvLine(raw))
        return cls(lines, exists)

    def values(self):
        env = {}
        for line in self.lines:
            if line.key is not None:
                env[line.key] = line.value
        return env

    def odd_line_numbers(self):
        return [n for n, line in enumerate(self.lines, 1) if line.key is None and not line.is_comment_or_blank]

    def render(self):
        if not self.lines:
            return ""
        return "\n".join(line.raw for line in self.lines) + "\n"

    def apply(self, changes, purge=False):
        """A new EnvFile with changes ({KEY: text or None}) applied; purge drops unnamed variables."""
        lines, written = [], set()
        for line in self.lines:
            if line.key is None:
                if purge and not line.is_comment_or_blank:
                    continue
                lines.append(line)
                continue
            if line.key not in changes:
                if not purge:
                    lines.append(line)
                continue
            value = changes[line.key]
            if value is None or line.key in written:
                continue
            written.add(line.key)
            lines.append(line if line.value == value else EnvLine("%s=%s" % (line.key, value), line.key, value))
        for key in sorted(changes):
            if changes[key] is not None and key not in written:
                lines.append(EnvLine("%s=%s" % (key, changes[key]), key, changes[key]))
        if not self.exists and (not lines or lines[0].raw != NEW_FILE_HEADER):
            lines.insert(0, EnvLine(NEW_FILE_HEADER))
        return EnvFile(lines, exists=True)

    def masked(self, other_values=None):
        """The file as a diff may show it. other_values: the other side of the diff, so that a
        changed secret still shows up as a changed line."""
        shown = []
        for line in self.lines:
            if line.key is None:
                shown.append(line.raw if line.is_comment_or_blank else "# (a line not in KEY=value form, hidden)")
                continue
            text = "%s=%s" % (line.key, mask_value(line.key, line.value))
            if other_values is not None and line.key in other_values:
                other = other_values[line.key]
                if other != line.value and mask_value(line.key, other) == mask_value(line.key, line.value):
                    text += " (secret changed)"
            shown.append(text)
        return "\n".join(shown) + ("\n" if shown else "")


class Plan(object):
    def __init__(self, before, after, requested, warnings):
        self.before = before
        self.after = after
        self.before_values = before.values()
        self.after_values = after.values()
        self.requested = requested
        self.warnings = warnings
        self.before_text = before.render() if before.exists else None
        self.after_text = after.render()
        keys = set(self.before_values) | set(self.after_values)
        self.changed_keys = sorted(k for k in keys if self.before_values.get(k) != self.after_values.get(k))
        self.content_changed = self.before_text != self.after_text

    def diff(self, path):
        return {
            "before": self.before.masked() if self.before.exists else "",
            "after": self.after.masked(self.before_values),
            "before_header": "%s (secrets masked)" % path,
            "after_header": "%s (secrets masked)" % path,
        }


def plan_settings(current_text, requested, purge=False, exists=True):
    """What writing `requested` ({KEY: value or None}) into the file would do.

    Raises SettingsInvalid before anything is decided when a key or value breaks a rule, or when the
    result breaks a cross-field rule involving a key named in `requested` (with purge, the result
    holds only named keys, so every rule applies).
    Cross-field problems that only involve keys left as they were are warnings: the module does not
    refuse to change LOCAL_RESTORE because of an unrelated old mistake.
    """
    normalized = normalize_request(requested)
    before = EnvFile.parse(current_text or "", exists=exists)
    after = before.apply(normalized, purge=purge)
    after_values = after.values()
    named = set(normalized)
    errors, warnings = [], []
    for severity, keys, message in cross_field_findings(after_values):
        if severity == "error" and named.intersection(keys):
            errors.append(message)
        elif severity == "error":
            warnings.append("%s (already in the file, left as is)" % message)
        elif named.intersection(keys):
            warnings.append(message)
    if errors:
        raise SettingsInvalid(errors)
    for key in sorted(normalized):
        warning = unknown_key_warning(key)
        if warning:
            warnings.append(warning)
    odd = after.odd_line_numbers()
    if odd:
        warnings.append(
            "lines %s of the file are not KEY=value; docker_container refuses such a file (purge: true removes them)"
            % ", ".join(str(n) for n in odd)
        )
    return Plan(before, after, normalized, warnings)


# ---------------------------------------------------------------------------------------------
# Reading and writing on the managed host
# ---------------------------------------------------------------------------------------------


class FileProblem(Exception):
    pass


def read_env_file(path):
    """(text, exists). The file must be UTF-8; a missing file reads as empty."""
    if os.path.isdir(path):
        raise FileProblem("%s is a directory, not an env file" % path)
    if not os.path.exists(path):
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            raise FileProblem("directory %s does not exist (create it before writing %s)" % (directory, path))
        return "", False
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        raise FileProblem("%s is not UTF-8 text" % path) from None


def write_env_file(module, path, text):
    """Write through a temporary file and AnsibleModule.atomic_move: readers see the old file or
    the new one, never half of it.

    atomic_move gives a new destination umask permissions (0644 with the usual umask) after the
    rename; creating the destination 0600 first makes it copy that instead, so secrets are never
    readable by others, not even for a moment."""
    directory = os.path.dirname(path) or "."
    created = False
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        created = True
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".wandb-env-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        module.atomic_move(tmp_path, path)
    except Exception:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        if created and os.path.exists(path) and os.path.getsize(path) == 0:
            os.unlink(path)
        raise


# ---------------------------------------------------------------------------------------------
# Module glue shared by settings and restore_mode
# ---------------------------------------------------------------------------------------------


def narrow_no_log_values(module, requested):
    """Keep only real secrets in module.no_log_values.

    `settings` is no_log so Ansible never logs the raw dict (journal, -vvv invocation). That also
    registers every value of it, and Ansible then masks any output that merely contains 'true' or a
    host name, which makes the (already masked) diff and messages unreadable. The secrets, judged by
    variable name and by URL userinfo, stay registered as a backstop."""
    if not isinstance(requested, dict):
        return
    keep = set()
    everything = set()
    for key, value in requested.items():
        if value is None or isinstance(value, (dict, list)):
            continue
        try:
            text = value_text(value)
        except SettingError:
            continue
        everything.add(text)
        everything.add(str(value))
        keep |= secret_fragments(str(key), text)
    module.no_log_values.difference_update(everything - keep)
    module.no_log_values.update(keep)


def masked_settings(requested):
    """The settings option as the result's invocation may show it: masked like the diff."""
    if not isinstance(requested, dict):
        return MASK
    shown = {}
    for key, value in requested.items():
        if value is None:
            shown[key] = None
        elif isinstance(value, bool) and not is_secret_key(str(key)):
            shown[key] = value
        else:
            try:
                shown[key] = mask_value(str(key), value_text(value))
            except SettingError:
                shown[key] = MASK
    return shown


def result_invocation(module, option="settings"):
    """Ansible would return module.params as they are; the settings dict is shown masked instead."""
    module_args = dict(module.params)
    if option in module_args:
        module_args[option] = masked_settings(module_args[option])
    return {"module_args": module_args}


def register_file_secrets(module, *envs):
    for env in envs:
        for key, value in env.items():
            module.no_log_values.update(secret_fragments(key, value))


def file_attributes(path, owner=None, group=None, mode=None):
    return {
        "path": path,
        "owner": owner,
        "group": group,
        "mode": mode,
        "attributes": None,
        "secontext": [None, None, None],
    }


def apply_plan(module, path, plan, file_args, result):
    """Write the planned content (unless check mode) and fix owner/group/mode.

    Returns whether anything changed (content or attributes)."""
    changed = plan.content_changed
    if changed and not module.check_mode:
        try:
            write_env_file(module, path, plan.after_text)
        except (IOError, OSError) as exc:
            module.fail_json(msg="Could not write %s: %s" % (path, exc), **result)
    if os.path.exists(path):
        diff = {"before": {}, "after": {}}
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=diff, expand=False) or changed
    return changed


def verify_oidc_issuer(issuer, open_url, timeout=15):
    """Fetch the issuer's discovery document; return None when it is fine, else the problem."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = open_url(url, method="GET", timeout=timeout, validate_certs=True, follow_redirects="safe")
        body = response.read()
    except Exception as exc:  # urllib, socket and ssl errors all mean the same here
        return "OIDC_ISSUER: the discovery document %s is unreachable: %s" % (url, exc)
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return "OIDC_ISSUER: %s did not answer with JSON" % url
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        named = document.get("issuer") if isinstance(document, dict) else None
        return "OIDC_ISSUER: %s names issuer %r, not %r (they must match exactly)" % (url, named, issuer)
    return None


def run_settings(module, open_url):
    """The settings module's whole run (see plugins/modules/settings.py for the options)."""
    params = module.params
    path = params["path"]
    requested = params["settings"] or {}
    narrow_no_log_values(module, requested)
    result = {"changed": False, "changed_keys": [], "restart_required": False}
    result["invocation"] = result_invocation(module)
    try:
        text, exists = read_env_file(path)
    except (FileProblem, IOError, OSError) as exc:
        module.fail_json(msg="settings: %s" % exc, **result)
    try:
        plan = plan_settings(text, requested, purge=params["purge"], exists=exists)
    except SettingsInvalid as exc:
        module.fail_json(msg="Invalid settings, %s left unchanged: %s" % (path, exc), errors=exc.errors, **result)
    register_file_secrets(module, plan.before_values, plan.after_values)
    for warning in plan.warnings:
        module.warn(warning)
    if params["verify_oidc"]:
        issuer = plan.after_values.get("OIDC_ISSUER")
        if not issuer:
            module.warn("verify_oidc: OIDC_ISSUER is not set, nothing to verify")
        else:
            problem = verify_oidc_issuer(issuer, open_url)
            if problem:
                module.fail_json(msg="%s; %s left unchanged" % (problem, path), **result)
    file_args = file_attributes(path, params["owner"], params["group"], params["mode"])
    result["changed"] = apply_plan(module, path, plan, file_args, result)
    result["changed_keys"] = plan.changed_keys
    result["restart_required"] = bool(plan.changed_keys)
    if module._diff:
        result["diff"] = plan.diff(path)
    module.exit_json(**result)
