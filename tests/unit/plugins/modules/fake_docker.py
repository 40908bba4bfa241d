# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Docker engine in memory, with the low-level APIClient calls restore_mode uses, and a clock
the tests control (time.time, time.monotonic and time.sleep of the module under test)."""

from __future__ import annotations

import copy
import hashlib
import itertools

from docker.errors import APIError, NotFound

STANDIN_LINE = "Restore mode: log in with username: restore@wandb.com password: %s"


class FakeTime:
    def __init__(self, start=1_700_000_000.0):
        self.now = start
        self.slept = 0.0

    def time(self):
        return self.now

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        self.slept += seconds


class FakeContainer:
    def __init__(self, attrs):
        self.attrs = attrs
        self.log = []  # (timestamp, line)
        self.networks_connected = []


def standin_program(password="AbCdEfGhJkMnPqRsTuVw", delay=2.0, ready_after=5.0):  # noqa: S107 - test data
    """What the stand-in prints: credentials at start when LOCAL_RESTORE is true."""

    def program(engine, container):
        env = dict(item.partition("=")[::2] for item in container.attrs["Config"]["Env"])
        engine.emit(
            container, 0.0, "wandb-standin 0.1.0 starting (a test stand-in for wandb/local, not the W&B server)"
        )
        if env.get("LOCAL_RESTORE") == "true":
            engine.emit(container, delay / 2, "LOCAL_RESTORE is set: SSO is disabled until it is removed.")
            engine.emit(container, delay, STANDIN_LINE % password)
        engine.emit(container, delay + 0.1, "listening on :8080 (app) and :8181 (metrics)")
        container.ready_at = engine.time.now + ready_after

    return program


class FakeAPI:
    def __init__(self, time, program=None):
        self.time = time
        self.program = program or standin_program()
        self.containers = {}
        self.images = {}
        self.calls = []
        self.fail_on = {}
        self._ids = (hashlib.sha256(str(n).encode()).hexdigest() for n in itertools.count(1))

    # -- test helpers ----------------------------------------------------------------------------
    def add_image(self, reference, image_id):
        self.images[reference] = image_id

    def add_container(self, name, env, running=True, **overrides):
        container_id = next(self._ids)
        attrs = {
            "Id": container_id,
            "Name": "/" + name,
            "Image": self.images.get("wandb-fleet-lab/wandb-standin:0.1.0", "sha256:" + "1" * 64),
            "Config": {
                "Hostname": container_id[:12],
                "Image": "wandb-fleet-lab/wandb-standin:0.1.0",
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", *env],
                "User": "999:0",
                "Labels": {"org.opencontainers.image.title": "wandb-standin", "wandb_local.fleet/role": "server"},
                "Entrypoint": ["/usr/local/bin/wandb-standin"],
                "ExposedPorts": {"8080/tcp": {}, "8181/tcp": {}},
                "StopSignal": "SIGTERM",
            },
            "HostConfig": {
                "Binds": ["/srv/wandb/vol:/vol:rw", "/etc/wandb/mysql-ca.pem:/etc/wandb/mysql-ca.pem:ro"],
                "PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
                "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
                "NetworkMode": "wandb",
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
            },
            "Mounts": [
                {"Type": "bind", "Source": "/srv/wandb/vol", "Destination": "/vol", "RW": True},
                {"Type": "volume", "Name": "f" * 64, "Destination": "/cache", "RW": True},
            ],
            "NetworkSettings": {
                "Ports": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
                "IPAddress": "",
                "Networks": {
                    "wandb": {
                        "Aliases": ["wandb-local", container_id[:12]],
                        "IPAMConfig": {"IPv4Address": "172.30.0.10"},
                        "IPAddress": "172.30.0.10",
                    },
                    "monitoring": {"Aliases": ["wandb"], "IPAMConfig": None, "IPAddress": "172.31.0.5"},
                },
            },
            "State": {"Running": running, "Restarting": False, "ExitCode": 0},
        }
        for key, value in overrides.items():
            attrs[key] = value
        container = FakeContainer(attrs)
        self.containers[container_id] = container
        if running:
            self.program(self, container)
        return container

    def emit(self, container, delay, line):
        container.log.append((self.time.now + delay, line))

    def by_name(self, name):
        for container in self.containers.values():
            if container.attrs["Name"] == "/" + name:
                return container
        return None

    # -- the APIClient surface -------------------------------------------------------------------
    def _get(self, ref):
        self.calls.append(("inspect", ref))
        if ref in self.containers:
            return self.containers[ref]
        found = self.by_name(ref)
        if found is None:
            raise NotFound("No such container: %s" % ref)
        return found

    def _maybe_fail(self, call):
        if call in self.fail_on:
            raise self.fail_on.pop(call)

    def inspect_container(self, ref):
        return copy.deepcopy(self._get(ref).attrs)

    def inspect_image(self, ref):
        if ref not in self.images:
            raise NotFound("No such image: %s" % ref)
        return {"Id": self.images[ref]}

    def stop(self, container_id, timeout=None):
        self.calls.append(("stop", container_id, timeout))
        self._get(container_id).attrs["State"]["Running"] = False

    def rename(self, container_id, name):
        self.calls.append(("rename", container_id, name))
        if self.by_name(name) is not None:
            raise APIError("Conflict. The container name /%s is already in use" % name)
        self._get(container_id).attrs["Name"] = "/" + name

    def create_container_from_config(self, config, name=None):
        self.calls.append(("create", name))
        self._maybe_fail("create")
        if self.by_name(name) is not None:
            raise APIError("Conflict. The container name /%s is already in use" % name)
        config = copy.deepcopy(config)
        container_id = next(self._ids)
        host_config = config.pop("HostConfig")
        networking = config.pop("NetworkingConfig", {}) or {}
        networks = {}
        for network_name, endpoint in (networking.get("EndpointsConfig") or {}).items():
            networks[network_name] = dict(
                endpoint, IPAddress=(endpoint.get("IPAMConfig") or {}).get("IPv4Address", "172.30.0.99")
            )
        attrs = {
            "Id": container_id,
            "Name": "/" + name,
            "Image": self.images.get(config["Image"], config["Image"]),
            "Config": config,
            "HostConfig": host_config,
            "Mounts": [],
            "NetworkSettings": {"Ports": {}, "IPAddress": "", "Networks": networks},
            "State": {"Running": False, "Restarting": False, "ExitCode": 0},
            "Created": self.time.now,
        }
        self.containers[container_id] = FakeContainer(attrs)
        return {"Id": container_id, "Warnings": []}

    def connect_container_to_network(self, container, net_id, **kwargs):
        self.calls.append(("connect", container, net_id, kwargs))
        target = self._get(container)
        target.networks_connected.append((net_id, kwargs))
        target.attrs["NetworkSettings"]["Networks"][net_id] = {
            "Aliases": kwargs.get("aliases"),
            "IPAddress": "172.31.0.99",
        }

    def start(self, container_id):
        self.calls.append(("start", container_id))
        self._maybe_fail("start")
        container = self._get(container_id)
        container.attrs["State"]["Running"] = True
        bindings = container.attrs["HostConfig"].get("PortBindings") or {}
        container.attrs["NetworkSettings"]["Ports"] = copy.deepcopy(bindings)
        self.program(self, container)

    def remove_container(self, container_id, v=False, force=False):
        self.calls.append(("remove", container_id, v, force))
        del self.containers[self._get(container_id).attrs["Id"]]

    def logs(self, container_id, stdout=True, stderr=True, since=None, timestamps=False):
        self.calls.append(("logs", container_id, since))
        container = self._get(container_id)
        lines = [line for stamp, line in container.log if stamp <= self.time.now and (since is None or stamp >= since)]
        return "".join(line + "\n" for line in lines).encode()


class FakeClient:
    def __init__(self, api):
        self.api = api


class FakeResponse:
    def __init__(self, status):
        self.status = status

    def getcode(self):
        return self.status

    def read(self):
        return b"{}"


def fake_open_url(api, calls):
    """/ready: 200 once the running container named by the URL's port is past its ready time."""
    from urllib.error import HTTPError

    def open_url(url, **kwargs):
        calls.append(url)
        running = [c for c in api.containers.values() if c.attrs["State"]["Running"]]
        if not running:
            raise ConnectionRefusedError("connection refused")
        if api.time.now >= getattr(running[0], "ready_at", 0):
            return FakeResponse(200)
        raise HTTPError(url, 503, "Service Unavailable", {}, None)

    return open_url
