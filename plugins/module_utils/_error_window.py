# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The error window of a day-2 operation (restore, upgrade, failover), as users see it through the proxy.

One way to measure it, used by the wandb_local.fleet.error_window module (which runs the sampler
detached on the proxy host) and imported as plain Python by the benchmark harness. Standard library
only, no Ansible import, so anything that has the collection on its path can use it:

    from ansible_collections.wandb_local.fleet.plugins.module_utils._error_window import (
        compute_window, read_samples, sample, probe)

API (everything else here is private):

- ``probe(url, timeout, ca_path=None)`` -> ``(ok, detail)``: one GET of ``url``; ``ok`` is True only
  for HTTP 200; ``detail`` is the status code ("200", "502") or what went wrong ("timeout",
  "refused", "TLS", the exception's class name). Never raises for a network problem.
- ``sample(url, out, interval=0.1, timeout=0.5, ca_path=None, should_stop=None, max_seconds=None)``:
  probe every ``interval`` seconds (a probe that takes longer delays the next, never overlaps it) and
  write one line per probe to the open text file ``out``, flushed at once: ``format_sample(...)``.
  Returns when ``should_stop()`` is true or after ``max_seconds``.
- ``format_sample(started, ok, detail)`` -> ``"<unix time, 3 decimals> <1|0> <detail>\\n"``, the file format;
  ``started`` is when the probe began.
- ``read_samples(lines)`` -> ``[(started, ok), ...]`` in file order; blank or malformed lines (a
  line cut short when the sampler was killed) are skipped.
- ``compute_window(samples, interval)`` -> a dict (all times in seconds, floats rounded to ms):

  ``window_seconds``          first failed sample to the first good sample after the last failed one;
                              0.0 without a failure. Still failing at the end: to the last sample.
  ``failed_samples``          how many samples failed
  ``samples``                 how many samples there are
  ``outages``                 runs of consecutive failed samples
  ``longest_outage_seconds``  the longest run: its first failed sample to the good sample after it
                              (the last sample when it never ended)
  ``interval_seconds``        the sampling interval asked for (the resolution: every time above is
                              exact to about one interval plus the probe timeout)
  ``first_failure``           unix time of the first failed sample, or None
  ``recovered_at``            unix time of the first good sample after the last failure, or None
  ``recovered``               False when the last sample failed (the window is then a lower bound)
  ``sampled_seconds``         first to last sample
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import socket
import ssl
import time
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import urlsplit

DEFAULT_INTERVAL = 0.1
DEFAULT_TIMEOUT = 0.5


def format_sample(started, ok, detail):
    """One line of the samples file."""
    text = str(detail).split()[0] if str(detail).split() else "-"
    return "%.3f %d %s\n" % (started, 1 if ok else 0, text)


def read_samples(lines):
    """(started, ok) for every well-formed line, in order."""
    samples = []
    for line in lines:
        fields = line.split()
        if len(fields) < 2 or fields[1] not in ("0", "1"):
            continue
        try:
            started = float(fields[0])
        except ValueError:
            continue
        samples.append((started, fields[1] == "1"))
    return samples


def _ms(value):
    return None if value is None else round(value, 3)


def compute_window(samples, interval):
    """The error window of ``samples`` ((started, ok) pairs in time order); see the module docstring."""
    failed = 0
    outages = []  # [first failed time, end time, ended by a good sample]
    current = None
    for started, ok in samples:
        if not ok:
            failed += 1
            if current is None:
                current = [started, started, False]
            else:
                current[1] = started
        elif current is not None:
            current[1] = started
            current[2] = True
            outages.append(current)
            current = None
    if current is not None:
        outages.append(current)
    first_failure = outages[0][0] if outages else None
    recovered = not outages or outages[-1][2]
    end = outages[-1][1] if outages else None
    return {
        "window_seconds": _ms(end - first_failure) if outages else 0.0,
        "failed_samples": failed,
        "samples": len(samples),
        "outages": len(outages),
        "longest_outage_seconds": _ms(max(stop - start for start, stop, ended in outages)) if outages else 0.0,
        "interval_seconds": float(interval),
        "first_failure": _ms(first_failure),
        "recovered_at": _ms(end) if outages and recovered else None,
        "recovered": recovered,
        "sampled_seconds": _ms(samples[-1][0] - samples[0][0]) if samples else 0.0,
    }


def _context(ca_path):
    if ca_path:
        return ssl.create_default_context(cafile=ca_path)
    return ssl.create_default_context()


def probe(url, timeout, ca_path=None, context=None):
    """One GET of url: (True, "200") or (False, what it got)."""
    if context is None and url.startswith("https:"):
        context = _context(ca_path)
    if not url.startswith(("http://", "https://")):
        return False, "not-http"
    # http.client, not urllib: one request, no redirects followed, the standard library only.
    parts = urlsplit(url)
    if parts.scheme == "https":
        connection = HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout, context=context)
    else:
        connection = HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", (parts.path or "/") + ("?" + parts.query if parts.query else ""))
        status = connection.getresponse().status
        return status == 200, str(status)
    except HTTPException as exc:
        return False, type(exc).__name__
    except OSError as exc:  # socket.timeout and ssl.SSLError are OSErrors
        return False, _reason(exc)
    finally:
        connection.close()


def _reason(exc):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.timeout) or "timed out" in str(reason):
        return "timeout"
    if isinstance(reason, ssl.SSLError):
        return "TLS"
    if isinstance(reason, ConnectionRefusedError):
        return "refused"
    if isinstance(reason, ConnectionResetError):
        return "reset"
    return type(reason).__name__


def sample(
    url,
    out,
    interval=DEFAULT_INTERVAL,
    timeout=DEFAULT_TIMEOUT,
    ca_path=None,
    should_stop=None,
    max_seconds=None,
    clock=time.time,
    sleep=time.sleep,
    check=None,
):
    """Probe url every interval seconds, one line per probe to out, until should_stop() or max_seconds."""
    if check is None:
        context = _context(ca_path) if url.startswith("https:") else None

        def check():
            return probe(url, timeout, context=context)

    begin = clock()
    next_at = begin
    while True:
        if should_stop is not None and should_stop():
            return
        now = clock()
        if max_seconds is not None and now - begin >= max_seconds:
            return
        if now < next_at:
            sleep(next_at - now)
            continue
        ok, detail = check()
        out.write(format_sample(now, ok, detail))
        out.flush()
        # A probe slower than the interval delays the next one; it never starts two at once.
        next_at = max(next_at + interval, clock())


def describe(window):
    """One line for a playbook's summary: the window, its failed samples, the longest outage, the interval."""
    text = (
        "error window %.1f s through the proxy (%d of %d samples failed, longest outage %.1f s, a sample every %g s)"
        % (
            window["window_seconds"],
            window["failed_samples"],
            window["samples"],
            window["longest_outage_seconds"],
            window["interval_seconds"],
        )
    )
    if not window["recovered"]:
        text += "; still failing at the last sample, so at least that long"
    return text


# The detached sampler of the error_window module (not part of the API above): files under a state
# directory on the proxy host, <name>.json (what runs: pid, its start time, the options) and
# <name>.samples (the samples file).


class ErrorWindowError(Exception):
    """What the module reports as its failure message."""


def _paths(state_dir, name):
    return os.path.join(state_dir, name + ".json"), os.path.join(state_dir, name + ".samples")


def _process_start(pid):
    """The process's start time in clock ticks (/proc), so a reused pid is not taken for the sampler; None for a
    process that is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _alive(record):
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 1:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return _process_start(pid) == record.get("process_start")


def sampler_record(state_dir, name):
    """What the state directory says about the sampler `name`: its record and whether it still runs, or None."""
    record_path, samples_path = _paths(state_dir, name)
    try:
        with open(record_path) as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    record["running"] = _alive(record)
    record["samples_file"] = samples_path
    return record


def _detach(run, keep):
    """Run run() in a grandchild in its own session, its standard streams on /dev/null and no other file open
    but `keep`; return the grandchild's pid (the Ansible connection does not wait for it)."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked processes
        try:
            os.close(reader)
            os.setsid()
            grandchild = os.fork()
            if grandchild:
                os.write(writer, str(grandchild).encode())
                os._exit(0)
            os.close(writer)
            os.chdir("/")
            null = os.open(os.devnull, os.O_RDWR)
            for stream in (0, 1, 2):
                os.dup2(null, stream)
            os.closerange(3, keep)
            os.closerange(keep + 1, 65536)
            run()
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as handle:
        pid = handle.read()
    os.waitpid(child, 0)
    if not pid.isdigit():
        raise ErrorWindowError("the sampler could not be started")
    return int(pid)


def start_sampler(
    state_dir, name, url, interval=DEFAULT_INTERVAL, timeout=DEFAULT_TIMEOUT, ca_path=None, max_seconds=None
):
    """Start a detached sampler (replacing one of that name that still runs); return its record."""
    if ca_path and not os.path.isfile(ca_path):
        raise ErrorWindowError("ca_path %s is not a file on %s" % (ca_path, socket.gethostname()))
    replaced = _discard(state_dir, name)
    if not os.path.isdir(state_dir):
        os.makedirs(state_dir, 0o700)
    record_path, samples_path = _paths(state_dir, name)
    stopping = []
    with open(samples_path, "w") as out:

        def run():  # pragma: no cover - runs in the detached process
            signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
            sample(
                url,
                out,
                interval=interval,
                timeout=timeout,
                ca_path=ca_path,
                should_stop=lambda: stopping,
                max_seconds=max_seconds,
            )
            out.close()

        os.chmod(samples_path, 0o600)
        pid = _detach(run, out.fileno())
    record = {
        "pid": pid,
        "process_start": _process_start(pid),
        "url": url,
        "interval": interval,
        "timeout": timeout,
        "max_seconds": max_seconds,
        "started_at": round(time.time(), 3),
    }
    tmp = record_path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(record, handle)
    os.chmod(tmp, 0o600)
    os.rename(tmp, record_path)
    record["replaced"] = replaced
    record["samples_file"] = samples_path
    return record


def _discard(state_dir, name):
    """Stop the sampler `name` if it runs and remove its files; whether one ran."""
    record = sampler_record(state_dir, name)
    if record is None:
        return False
    if record["running"]:
        _terminate(record, 5.0)
    for path in _paths(state_dir, name):
        if os.path.exists(path):
            os.remove(path)
    return record["running"]


def _terminate(record, wait):
    os.kill(record["pid"], signal.SIGTERM)
    deadline = time.time() + wait
    while _alive(record) and time.time() < deadline:
        time.sleep(0.05)
    if _alive(record):
        os.kill(record["pid"], signal.SIGKILL)


def _samples(samples_path):
    try:
        with open(samples_path) as handle:
            return read_samples(handle)
    except OSError:
        return []


def stop_sampler(state_dir, name, stop=True, wait=5.0):
    """Stop the sampler `name` and return its window (stop=False: the window so far, the sampler runs on)."""
    record = sampler_record(state_dir, name)
    if record is None:
        raise ErrorWindowError(
            "no error-window sampler named %r runs on %s (nothing under %s): start one with state=started before the "
            "operation" % (name, socket.gethostname(), state_dir)
        )
    record_path, samples_path = _paths(state_dir, name)
    if not stop:
        return dict(compute_window(_samples(samples_path), record["interval"]), pid=record["pid"], stopped=False)
    ended_early = not record["running"]
    if record["running"]:
        _terminate(record, wait)
    window = compute_window(_samples(samples_path), record["interval"])
    for path in (record_path, samples_path):
        if os.path.exists(path):
            os.remove(path)
    if ended_early:
        raise ErrorWindowError(
            "the error-window sampler named %r had ended before it was stopped (killed, or its max_seconds of %s "
            "passed): its %d samples do not cover the operation" % (name, record.get("max_seconds"), window["samples"])
        )
    return dict(window, pid=record["pid"], stopped=True)
