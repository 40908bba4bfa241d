# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import (
    MASK,
    WandbUrlError,
    compose_bucket_url,
    compose_mysql_url,
    compose_queue_url,
    compose_redis_url,
    compose_url,
    mask_url,
    parse_url,
    url_password,
)

# Any text at all: unicode, ':', '@', '/', '?', '#', '%', '+', spaces, NUL.
credentials = st.text(min_size=1, max_size=40)
hosts = st.one_of(
    st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?(?:\.[a-z0-9]{1,10}){0,3}\Z"),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)
ports = st.one_of(st.none(), st.integers(min_value=1, max_value=65535))
s3_buckets = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,20}[a-z0-9]\Z")
paths = st.lists(
    # Not control characters, nor lone surrogates (not text: refused, see the test at the end).
    st.text(
        alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cc", "Cs")), min_size=1, max_size=8
    ),
    max_size=3,
).map("/".join)


def without_none(parts):
    return {key: value for key, value in parts.items() if value is not None and value != ""}


# --- documented formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "url"),
    [
        (
            {
                "user": "wandb",
                "password": "p@ss/w:rd",
                "host": "db1",
                "port": 3306,
                "tls": "custom",
                "ssl_ca": "/etc/wandb/mysql-ca.pem",
            },
            "mysql://wandb:p%40ss%2Fw%3Ard@db1:3306/wandb_local?tls=custom&ssl-ca=/etc/wandb/mysql-ca.pem",
        ),
        (
            {"user": "u", "password": "p", "host": "db", "database": "w", "tls": "preferred"},
            "mysql://u:p@db/w?tls=preferred",
        ),
        ({"user": "u", "password": "p", "host": "::1", "port": 3306}, "mysql://u:p@[::1]:3306/wandb_local"),
        ({"user": "u", "host": "db", "tls": True}, "mysql://u@db/wandb_local?tls=true"),
    ],
)
def test_mysql_url_formats(parts, url):
    assert compose_mysql_url(parts) == url
    assert compose_url(parse_url(url)) == url


@pytest.mark.parametrize(
    ("parts", "url"),
    [
        ({"scheme": "s3", "bucket": "wandb"}, "s3://wandb"),
        ({"scheme": "s3", "bucket": "wandb", "path": "/team/a/"}, "s3://wandb/team/a"),
        ({"scheme": "s3", "bucket": "wandb", "access_key": "AK", "secret_key": "S/K+="}, "s3://AK:S%2FK%2B%3D@wandb"),
        (
            {
                "scheme": "s3",
                "bucket": "wandb",
                "access_key": "AK",
                "secret_key": "SK",
                "endpoint": "minio1:9000",
                "path": "prefix",
                "tls": True,
            },
            "s3://AK:SK@minio1:9000/wandb/prefix?tls=true",
        ),
        ({"scheme": "gs", "bucket": "acme-wandb"}, "gs://acme-wandb"),
        ({"scheme": "az", "account": "acmewandb", "container": "files"}, "az://acmewandb/files"),
    ],
)
def test_bucket_url_formats(parts, url):
    assert compose_bucket_url(parts) == url
    assert compose_url(parse_url(url)) == url


@pytest.mark.parametrize(
    ("parts", "url"),
    [
        ({"scheme": "sqs", "name": "wandb-events"}, "sqs://wandb-events"),
        (
            {"scheme": "pubsub", "project": "acme-ml", "topic": "files", "subscription": "files-sub"},
            "pubsub:/acme-ml/files/files-sub",
        ),
        ({"scheme": "az", "account": "acmewandb", "queue": "events"}, "az://acmewandb/events"),
        ({"scheme": "internal"}, "internal://"),
    ],
)
def test_queue_url_formats(parts, url):
    assert compose_queue_url(parts) == url
    assert compose_queue_url(parse_url(url, kind="queue")) == url


@pytest.mark.parametrize(
    ("parts", "url"),
    [
        ({"host": "r1"}, "redis://r1:6379"),
        ({"host": "r1", "password": "pw"}, "redis://:pw@r1:6379"),
        ({"host": "r1", "username": "wandb", "password": "p w"}, "redis://wandb:p%20w@r1:6379"),
        (
            {
                "host": "r1",
                "port": 6380,
                "password": "x",
                "tls": True,
                "ca_cert_path": "/p/ca.pem",
                "ttl_in_seconds": 604800,
            },
            "redis://:x@r1:6380?tls=true&caCertPath=/p/ca.pem&ttlInSeconds=604800",
        ),
        ({"host": "s1", "sentinel_master": "wandb"}, "redis://s1:26379?master=wandb"),
    ],
)
def test_redis_url_formats(parts, url):
    assert compose_redis_url(parts) == url
    assert compose_url(parse_url(url)) == url


def test_az_is_a_bucket_unless_asked_for_a_queue():
    assert parse_url("az://acmewandb/files") == {
        "scheme": "az",
        "account": "acmewandb",
        "container": "files",
        "kind": "bucket",
    }
    assert parse_url("az://acmewandb/events", kind="queue") == {
        "scheme": "az",
        "account": "acmewandb",
        "queue": "events",
        "kind": "queue",
    }


def test_unknown_query_parameters_are_kept_and_recomposed():
    url = "mysql://u:p@db/wandb_local?tls=true&charset=utf8mb4"
    parts = parse_url(url)
    assert parts["params"] == {"charset": "utf8mb4"}
    assert compose_mysql_url(parts) == url


# --- round trips for arbitrary credentials -------------------------------------------------------


@given(user=credentials, password=credentials, host=hosts, port=ports, database=credentials)
def test_mysql_round_trip(user, password, host, port, database):
    parts = {"user": user, "password": password, "host": host, "port": port, "database": database}
    url = compose_mysql_url(parts)
    parsed = parse_url(url)
    assert parsed == dict(without_none(parts), scheme="mysql", kind="mysql")
    assert compose_mysql_url(parsed) == url


@given(
    access_key=credentials,
    secret_key=credentials,
    bucket=s3_buckets,
    path=paths,
    endpoint=st.one_of(st.none(), st.tuples(hosts, st.integers(1, 65535))),
    tls=st.booleans(),
)
def test_s3_round_trip(access_key, secret_key, bucket, path, endpoint, tls):
    parts = {"scheme": "s3", "bucket": bucket, "access_key": access_key, "secret_key": secret_key, "path": path}
    if endpoint:
        host, port = endpoint
        parts["endpoint"] = "%s:%d" % ("[%s]" % host if ":" in host else host, port)
        parts["tls"] = tls or None
    url = compose_bucket_url(parts)
    parsed = parse_url(url)
    assert parsed == dict(without_none(parts), kind="bucket")
    assert compose_bucket_url(parsed) == url


@given(
    username=st.one_of(st.none(), credentials),
    password=st.one_of(st.none(), credentials),
    host=hosts,
    port=ports,
    master=st.one_of(st.none(), st.from_regex(r"\A[a-z]{1,10}\Z")),
)
def test_redis_round_trip(username, password, host, port, master):
    parts = {"host": host, "port": port, "username": username, "password": password, "sentinel_master": master}
    url = compose_redis_url(parts)
    parsed = parse_url(url)
    expected_port = port or (26379 if master else 6379)
    assert parsed == dict(without_none(parts), port=expected_port, scheme="redis", kind="redis")
    assert compose_redis_url(parsed) == url


@given(user=credentials, password=credentials, host=hosts)
def test_masking_hides_any_password(user, password, host):
    url = compose_mysql_url({"user": user, "password": password, "host": host})
    masked = mask_url(url)
    assert MASK in masked
    _raw, decoded = url_password(url)
    assert decoded == password
    # Equal to the same URL built with another password: nothing of this one is left.
    assert masked == compose_mysql_url({"user": user, "password": "x", "host": host}).replace(":x@", ":" + MASK + "@")


def test_masking_hides_an_unencoded_password_with_slashes_too():
    assert mask_url("mysql://wandb:pa/ss?w#rd@db/wandb_local") == "mysql://wandb:" + MASK + "@db/wandb_local"
    assert mask_url("s3://bucket/path") == "s3://bucket/path"
    assert mask_url("redis://:pw@r1:6379") == "redis://:" + MASK + "@r1:6379"


# --- errors name the part and never echo the password -----------------------------------------


@pytest.mark.parametrize(
    ("function", "parts", "part"),
    [
        (compose_mysql_url, {"password": "p", "host": "db"}, "user"),
        (compose_mysql_url, {"user": "u", "password": "p"}, "host"),
        (compose_mysql_url, {"user": "u", "host": "db", "port": 70000}, "port"),
        (compose_mysql_url, {"user": "u", "host": "db", "tls": "maybe"}, "tls"),
        (compose_mysql_url, {"user": "u", "host": "db", "tls": "custom"}, "ssl_ca"),
        (compose_mysql_url, {"user": "u", "host": "db", "tls": "custom", "ssl_ca": "relative.pem"}, "ssl_ca"),
        (compose_mysql_url, {"user": "u", "host": "db", "passwd": "p"}, "passwd"),
        (compose_mysql_url, {"user": "u", "host": "bad host"}, "host"),
        (compose_bucket_url, {"scheme": "s3"}, "bucket"),
        (compose_bucket_url, {"scheme": "s3", "bucket": "Bad_Bucket"}, "bucket"),
        (compose_bucket_url, {"scheme": "s3", "bucket": "wandb", "access_key": "AK"}, "secret_key"),
        (compose_bucket_url, {"scheme": "s3", "bucket": "wandb", "endpoint": "minio1"}, "endpoint"),
        (compose_bucket_url, {"scheme": "s3", "bucket": "wandb", "endpoint": "http://minio1:9000"}, "endpoint"),
        (compose_bucket_url, {"scheme": "s3", "bucket": "wandb", "tls": True}, "tls"),
        (compose_bucket_url, {"scheme": "az", "account": "acme"}, "container"),
        (compose_bucket_url, {"scheme": "az", "account": "acme", "container": "c1x", "access_key": "k"}, "access_key"),
        (compose_bucket_url, {"scheme": "ftp", "bucket": "x"}, "scheme"),
        (compose_queue_url, {"scheme": "pubsub", "project": "acme-ml", "topic": "t1x"}, "subscription"),
        (compose_queue_url, {"scheme": "sqs", "name": "has space"}, "name"),
        (compose_redis_url, {"port": 6379}, "host"),
        (compose_redis_url, {"host": "r", "ca_cert_path": "/ca.pem"}, "ca_cert_path"),
        (compose_redis_url, {"host": "r", "ttl_in_seconds": 0}, "ttl_in_seconds"),
        (compose_redis_url, {"host": "r", "tls": "sometimes"}, "tls"),
    ],
)
def test_compose_errors_name_the_part(function, parts, part):
    with pytest.raises(WandbUrlError) as error:
        function(parts)
    assert error.value.part == part
    assert str(error.value).startswith(part + ":")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://wandb:Sup3r/Secret@db/wandb_local",
        "mysql://wandb:Sup3r?Secret@db/wandb_local",
        "mysql://wandb:Sup3r#Secret@db/wandb_local",
        "mysql://wandb:Sup3r Secret@db/wandb_local",
        "mysql://wandb:Sup3r%Secret@db/wandb_local",
        "mysql://wandb:Sup3r\nSecret@db/wandb_local",
        "redis://:Sup3r/Secret@r1:6379",
        "s3://AK:Sup3r/Secret@minio:9000/wandb",
    ],
)
def test_parse_errors_never_echo_the_password(url):
    with pytest.raises(WandbUrlError) as error:
        parse_url(url)
    for fragment in ("Sup3r", "Secret"):
        assert fragment not in str(error.value)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("pubsub://p/t/s", "exactly one slash"),
        ("pubsub:/acme-ml/topic", "three names"),
        ("mysql://u:p@db", "database"),
        ("redis://r1:6379?cacertpath=/ca&tls=true", "spelled 'caCertPath'"),
        ("redis://r1:6379/0", "no path"),
        ("rediss://r1:6379", "?tls=true"),
        ("s3://wandb?tls=true", "tls"),
        ("sqs://https://sqs.example/1/q", "name"),
        ("internal://x", "internal://"),
        ("ftp://x", "unknown scheme"),
    ],
)
def test_parse_errors_say_the_rule(url, words):
    with pytest.raises(WandbUrlError) as error:
        parse_url(url)
    assert words in str(error.value)


def test_a_lone_surrogate_is_refused_naming_the_part():
    # Text decoded with errors='surrogateescape' can carry one; it cannot be percent-encoded.
    with pytest.raises(WandbUrlError, match="path: must be valid Unicode text"):
        compose_bucket_url({"scheme": "s3", "bucket": "wandb", "path": "a\ud800"})
