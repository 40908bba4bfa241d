# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup figure's side on the backup host (copied there by benchmarks/bench.py, run with the
host's python3): the generated data set and the raw tools the backup program is measured against.

  backup_host.py setup                  a MySQL defaults file and an mc alias from the backup
                                        program's own configuration (same account, TLS, endpoint)
  backup_host.py generate ROWS OBJECTS OBJECT_KB BIG_MB
                                        rows in a W&B-shaped table, objects in the W&B bucket
  backup_host.py raw-backup DIR         mysqldump | gzip, then mc mirror of the bucket
  backup_host.py raw-restore DIR        gunzip | mysql, then mc mirror back (--remove)
  backup_host.py mydumper-backup DIR    mydumper (parallel, compressed), root on the local socket
  backup_host.py mydumper-restore DIR   myloader
  backup_host.py mysqldump-local DIR    mysqldump | gzip, root on the local socket (mydumper's peer)
  backup_host.py mysqlload-local DIR    gunzip | mysql, root on the local socket (myloader's peer)
  backup_host.py wipe-bucket            every object of the W&B bucket removed (before each restore:
                                        mc mirror skips objects already there, so a restore into a full
                                        bucket would copy nothing)

Each command prints one JSON line: seconds and bytes. Credentials stay in mode-0600 files.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time

WORK = "/root/bench"
CONFIG = "/etc/wandb-backup/config.json"
MYCNF = os.path.join(WORK, "my.cnf")
MC = os.path.join(WORK, "mc")
MC_DIR = os.path.join(WORK, "mc-config")
PROGRAM = "/usr/local/sbin/wandb-backup"


def _program():
    """The backup program the role installed (its mysqldump options are the raw tools' too)."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("wandb_backup", PROGRAM)
    spec = importlib.util.spec_from_loader("wandb_backup", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _config():
    with open(CONFIG, encoding="utf-8") as handle:
        return json.load(handle)


def _sh(script, **env):
    """A bash script; a failure carries the script's own error output (first the tool's message)."""
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (script.split()[0], proc.returncode, proc.stderr.strip()[-800:]))


def _mc(*args):
    return subprocess.run([MC, "--config-dir", MC_DIR, "--quiet", *args], check=True, capture_output=True, text=True)


def _socket():
    """The server's own socket (root authenticates there): asked, not assumed, because the client
    packages mydumper pulls in may default to another path."""
    proc = subprocess.run(
        ["mysql", "--defaults-extra-file=" + MYCNF, "--batch", "--skip-column-names", "-e", "SELECT @@socket"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError("asking MySQL for its socket failed: %s" % proc.stderr.strip()[-300:])
    return proc.stdout.strip()


def _dump_options():
    helptext = subprocess.run(["mysqldump", "--help"], capture_output=True, text=True, check=False).stdout
    return _program().dump_options(helptext)


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(top, name)) for top, _dirs, names in os.walk(path) for name in names)


def setup():
    config = _config()
    mysql, bucket = config["mysql"], config["bucket"]
    os.makedirs(WORK, mode=0o700, exist_ok=True)
    lines = ["[client]", "user=%s" % mysql["user"], "password=%s" % mysql["password"]]
    lines += ["host=%s" % mysql["host"], "port=%s" % mysql.get("port", 3306)]
    if mysql.get("ssl_ca"):
        lines += ["ssl-ca=%s" % mysql["ssl_ca"], "ssl-mode=%s" % mysql.get("ssl_mode", "VERIFY_IDENTITY")]
    fd = os.open(MYCNF, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    if bucket.get("ca_file"):
        os.makedirs(os.path.join(MC_DIR, "certs", "CAs"), mode=0o700, exist_ok=True)
        shutil.copy(bucket["ca_file"], os.path.join(MC_DIR, "certs", "CAs", "wandb-ca.crt"))
    _mc("alias", "set", "bench", bucket["endpoint_url"], bucket["access_key"], bucket["secret_key"])
    return {"database": mysql["database"], "bucket": bucket["bucket"]}


def generate(rows, objects, object_kb, big_mb):
    """Rows like W&B's runs table (JSON config and summary, moderately compressible) and objects
    like artifacts (random bytes, which gzip cannot shrink), one of them large."""
    config = _config()
    database, bucket = config["mysql"]["database"], config["bucket"]["bucket"]
    rng = random.Random(14)
    sql = os.path.join(WORK, "generate.sql")
    with open(sql, "w", encoding="utf-8") as out:
        out.write("DROP TABLE IF EXISTS bench_runs;\n")
        out.write(
            "CREATE TABLE bench_runs (id BIGINT PRIMARY KEY AUTO_INCREMENT, project VARCHAR(64) NOT NULL,"
            " name VARCHAR(128) NOT NULL, config JSON, summary TEXT, created_at DATETIME NOT NULL,"
            " KEY (project)) ENGINE=InnoDB;\n"
        )
        for start in range(0, rows, 1000):
            values = []
            for index in range(start, min(rows, start + 1000)):
                settings = {"lr": rng.random() / 100, "batch": rng.choice([32, 64, 128]), "epochs": rng.randint(1, 90)}
                summary = {"loss": [round(rng.random(), 4) for _step in range(12)], "acc": round(rng.random(), 4)}
                values.append(
                    "('project-%d','run-%d-%08x','%s','%s','2026-01-%02d 12:00:00')"
                    % (
                        index % 50,
                        index,
                        rng.getrandbits(32),
                        json.dumps(settings),
                        json.dumps(summary),
                        index % 28 + 1,
                    )
                )
            out.write(
                "INSERT INTO bench_runs (project, name, config, summary, created_at) VALUES %s;\n" % ",".join(values)
            )
    _sh('mysql --defaults-extra-file="$MYCNF" "$DB" < "$SQL"', MYCNF=MYCNF, DB=database, SQL=sql)
    os.remove(sql)
    staging = os.path.join(WORK, "objects")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(os.path.join(staging, "bench"))
    for index in range(objects):
        with open(os.path.join(staging, "bench", "artifact-%04d.bin" % index), "wb") as out:
            out.write(os.urandom(object_kb * 1024))
    with open(os.path.join(staging, "bench", "large.bin"), "wb") as out:
        for _megabyte in range(big_mb):
            out.write(os.urandom(1024 * 1024))
    _mc("mirror", "--overwrite", staging, "bench/%s" % bucket)
    object_bytes = _size(staging)
    shutil.rmtree(staging)
    return {"rows": rows, "objects": objects + 1, "object_bytes": object_bytes}


def _timed(function, *args):
    started = time.monotonic()
    result = function(*args) or {}
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _dump(target, client_options, database):
    """mysqldump | gzip -6 into target/mysql.sql.gz, with the program's options."""
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    _sh(
        'mysqldump $CLIENT $OPTS --databases "$DB" | gzip -6 > "$OUT"',
        CLIENT=client_options,
        OPTS=" ".join(_dump_options()),
        DB=database,
        OUT=os.path.join(target, "mysql.sql.gz"),
    )


def _load(target, client_options, database):
    """The database dropped, then gunzip | mysql from target/mysql.sql.gz."""
    _sh(
        'mysql $CLIENT -e "DROP DATABASE IF EXISTS \\`$DB\\`"; gunzip -c "$IN" | mysql $CLIENT',
        CLIENT=client_options,
        DB=database,
        IN=os.path.join(target, "mysql.sql.gz"),
    )


def raw_backup(target):
    config = _config()
    _dump(target, "--defaults-extra-file=" + MYCNF, config["mysql"]["database"])
    os.makedirs(os.path.join(target, "bucket"))
    _mc("mirror", "--overwrite", "bench/%s" % config["bucket"]["bucket"], os.path.join(target, "bucket"))
    return {"bytes": _size(target)}


def raw_restore(target):
    config = _config()
    _load(target, "--defaults-extra-file=" + MYCNF, config["mysql"]["database"])
    _mc("mirror", "--overwrite", "--remove", os.path.join(target, "bucket"), "bench/%s" % config["bucket"]["bucket"])
    return {"bytes": _size(target)}


def _mydumper(program, target, *options):
    """mydumper or myloader as root on the local socket, one thread a core (at least 2); its own
    error output in the failure (whether it can talk to this MySQL at all is a finding)."""
    threads = str(max(2, os.cpu_count() or 2))
    command = [program, "--user", "root", "--socket", _socket(), "--threads", threads, *options]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (program, proc.returncode, (proc.stderr or proc.stdout)[-800:]))
    return {"bytes": _size(target), "threads": int(threads)}


def mydumper_backup(target):
    shutil.rmtree(target, ignore_errors=True)
    database = _config()["mysql"]["database"]
    options = ["--compress", "--trx-consistency-only", "--routines", "--triggers", "--events"]
    return _mydumper("mydumper", target, "--database", database, "--outputdir", target, *options)


def mydumper_restore(target):
    database = _config()["mysql"]["database"]
    return _mydumper("myloader", target, "--directory", target, "--database", database, "--overwrite-tables")


def mysqldump_local(target):
    _dump(target, "--user=root --socket=" + _socket(), _config()["mysql"]["database"])
    return {"bytes": _size(target)}


def mysqlload_local(target):
    _load(target, "--user=root --socket=" + _socket(), _config()["mysql"]["database"])
    return {"bytes": _size(target)}


def wipe_bucket():
    _mc("rm", "--recursive", "--force", "bench/%s" % _config()["bucket"]["bucket"])
    return {}


COMMANDS = {
    "setup": setup,
    "generate": generate,
    "raw-backup": raw_backup,
    "raw-restore": raw_restore,
    "mydumper-backup": mydumper_backup,
    "mydumper-restore": mydumper_restore,
    "mysqldump-local": mysqldump_local,
    "mysqlload-local": mysqlload_local,
    "wipe-bucket": wipe_bucket,
}


def main(argv):
    command, args = argv[0], argv[1:]
    if command == "generate":
        args = [int(value) for value in args]
    try:
        print(json.dumps(_timed(COMMANDS[command], *args)))
    except (RuntimeError, subprocess.CalledProcessError) as error:
        # One line, the tool's own message: the harness keeps it in the results.
        print("backup_host.py %s failed: %s" % (command, error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
