#!/usr/bin/python3
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""wandb-backup: back up and restore a W&B Local site (installed by the wandb_local.fleet.backup role).

One program for the systemd timer, `playbooks/backup.yml` and `playbooks/restore.yml`:

  wandb-backup run                      take a backup: database, bucket, server files, manifest last
  wandb-backup list [--json]            the complete backups (those with a manifest), oldest first
  wandb-backup verify ID|latest         the backup exists and every file matches its sha256
  wandb-backup check-restore ID|latest [--image IMAGE] [--reserve-bytes N]
                                        verify, the image is not older than the backup, room for the database
  wandb-backup restore ID|latest --database --bucket --server-files DEST
  wandb-backup ready [--timeout S]      wait until the server answers /ready through the proxy

A backup is a directory (or an S3 prefix) named by its id, the UTC time it started (20260102T030405Z):
  mysql.sql.gz[.age]      mysqldump --single-transaction --routines --triggers --events, gzip
  bucket.tar[.age]        every object of the W&B bucket (objects/<key>), taken after the dump
  bucket-index.json[.age] key, size and sha256 of every object
  server.tar[.age]        the active server's /vol and its environment file (staged by Ansible)
  manifest.json           written last: a backup without one is never counted, listed or restored

Configuration: /etc/wandb-backup/config.json (mode 0600, it holds credentials). Secrets never reach
the output: every message passes through redact(), and credentials go to child processes in a
mode-0600 defaults file (MySQL) or through boto3 (S3), never on a command line.
"""

import argparse
import base64
import contextlib
import datetime
import errno
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zlib
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from urllib.request import Request, urlopen

FORMAT_VERSION = 1
ID_FORMAT = "%Y%m%dT%H%M%SZ"
ID_PATTERN = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
# A gzip member per 4 MiB of SQL: enough to keep each core busy, small enough to cost < 0.1 % in size.
COMPRESS_BLOCK = 4 * 1024 * 1024
DEFAULT_CONFIG = "/etc/wandb-backup/config.json"
# mysqldump's options, in one place (benchmarks/backup_host.py reads them from here for the raw tools).
DUMP_OPTIONS = (
    "--single-transaction",
    "--quick",
    "--routines",
    "--triggers",
    "--events",
    "--hex-blob",
    "--no-tablespaces",
    "--set-gtid-purged=OFF",
)
# Objects up to this size move whole in one request, several at a time (the bucket's copy and
# restore); larger ones stream through a multipart transfer. At most TRANSFER_THREADS * 2 small
# objects are held in memory at once.
SMALL_OBJECT = 8 * 1024 * 1024
TRANSFER_THREADS = 8
VERIFY_THREADS = 4

EXIT_FAILED = 1
EXIT_UNKNOWN_ID = 2
EXIT_CHECKSUM = 3
EXIT_NO_ROOM = 4
EXIT_DOWNGRADE = 5

log = logging.getLogger("wandb-backup")


class BackupError(Exception):
    """A failure with a message for the operator (never holding a secret once redacted)."""

    exit_code = EXIT_FAILED


class UnknownBackup(BackupError):
    exit_code = EXIT_UNKNOWN_ID


class ChecksumMismatch(BackupError):
    exit_code = EXIT_CHECKSUM


class NoRoom(BackupError):
    exit_code = EXIT_NO_ROOM


class Downgrade(BackupError):
    exit_code = EXIT_DOWNGRADE


# --- secrets ---------------------------------------------------------------------------------
_SECRETS = []


def register_secret(value):
    if value and len(str(value)) >= 4 and str(value) not in _SECRETS:
        _SECRETS.append(str(value))


def redact(text):
    text = str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


# --- ids, manifest, retention (pure logic, unit tested) ---------------------------------------
def new_backup_id(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.astimezone(datetime.timezone.utc).strftime(ID_FORMAT)


def is_backup_id(name):
    return bool(ID_PATTERN.match(name or ""))


def resolve_id(wanted, ids):
    """The id `wanted` names among the complete backups `ids` ('latest' is the newest)."""
    ids = sorted(ids)
    if wanted in (None, "", "latest"):
        if not ids:
            raise UnknownBackup("there is no complete backup at the target yet")
        return ids[-1]
    if wanted in ids:
        return wanted
    listing = ", ".join(ids) if ids else "none"
    raise UnknownBackup("backup %r does not exist; the backups there are: %s" % (wanted, listing))


def to_prune(ids, keep):
    """The ids retention removes: all but the newest `keep` (keep >= 1)."""
    if keep < 1:
        raise BackupError("retention must keep at least one backup (keep=%s)" % keep)
    ids = sorted(ids)
    return ids[: max(0, len(ids) - keep)]


def sha256_of(stream):
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def check_manifest(manifest, backup_id):
    """Fail naming the field when a manifest is not one this program wrote for that backup."""
    if not isinstance(manifest, dict):
        raise BackupError("backup %s: the manifest is not a JSON object" % backup_id)
    for field in ("format", "id", "files", "server", "created_at", "duration_seconds"):
        if field not in manifest:
            raise BackupError("backup %s: the manifest has no %r" % (backup_id, field))
    if manifest["format"] != FORMAT_VERSION:
        raise BackupError(
            "backup %s: manifest format %s, this program reads %s" % (backup_id, manifest["format"], FORMAT_VERSION)
        )
    if manifest["id"] != backup_id:
        raise BackupError("backup %s: the manifest names backup %s" % (backup_id, manifest["id"]))
    for name, entry in manifest["files"].items():
        if "/" in name or name in ("", ".", "..", MANIFEST) or not {"size", "sha256"} <= set(entry):
            raise BackupError("backup %s: the manifest's entry for %r is not a file entry" % (backup_id, name))
    return manifest


def verify_files(target, backup_id, manifest, threads=VERIFY_THREADS):
    """Every file the manifest lists is there with its size and sha256; returns the bytes checked.
    The files are read side by side (hashlib and the reads release the GIL); the problems are
    reported in the order of the names."""

    def check(name):
        entry = manifest["files"][name]
        try:
            with target.open(backup_id, name) as stream:
                digest, size = sha256_of(stream)
        except FileNotFoundError:
            return "%s is missing" % name, 0
        if size != entry["size"] or digest != entry["sha256"]:
            return (
                "%s does not match the manifest (sha256 %s, size %d; the manifest has %s, %d)"
                % (name, digest, size, entry["sha256"], entry["size"])
            ), size
        return None, size

    names = sorted(manifest["files"])
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(names)))) as pool:
        results = list(pool.map(check, names))
    problems = [problem for problem, _size in results if problem]
    if problems:
        raise ChecksumMismatch("backup %s is damaged: %s" % (backup_id, "; ".join(problems)))
    return sum(size for _problem, size in results)


def version_key(version):
    """'v0.83.1' -> (0, 83, 1); None when it is not a dotted version."""
    match = re.match(r"^v?([0-9]+(?:\.[0-9]+)*)", str(version or ""))
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def image_not_older(image_version, backup_version):
    a, b = version_key(image_version), version_key(backup_version)
    if a is None or b is None:
        return False
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) >= b + (0,) * (width - len(b))


def check_image(image, manifest):
    """Refuse to restore a backup into a server image older than the one that wrote it."""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    written_by = (manifest.get("server") or {}).get("version")
    if not image_not_older(tag, written_by):
        raise Downgrade(
            "backup %s was written by W&B %s; the server would start %s. W&B does not support downgrades: deploy "
            "that version or a newer one (wandb_server_image_tag) with site.yml, then restore"
            % (manifest["id"], written_by or "of an unknown version", image or "no image")
        )


# --- metrics -------------------------------------------------------------------------------------
METRICS_HELP = {
    "wandb_backup_last_run_timestamp_seconds": "When the last backup run ended (Unix time).",
    "wandb_backup_last_success_timestamp_seconds": "When the last successful backup ended (Unix time).",
    "wandb_backup_last_success": "1 when the last backup run succeeded, else 0.",
    "wandb_backup_last_duration_seconds": "How long the last backup run took.",
    "wandb_backup_last_size_bytes": "Size of the last successful backup.",
    "wandb_backup_backups": "Complete backups at the target after the last run.",
}


def read_metrics(path):
    values = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("#") or not line.strip():
                    continue
                name, _space, value = line.strip().partition(" ")
                with contextlib.suppress(ValueError):
                    values[name] = float(value)
    except FileNotFoundError:
        pass
    return values


def render_metrics(values):
    lines = []
    for name, text in METRICS_HELP.items():
        if name not in values:
            continue
        lines += ["# HELP %s %s" % (name, text), "# TYPE %s gauge" % name, "%s %s" % (name, _number(values[name]))]
    return "\n".join(lines) + "\n"


def _number(value):
    return str(int(value)) if float(value).is_integer() else "%.3f" % value


def write_metrics(path, success, ended, duration, size, count):
    """node_exporter textfile format, replaced atomically; a failed run keeps the last success."""
    if not path:
        return
    values = read_metrics(path)
    values.update(
        {
            "wandb_backup_last_run_timestamp_seconds": int(ended),
            "wandb_backup_last_success": 1 if success else 0,
            "wandb_backup_last_duration_seconds": round(duration, 3),
        }
    )
    if success:
        values["wandb_backup_last_success_timestamp_seconds"] = int(ended)
        values["wandb_backup_last_size_bytes"] = size
    if count is not None:
        values["wandb_backup_backups"] = count
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".wandb_backup.", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render_metrics(values))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


# --- targets -------------------------------------------------------------------------------------
class DirTarget:
    """Backups as directories under `path`; one is written as .partial-<id> and renamed when done."""

    kind = "dir"

    def __init__(self, path):
        self.path = path

    def describe(self):
        return self.path

    def ids(self):
        if not os.path.isdir(self.path):
            return []
        return sorted(
            name
            for name in os.listdir(self.path)
            if is_backup_id(name) and os.path.isfile(os.path.join(self.path, name, MANIFEST))
        )

    def manifest(self, backup_id):
        with open(os.path.join(self.path, backup_id, MANIFEST), encoding="utf-8") as handle:
            return json.load(handle)

    def open(self, backup_id, name):
        return open(os.path.join(self.path, backup_id, name), "rb")

    def free_bytes(self):
        os.makedirs(self.path, exist_ok=True)
        return shutil.disk_usage(self.path).free

    def staging_place(self):
        return self.path

    def begin(self, backup_id):
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        staging = os.path.join(self.path, ".partial-" + backup_id)
        os.makedirs(staging, mode=0o700)
        return staging

    def commit(self, backup_id, staging, manifest):
        _write_json(os.path.join(staging, MANIFEST), manifest)
        os.rename(staging, os.path.join(self.path, backup_id))

    def abort(self, staging):
        shutil.rmtree(staging, ignore_errors=True)

    def delete(self, backup_id):
        # The manifest first: a half-deleted backup is never counted as good.
        final = os.path.join(self.path, backup_id)
        os.remove(os.path.join(final, MANIFEST))
        shutil.rmtree(final)

    def cleanup_partials(self, keep=None):
        if not os.path.isdir(self.path):
            return
        for name in os.listdir(self.path):
            if name.startswith(".partial-") and name != keep:
                shutil.rmtree(os.path.join(self.path, name), ignore_errors=True)


class S3Target:
    """Backups under s3://bucket/prefix/<id>/; files are staged in the work directory and uploaded,
    the manifest last."""

    kind = "s3"

    def __init__(self, config, work_dir, client=None):
        self.bucket = config["bucket"]
        self.prefix = config.get("prefix", "").strip("/")
        self.work_dir = work_dir
        self.client = client or s3_client(config)

    def describe(self):
        return "s3://%s/%s" % (self.bucket, self.prefix)

    def _key(self, backup_id, name=""):
        return "/".join(part for part in (self.prefix, backup_id, name) if part)

    def ids(self):
        found = set()
        paginator = self.client.get_paginator("list_objects_v2")
        start = self._key("") + "/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                rest = item["Key"][len(start) :]
                backup_id, _slash, name = rest.partition("/")
                if name == MANIFEST and is_backup_id(backup_id):
                    found.add(backup_id)
        return sorted(found)

    def manifest(self, backup_id):
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(backup_id, MANIFEST))["Body"]
        return json.loads(body.read())

    def open(self, backup_id, name):
        try:
            return _ClosingBody(self.client.get_object(Bucket=self.bucket, Key=self._key(backup_id, name))["Body"])
        except Exception as exc:
            if _no_such_key(exc):
                raise FileNotFoundError(name) from None
            raise

    def free_bytes(self):
        # Room in the bucket is the provider's; the files are staged in the work directory first.
        os.makedirs(self.work_dir, mode=0o700, exist_ok=True)
        return shutil.disk_usage(self.work_dir).free

    def staging_place(self):
        return "%s (the staging directory for %s)" % (self.work_dir, self.describe())

    def begin(self, backup_id):
        os.makedirs(self.work_dir, mode=0o700, exist_ok=True)
        return tempfile.mkdtemp(prefix="partial-%s." % backup_id, dir=self.work_dir)

    def commit(self, backup_id, staging, manifest):
        for name in sorted(manifest["files"]):
            self.client.upload_file(os.path.join(staging, name), self.bucket, self._key(backup_id, name))
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        put_object_checked(self.client, self.bucket, self._key(backup_id, MANIFEST), body)
        shutil.rmtree(staging, ignore_errors=True)

    def abort(self, staging):
        shutil.rmtree(staging, ignore_errors=True)

    def delete(self, backup_id):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(backup_id, MANIFEST))
        keys = [item["Key"] for item in _list_objects(self.client, self.bucket, self._key(backup_id) + "/")]
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in keys[start : start + 1000]], "Quiet": True},
            )

    def cleanup_partials(self, keep=None):
        # Files of a run that failed before its manifest: uploaded objects without a manifest.
        complete = set(self.ids())
        start = self._key("") + "/" if self.prefix else ""
        stale = []
        for item in _list_objects(self.client, self.bucket, start):
            backup_id = item["Key"][len(start) :].partition("/")[0]
            if is_backup_id(backup_id) and backup_id not in complete and backup_id != keep:
                stale.append(item["Key"])
        for key in stale:
            self.client.delete_object(Bucket=self.bucket, Key=key)


class _ClosingBody:
    def __init__(self, body):
        self.body = body

    def read(self, size=-1):
        return self.body.read(size if size and size > 0 else None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.body.close()


def _no_such_key(exc):
    """Whether an S3 call failed because the object is not there (botocore's ClientError)."""
    return getattr(exc, "response", {}).get("Error", {}).get("Code") in ("NoSuchKey", "404")


def _list_objects(client, bucket, prefix=""):
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def s3_client(config):
    import boto3
    from botocore.config import Config

    register_secret(config.get("secret_key"))
    checksums = {}
    if "request_checksum_calculation" in Config.OPTION_DEFAULTS:
        # botocore 1.36 and later add a CRC trailer to every upload (aws-chunked), and MinIO closes
        # the connection after each such PUT: a TLS handshake per object, twice the CPU of a PUT.
        # Uploads carry their own SHA-256 instead (put_object_checked), checked by the endpoint.
        checksums = {"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
    return boto3.client(
        "s3",
        endpoint_url=config.get("endpoint_url") or None,
        region_name=config.get("region") or "us-east-1",
        aws_access_key_id=config.get("access_key") or None,
        aws_secret_access_key=config.get("secret_key") or None,
        verify=config.get("ca_file") or True,
        config=Config(
            s3={"addressing_style": "path"},
            # Each call's parameters are ours, not a user's: checking them costs a sixth of a small GET.
            parameter_validation=False,
            retries={"max_attempts": 5, "mode": "standard"},
            # The thread pool and a multipart upload's own threads at once, each with its connection.
            max_pool_connections=TRANSFER_THREADS * 2 + 2,
            **checksums,
        ),
    )


def make_target(config):
    target = config["target"]
    if target["type"] == "dir":
        return DirTarget(target["path"])
    if target["type"] == "s3":
        return S3Target(target, config.get("work_dir", "/var/lib/wandb-backup/work"))
    raise BackupError("unknown target type %r (dir or s3)" % target["type"])


# --- writing files ---------------------------------------------------------------------------------
class _Sink:
    """Where a backup file's bytes go: the file, or `age` writing the file. close() returns the
    file's manifest entry (size and sha256 as stored): a plain file is hashed as it is written (no
    second read of a large dump), an encrypted one once age has written it."""

    def __init__(self, path, encryption):
        self.path = path
        self.file = open(path, "wb")
        os.chmod(path, 0o600)
        self.proc = None
        self.digest = None
        self.size = 0
        if encryption:
            command = ["age"]
            for recipient in encryption.get("recipients", []):
                command += ["-r", recipient]
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=self.file, stderr=subprocess.PIPE)
            self.stream = self.proc.stdin
        else:
            self.stream = self.file
            self.digest = hashlib.sha256()

    def write(self, data):
        if self.digest is not None:
            self.digest.update(data)
            self.size += len(data)
        return self.stream.write(data)

    def close(self):
        if self.proc:
            self.proc.stdin.close()
            error = self.proc.stderr.read().decode(errors="replace")
            if self.proc.wait() != 0:
                self.file.close()
                if "no space left" in error.lower():
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.path)
                raise BackupError("age failed writing %s: %s" % (os.path.basename(self.path), error.strip()))
        self.file.close()
        if self.digest is None:
            return _file_entry(self.path)
        return {"size": self.size, "sha256": self.digest.hexdigest()}


def _suffix(encryption):
    return ".age" if encryption else ""


def _file_entry(path):
    with open(path, "rb") as handle:
        digest, size = sha256_of(handle)
    return {"size": size, "sha256": digest}


def _write_json(path, data):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.chmod(path, 0o600)


def _gzip_member(data, level):
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def compress_members(stream, sink, level, block=COMPRESS_BLOCK, threads=None):
    """gzip what stream gives into sink, one gzip member per block, the members compressed on every
    core and written in order; returns the bytes read.

    Compression, not mysqldump, is what a dump waits on (gzip -6 runs at a third of mysqldump's
    speed on W&B-shaped rows), and one compressor uses one core. zlib lets go of the interpreter
    while it compresses, so threads scale; a stream of members is one valid gzip file (RFC 1952,
    section 2.2) that `gzip -dc` reads whole."""
    threads = threads or max(2, os.cpu_count() or 2)
    size = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        ahead = []
        try:
            while True:
                data = stream.read(block)
                if not data:
                    break
                size += len(data)
                ahead.append(pool.submit(_gzip_member, data, level))
                while len(ahead) > threads:
                    sink.write(ahead.pop(0).result())
            while ahead:
                sink.write(ahead.pop(0).result())
        except BaseException:
            for future in ahead:
                future.cancel()
            raise
    return size


# --- MySQL -----------------------------------------------------------------------------------------
def dump_options(mysqldump_help):
    """mysqldump's options for this client (its --help text): DUMP_OPTIONS, and on MySQL 9, whose
    mysqldump dumps masking policies too, which only an administrator may read (W&B has none), the
    option that skips them."""
    options = list(DUMP_OPTIONS)
    if "--skip-masking-policies" in mysqldump_help or "--masking-policies" in mysqldump_help:
        options.append("--skip-masking-policies")
    return options


class MySQL:
    def __init__(self, config, work_dir, replica=False):
        if replica and config.get("dump_host"):
            # The dump from a replica (same account: it is replicated); restores go to the primary.
            host, _colon, port = config["dump_host"].partition(":")
            config = dict(config, host=host, port=int(port or config.get("port", 3306)))
        self.config = config
        register_secret(config.get("password"))
        os.makedirs(work_dir, mode=0o700, exist_ok=True)
        fd, self.defaults_file = tempfile.mkstemp(prefix="mysql.", suffix=".cnf", dir=work_dir)
        lines = ["[client]", "user=%s" % config["user"], "password=%s" % config["password"]]
        lines += ["host=%s" % config["host"], "port=%s" % config.get("port", 3306)]
        if config.get("ssl_ca"):
            lines += ["ssl-ca=%s" % config["ssl_ca"], "ssl-mode=%s" % config.get("ssl_mode", "VERIFY_IDENTITY")]
        elif config.get("tls"):
            lines += ["ssl-mode=REQUIRED"]
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")

    def close(self):
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.defaults_file)

    def _base(self, program):
        return [program, "--defaults-extra-file=" + self.defaults_file]

    def _help(self, program):
        proc = subprocess.run([program, "--help"], capture_output=True, text=True, check=False)
        return proc.stdout

    def query(self, sql, in_database=True):
        command = [*self._base("mysql"), "--batch", "--skip-column-names", "-e", sql]
        if in_database:
            command.append(self.config["database"])
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BackupError("mysql query failed: %s" % redact(proc.stderr.strip()))
        return proc.stdout

    def dump(self, sink):
        """mysqldump | gzip into sink; returns the bytes of SQL dumped."""
        command = [*self._base("mysqldump"), *dump_options(self._help("mysqldump"))]
        command += ["--databases", self.config["database"]]
        errors = tempfile.TemporaryFile()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        try:
            size = compress_members(proc.stdout, sink, self.config.get("compress_level", 6))
        except BaseException:
            # The sink failed (a full target): mysqldump must not wait on a pipe nobody reads.
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            errors.seek(0)
            raise BackupError("mysqldump failed: %s" % redact(errors.read().decode(errors="replace").strip()))
        return size

    def load(self, stream):
        """Drop the W&B database and load a dump (which creates it again) from a gzip stream.

        gzip decompresses in its own process, piped straight into mysql: this process only copies
        the compressed bytes, so the load does not wait on the bucket's threads (the restore runs
        both side by side) for the interpreter."""
        database = self.config["database"]
        self.query("DROP DATABASE IF EXISTS `%s`" % database.replace("`", "``"), in_database=False)
        errors = tempfile.TemporaryFile()
        gunzip_errors = tempfile.TemporaryFile()
        gunzip = subprocess.Popen(["gzip", "-dc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=gunzip_errors)
        proc = subprocess.Popen([*self._base("mysql"), "--batch"], stdin=gunzip.stdout, stderr=errors)
        # mysql holds the pipe now: a mysql that exits early makes gzip (and then the copy) stop.
        gunzip.stdout.close()
        try:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                gunzip.stdin.write(chunk)
            gunzip.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            gunzip.kill()
            proc.kill()
            gunzip.wait()
            proc.wait()
            raise
        unpacked, loaded = gunzip.wait(), proc.wait()
        if loaded != 0:
            errors.seek(0)
            raise BackupError("loading the dump failed: %s" % redact(errors.read().decode(errors="replace").strip()))
        if unpacked != 0:
            gunzip_errors.seek(0)
            message = gunzip_errors.read().decode(errors="replace").strip()
            raise BackupError("unpacking the dump failed: %s" % redact(message))


# --- the bucket --------------------------------------------------------------------------------------
# fetch()'s answer for an object too large to hold in memory: write() streams it itself.
STREAMED = object()


class _HashingReader:
    def __init__(self, body):
        self.body = body
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.body.read(size if size and size > 0 else None)
        self.digest.update(data)
        return data


def _transfer_config():
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=SMALL_OBJECT, max_concurrency=TRANSFER_THREADS)


class _Window:
    """Futures in flight, at most `size`: wait() before adding one more, then finish() at the end; the
    first failure stops the run (what is queued and not started is cancelled)."""

    def __init__(self, size):
        self.size = size
        self.pending = set()

    def _check(self, done):
        for future in done:
            future.result()

    def add(self, future):
        self.pending.add(future)
        if len(self.pending) >= self.size:
            done, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
            self._check(done)

    def finish(self):
        done, _not_done = wait(self.pending)
        self.pending = set()
        self._check(done)

    def cancel(self):
        for future in self.pending:
            future.cancel()
        wait(self.pending)
        self.pending = set()


def dump_bucket(client, bucket, prefix, tar_sink, threads=TRANSFER_THREADS, small=SMALL_OBJECT):
    """Every object under prefix into a tar stream (objects/<key>, in listing order); returns the
    index. Small objects are fetched several at a time ahead of the writer; a large one streams
    straight into the archive. An object deleted between the listing and its fetch (the server
    removes objects while it runs: a deleted run's files, its own probes) is left out and logged:
    the live bucket no longer has it either, exactly as if the listing had come a moment later."""

    def get(item):
        try:
            return client.get_object(Bucket=bucket, Key=item["Key"])
        except Exception as exc:
            if not _no_such_key(exc):
                raise
            log.info("object %s was deleted after the listing: not in the backup", item["Key"])
            return None

    def fetch(item):
        if item["Size"] > small:
            return STREAMED
        response = get(item)
        if response is None:
            return None
        with contextlib.closing(response["Body"]) as body:
            data = body.read()
        # Hashed here, in the pool: hashlib lets go of the interpreter, the writer thread does not wait.
        return data, hashlib.sha256(data).hexdigest()

    def write(archive, item, fetched):
        info = tarfile.TarInfo("objects/" + item["Key"])
        info.mtime = int(item["LastModified"].timestamp())
        info.mode = 0o600
        if fetched is STREAMED:
            response = get(item)
            if response is None:
                return None
            info.size = response["ContentLength"]
            reader = _HashingReader(response["Body"])
            archive.addfile(info, reader)
            digest = reader.digest.hexdigest()
        else:
            data, digest = fetched
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return {"key": item["Key"], "size": info.size, "sha256": digest}

    index = []
    ahead = []

    def write_oldest(archive):
        item, future = ahead.pop(0)
        fetched = future.result()
        entry = write(archive, item, fetched) if fetched is not None else None
        if entry:
            index.append(entry)

    with (
        ThreadPoolExecutor(max_workers=threads) as pool,
        tarfile.open(fileobj=tar_sink, mode="w|", format=tarfile.PAX_FORMAT) as archive,
    ):
        try:
            for item in _list_objects(client, bucket, prefix):
                ahead.append((item, pool.submit(fetch, item)))
                while len(ahead) > threads * 2:
                    write_oldest(archive)
            while ahead:
                write_oldest(archive)
        except BaseException:
            for _item, future in ahead:
                future.cancel()
            raise
    return index


class _ReadOnly:
    def __init__(self, stream):
        self.stream = stream

    def read(self, size=-1):
        return self.stream.read(size)


def put_object_checked(client, bucket, key, data):
    """One object up with its SHA-256 in the request: the endpoint refuses bytes that do not match."""
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return client.put_object(Bucket=bucket, Key=key, Body=data, ChecksumSHA256=digest)


def restore_bucket(client, bucket, stream, threads=TRANSFER_THREADS, small=SMALL_OBJECT):
    """Put every object of the backup back, then remove objects the backup does not have. Small
    objects go up whole, several at a time (at most threads * 2 in memory); a large one streams
    through a multipart upload; the removals go 1000 keys a request. Any failed request fails the
    restore, naming the object."""
    restored = set()

    def put(key, data):
        try:
            put_object_checked(client, bucket, key, data)
        except Exception as exc:
            raise BackupError("restoring object %s failed: %s" % (key, exc)) from None

    window = _Window(threads * 2)
    with ThreadPoolExecutor(max_workers=threads) as pool, tarfile.open(fileobj=stream, mode="r|") as archive:
        try:
            for member in archive:
                if not member.isfile() or not member.name.startswith("objects/"):
                    continue
                key = member.name[len("objects/") :]
                if member.size <= small:
                    window.add(pool.submit(put, key, archive.extractfile(member).read()))
                else:
                    # boto3 asks a file object whether it can seek; a tar stream's member cannot say.
                    try:
                        client.upload_fileobj(
                            _ReadOnly(archive.extractfile(member)), bucket, key, Config=_transfer_config()
                        )
                    except Exception as exc:
                        raise BackupError("restoring object %s failed: %s" % (key, exc)) from None
                restored.add(key)
            window.finish()
        except BaseException:
            window.cancel()
            raise
    extra = [item["Key"] for item in _list_objects(client, bucket) if item["Key"] not in restored]
    for start in range(0, len(extra), 1000):
        batch = extra[start : start + 1000]
        response = client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        errors = response.get("Errors") or []
        if errors:
            raise BackupError(
                "removing %d objects the backup does not have failed, first %s: %s"
                % (len(errors), errors[0].get("Key"), errors[0].get("Message") or errors[0].get("Code"))
            )
    return len(restored), len(extra)


# --- reading a backup's files ---------------------------------------------------------------------
class _Reader:
    """A stored file as plain bytes (decrypted with age when the backup is encrypted)."""

    def __init__(self, target, backup_id, name, encryption, identity_file):
        self.source = target.open(backup_id, name)
        self.proc = None
        self.thread = None
        if encryption:
            if not identity_file or not os.path.exists(identity_file):
                raise BackupError(
                    "backup %s is encrypted: give the age identity (wandb_backup_age_identity)" % backup_id
                )
            self.proc = subprocess.Popen(
                ["age", "-d", "-i", identity_file],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )

            def feed():
                try:
                    while True:
                        chunk = self.source.read(CHUNK)
                        if not chunk:
                            break
                        self.proc.stdin.write(chunk)
                except BrokenPipeError:
                    pass
                finally:
                    self.proc.stdin.close()

            self.thread = threading.Thread(target=feed, daemon=True)
            self.thread.start()
            self.stream = self.proc.stdout
        else:
            self.stream = self.source

    def read(self, size=-1):
        return self.stream.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.thread.join()
            self.proc.stdout.close()
            error = self.proc.stderr.read().decode(errors="replace")
            if self.proc.wait() != 0 and exc[0] is None:
                raise BackupError("age could not decrypt the backup: %s" % error.strip())
        self.source.__exit__(*exc) if hasattr(self.source, "__exit__") else self.source.close()


# --- the commands ----------------------------------------------------------------------------------
def server_version(config):
    url = config["server"].get("version_url")
    if not url:
        return None
    import ssl

    context = ssl.create_default_context(cafile=config["server"].get("ca_file") or None)
    try:
        with urlopen(Request(url), timeout=30, context=context) as response:
            return json.loads(response.read()).get("version")
    except Exception as exc:
        raise BackupError("could not read the server's version from %s: %s" % (url, exc)) from None


def take_backup(config, target=None, now=None, clock=time.time):
    """One backup run; returns its manifest. Raises BackupError; a failed run leaves no backup."""
    started = clock()
    target = target or make_target(config)
    backup_id = new_backup_id(now)
    while backup_id in target.ids():
        time.sleep(1)
        backup_id = new_backup_id()
    encryption = config.get("encryption") or None
    suffix = _suffix(encryption)
    check_target_room(target)
    staging = target.begin(backup_id)
    log.info("backup %s to %s", backup_id, target.describe())
    mysql = None
    writing = "the backup"
    # The S3 client (boto3's import and setup take a few tenths of a second) is made while the
    # database is dumped; the bucket is still copied only after the dump.
    preparing = ThreadPoolExecutor(max_workers=1)
    client = preparing.submit(s3_client, config["bucket"]) if config.get("bucket") else None
    try:
        version = server_version(config)
        files = {}
        manifest = {
            "format": FORMAT_VERSION,
            "id": backup_id,
            "created_at": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(),
            "server": {"image": None, "version": version},
            "encryption": {"tool": "age", "recipients": encryption.get("recipients", [])} if encryption else None,
        }
        # 1. The database, first: every object a row references is older than the dump.
        if config.get("mysql"):
            mysql = MySQL(config["mysql"], config.get("work_dir", "/var/lib/wandb-backup/work"), replica=True)
            query = config["mysql"].get("schema_query")
            if query:
                manifest["schema_version"] = mysql.query(query).strip().replace("\t", " ") or None
            name = writing = "mysql.sql.gz" + suffix
            sink = _Sink(os.path.join(staging, name), encryption)
            sql_bytes = mysql.dump(sink)
            files[name] = sink.close()
            manifest["database"] = {"name": config["mysql"]["database"], "sql_bytes": sql_bytes, "file": name}
            log.info("database %s dumped: %d bytes of SQL", config["mysql"]["database"], sql_bytes)
        # 2. The bucket, after the dump.
        if config.get("bucket"):
            source = config["bucket"]
            name = writing = "bucket.tar" + suffix
            sink = _Sink(os.path.join(staging, name), encryption)
            index = dump_bucket(client.result(), source["bucket"], source.get("prefix", ""), sink)
            files[name] = sink.close()
            index_name = writing = "bucket-index.json" + suffix
            sink = _Sink(os.path.join(staging, index_name), encryption)
            sink.write(json.dumps(index, indent=1, sort_keys=True).encode())
            files[index_name] = sink.close()
            manifest["bucket"] = {
                "bucket": source["bucket"],
                "objects": len(index),
                "object_bytes": sum(item["size"] for item in index),
                "file": name,
                "index": index_name,
            }
            log.info("bucket %s copied: %d objects", source["bucket"], len(index))
        # 3. The server's /vol and environment file, as Ansible last staged them.
        server_files = config["server"].get("files")
        if server_files:
            meta_path = server_files + ".json"
            if not os.path.exists(server_files) or not os.path.exists(meta_path):
                raise BackupError(
                    "the server's files are not staged at %s (run playbooks/backup.yml once)" % server_files
                )
            with open(meta_path, encoding="utf-8") as handle:
                meta = json.load(handle)
            name = writing = "server.tar" + suffix
            sink = _Sink(os.path.join(staging, name), encryption)
            with open(server_files, "rb") as handle:
                shutil.copyfileobj(handle, sink, CHUNK)
            files[name] = sink.close()
            manifest["server"].update({"image": meta.get("image"), "host": meta.get("host"), "files": name})
            manifest["server"].update({"files_staged_at": meta.get("staged_at"), "paths": meta.get("paths", [])})
        # 4. The manifest, last.
        ended = clock()
        manifest["files"] = files
        manifest["size_bytes"] = sum(entry["size"] for entry in files.values())
        manifest["finished_at"] = datetime.datetime.fromtimestamp(ended, datetime.timezone.utc).isoformat()
        manifest["duration_seconds"] = round(ended - started, 3)
        writing = MANIFEST
        target.commit(backup_id, staging, manifest)
    except OSError as exc:
        target.abort(staging)
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise NoRoom(
            "the target is full: no room left on %s while writing %s of backup %s; the partial backup was "
            "removed, the %d earlier backups are kept" % (target.staging_place(), writing, backup_id, len(target.ids()))
        ) from None
    except BaseException:
        target.abort(staging)
        raise
    finally:
        preparing.shutdown(wait=True)
        if mysql:
            mysql.close()
    log.info("backup %s complete: %d bytes in %.1f s", backup_id, manifest["size_bytes"], manifest["duration_seconds"])
    return manifest


def check_target_room(target):
    """Before anything is written: a new backup needs about the room the newest one took (retention
    removes old ones only after a new one succeeded), so a target with less free stops the run here."""
    free = target.free_bytes()
    ids = target.ids()
    if free is None or not ids:
        return
    try:
        needed = int(target.manifest(ids[-1]).get("size_bytes") or 0)
    except (OSError, ValueError, TypeError):
        return
    if free < needed:
        raise NoRoom(
            "no room at the target %s: %d bytes free, the newest backup (%s) took %d; nothing was written, the %d "
            "backups there are kept" % (target.staging_place(), free, ids[-1], needed, len(ids))
        )


def prune(target, keep, protect=None):
    """Retention after a successful run: keep the newest `keep` complete backups."""
    removed = []
    for backup_id in to_prune(target.ids(), keep):
        if backup_id == protect:
            continue
        target.delete(backup_id)
        removed.append(backup_id)
        log.info("retention: removed backup %s", backup_id)
    target.cleanup_partials()
    return removed


def load_verified(target, wanted):
    backup_id = resolve_id(wanted, target.ids())
    try:
        manifest = check_manifest(target.manifest(backup_id), backup_id)
    except (ValueError, KeyError) as exc:
        raise BackupError("backup %s: the manifest cannot be read: %s" % (backup_id, exc)) from None
    verify_files(target, backup_id, manifest)
    return backup_id, manifest


def command_run(config, args):
    started = time.time()
    target = make_target(config)
    try:
        manifest = take_backup(config, target)
        removed = prune(target, int(config.get("keep", 7)), protect=manifest["id"])
    except BaseException as exc:
        write_metrics(config.get("metrics_file"), False, time.time(), time.time() - started, 0, _safe_count(target))
        if isinstance(exc, BackupError):
            raise
        if isinstance(exc, KeyboardInterrupt):
            raise BackupError("interrupted") from None
        raise BackupError("%s: %s" % (type(exc).__name__, exc)) from None
    write_metrics(
        config.get("metrics_file"), True, time.time(), time.time() - started, manifest["size_bytes"], len(target.ids())
    )
    print(json.dumps({"id": manifest["id"], "size_bytes": manifest["size_bytes"], "pruned": removed}))
    return 0


def _safe_count(target):
    try:
        return len(target.ids())
    except Exception:
        return None


def command_list(config, args):
    ids = make_target(config).ids()
    print(json.dumps(ids) if args.json else "\n".join(ids))
    return 0


def command_verify(config, args):
    backup_id, manifest = load_verified(make_target(config), args.backup)
    print(json.dumps({"id": backup_id, "manifest": manifest}, sort_keys=True))
    return 0


def command_check_restore(config, args):
    """What restore.yml asks before it changes anything: exists, checksums, the image to start is not
    older than the version that wrote the backup, room for the database."""
    backup_id, manifest = load_verified(make_target(config), args.backup)
    if args.image is not None:
        check_image(args.image, manifest)
    room = {}
    reserve = int(args.reserve_bytes)
    if config.get("mysql") and manifest.get("database") and config["mysql"].get("data_dir"):
        data_dir = config["mysql"]["data_dir"]
        if os.path.isdir(data_dir):
            needed = manifest["database"]["sql_bytes"] + reserve
            free = shutil.disk_usage(data_dir).free
            room["database"] = {"path": data_dir, "needed": needed, "free": free}
            if free < needed:
                raise NoRoom(
                    "no room to restore the database: %s has %d bytes free, the restore needs %d"
                    % (data_dir, free, needed)
                )
    work = config.get("work_dir", "/var/lib/wandb-backup/work")
    server = manifest["files"].get(manifest["server"].get("files") or "", {})
    if server:
        os.makedirs(work, mode=0o700, exist_ok=True)
        needed, free = server["size"] + reserve, shutil.disk_usage(work).free
        room["work_dir"] = {"path": work, "needed": needed, "free": free}
        if free < needed:
            raise NoRoom("no room to unpack the server's files: %s has %d bytes free, needs %d" % (work, free, needed))
    print(json.dumps({"id": backup_id, "manifest": manifest, "room": room}, sort_keys=True))
    return 0


def in_parallel(jobs):
    """Run the (name, function) jobs side by side and wait for all of them; returns their results by
    name. When any failed, raise one BackupError naming each failure (after every job has ended, so
    nothing is left running)."""
    results, failures = {}, []

    def run(name, function):
        try:
            results[name] = function()
        except BaseException as exc:
            failures.append((name, exc))

    threads = [threading.Thread(target=run, args=job, name=job[0]) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        if len(failures) == 1 and isinstance(failures[0][1], BackupError):
            raise failures[0][1]
        raise BackupError(
            "; ".join(
                "%s: %s" % (name, exc if isinstance(exc, BackupError) else "%s: %s" % (type(exc).__name__, exc))
                for name, exc in sorted(failures, key=lambda failure: failure[0])
            )
        )
    return results


def command_restore(config, args):
    """The checks of load_verified first (nothing is changed when one fails), then the database and
    the bucket side by side (the servers are stopped: neither needs the other), then the server's
    files. A failure of either fails the restore, naming what failed."""
    target = make_target(config)
    started = time.monotonic()
    backup_id, manifest = load_verified(target, args.backup)
    log.info("backup %s: every file matches its sha256 (%.1f s)", backup_id, time.monotonic() - started)
    encryption = manifest.get("encryption")
    identity = (config.get("encryption") or {}).get("identity_file")
    done = {"id": backup_id}
    jobs = []
    if args.database and manifest.get("database"):

        def database():
            mysql = MySQL(config["mysql"], config.get("work_dir", "/var/lib/wandb-backup/work"))
            try:
                with _Reader(target, backup_id, manifest["database"]["file"], encryption, identity) as stream:
                    mysql.load(stream)
            finally:
                mysql.close()
            log.info(
                "backup %s: database %s restored (%.1f s)",
                backup_id,
                manifest["database"]["name"],
                time.monotonic() - started,
            )
            return manifest["database"]["name"]

        jobs.append(("database", database))
    if args.bucket and manifest.get("bucket"):

        def bucket():
            client = s3_client(config["bucket"])
            with _Reader(target, backup_id, manifest["bucket"]["file"], encryption, identity) as stream:
                count, removed = restore_bucket(client, config["bucket"]["bucket"], stream)
            log.info(
                "backup %s: %d objects restored, %d objects the backup did not have removed (%.1f s)",
                backup_id,
                count,
                removed,
                time.monotonic() - started,
            )
            return {"objects": count, "removed": removed}

        jobs.append(("bucket", bucket))
    started = time.monotonic()
    done.update(in_parallel(jobs))
    if args.server_files and manifest["server"].get("files"):
        fd, tmp = tempfile.mkstemp(prefix=".server.", dir=os.path.dirname(args.server_files) or ".")
        with (
            os.fdopen(fd, "wb") as out,
            _Reader(target, backup_id, manifest["server"]["files"], encryption, identity) as stream,
        ):
            shutil.copyfileobj(stream, out, CHUNK)
        os.chmod(tmp, 0o600)
        os.replace(tmp, args.server_files)
        done["server_files"] = args.server_files
    print(json.dumps(done, sort_keys=True))
    return 0


def command_schema(config, args):
    """The schema version the database records (the configured schema query's one row), for the
    version preflight of site.yml and upgrade.yml. A database without the table records nothing yet:
    an empty answer. Any other failure (MySQL does not answer) fails the command."""
    query = (config.get("mysql") or {}).get("schema_query")
    if not config.get("mysql") or not query:
        print(json.dumps({"schema": None, "read": False}))
        return 0
    mysql = MySQL(config["mysql"], config.get("work_dir", "/var/lib/wandb-backup/work"))
    try:
        try:
            answer = mysql.query(query)
        except BackupError as exc:
            # ER_NO_SUCH_TABLE: no server has migrated this database yet.
            if "ERROR 1146" not in str(exc) and "doesn't exist" not in str(exc):
                raise
            answer = ""
    finally:
        mysql.close()
    lines = answer.strip().splitlines()
    print(json.dumps({"schema": lines[0].replace("\t", " ").strip() if lines else "", "read": True}))
    return 0


def command_ready(config, args):
    """Wait until the server answers /ready with 200 through the proxy."""
    import ssl
    from urllib.error import HTTPError, URLError

    url = config["server"].get("ready_url")
    if not url:
        raise BackupError("no proxy URL is configured (wandb_backup_proxy)")
    context = ssl.create_default_context(cafile=config["server"].get("ca_file") or None)
    deadline = time.time() + float(args.timeout)
    last = "no answer"
    while True:
        try:
            with urlopen(Request(url), timeout=10, context=context) as response:
                if response.status == 200:
                    print(json.dumps({"url": url, "status": 200}))
                    return 0
                last = "HTTP %s" % response.status
        except HTTPError as exc:
            last = "HTTP %s" % exc.code
        except (URLError, OSError) as exc:
            last = str(exc)
        if time.time() >= deadline:
            raise BackupError("%s did not answer 200 within %s s (last: %s)" % (url, args.timeout, last))
        time.sleep(2)


def load_config(path):
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BackupError("cannot read the configuration %s: %s" % (path, exc)) from None
    for section in ("mysql", "bucket", "target"):
        value = config.get(section) or {}
        register_secret(value.get("password"))
        register_secret(value.get("secret_key"))
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(prog="wandb-backup", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.environ.get("WANDB_BACKUP_CONFIG", DEFAULT_CONFIG))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="take a backup, then apply retention")
    listing = commands.add_parser("list", help="the complete backups, oldest first")
    listing.add_argument("--json", action="store_true")
    commands.add_parser("schema", help="the schema version the database records (one line)")
    ready = commands.add_parser("ready", help="wait for /ready through the proxy")
    ready.add_argument("--timeout", default="600")
    for name in ("verify", "check-restore", "restore"):
        sub = commands.add_parser(name)
        sub.add_argument("backup", help="a backup id or 'latest'")
        if name == "check-restore":
            sub.add_argument("--reserve-bytes", default="0", help="space that must stay free after the restore")
            sub.add_argument("--image", help="the image the server will start (repository:tag)")
        if name == "restore":
            sub.add_argument("--database", action="store_true")
            sub.add_argument("--bucket", action="store_true")
            sub.add_argument("--server-files", metavar="DEST", help="write the server's files (a tar) here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    handlers = {
        "run": command_run,
        "list": command_list,
        "verify": command_verify,
        "check-restore": command_check_restore,
        "restore": command_restore,
        "ready": command_ready,
        "schema": command_schema,
    }
    try:
        config = load_config(args.config)
        return handlers[args.command](config, args)
    except BackupError as exc:
        print("wandb-backup %s failed: %s" % (args.command, redact(exc)), file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        print("wandb-backup %s failed: %s: %s" % (args.command, type(exc).__name__, redact(exc)), file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
