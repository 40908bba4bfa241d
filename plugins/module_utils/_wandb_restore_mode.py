# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Restore mode: the W&B container recreated with a changed environment, and what it logs after.

The server role runs the container with community.docker.docker_container and `env_file`, and a
container's environment is fixed when it is created: a restart would keep the old one. So the
container is recreated from its own inspect data (Config, HostConfig, networks) with only the
environment changed, which is also exactly what docker_container itself would produce from the new
file, so the server role's next run sees nothing to change.

Everything goes through the Docker SDK's low-level APIClient (`client.api`), which tests replace
with a fake.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import (
    FileProblem,
    plan_settings,
    read_env_file,
    write_env_file,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings import (
    apply_plan,
    file_attributes,
    register_file_secrets,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import (
    GO_TRUE,
    SettingsInvalid,
    secret_fragments,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import MASK, mask_url

DOCKER_IMPORT_ERROR = None
try:
    import docker
    from docker.errors import DockerException, NotFound

    HAS_DOCKER = True
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):
        pass

    class NotFound(DockerException):
        pass


try:
    from urllib.error import HTTPError
except ImportError:  # pragma: no cover
    HTTPError = IOError

RESTORE_VARIABLE = "LOCAL_RESTORE"
APP_PORT = "8080/tcp"
LOG_TAIL_LINES = 20
POLL_SECONDS = 1.0

# The stand-in prints "Restore mode: log in with username: restore@wandb.com password: XXXX"; the
# real server's line is not confirmed. This accepts user/username/login, ':' or '=' or a space,
# optional quotes (also JSON-style "username": "x"), and the password on the same or the next line.
DEFAULT_CREDENTIALS_PATTERN = (
    r"""(?i)\b(?:user(?:[ _-]?name)?|login)["']?\s*(?:[:=]\s*|\s)["']?(?P<username>[^\s"',;]+?)["']?"""
    r"""[\s,;]+(?:and\s+)?["']?(?:pass(?:word)?|pwd)["']?\s*(?:[:=]\s*|\s)["']?(?P<password>[^\s"',;]+)"""
)
# Masks the value after anything that looks like a secret's name in a log line.
_LOG_SECRET_RE = re.compile(
    r"(?i)((?:pass(?:word|wd)?|pwd|secret|token|license|api[_-]?key)[\"']?\s*(?:[:=]\s*|\s)[\"']?)([^\s\"',;]+)"
)


class RestoreProblem(Exception):
    """Restore mode could not complete; `log_tail` holds the masked last log lines if any."""

    def __init__(self, message, log_tail=None):
        super(RestoreProblem, self).__init__(message)
        self.log_tail = log_tail or []


# ---------------------------------------------------------------------------------------------
# Patterns and log masking
# ---------------------------------------------------------------------------------------------


def compile_credentials_pattern(pattern):
    """The compiled pattern, or raise ValueError saying what is wrong with it."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError("credentials_pattern is not a valid regular expression: %s" % exc) from None
    missing = [group for group in ("username", "password") if group not in compiled.groupindex]
    if missing:
        raise ValueError("credentials_pattern needs the named groups (?P<username>...) and (?P<password>...)")
    return compiled


def find_credentials(pattern, text):
    """(username, password) of the last match in text, or None."""
    found = None
    for match in pattern.finditer(text):
        found = (match.group("username"), match.group("password"))
    return found


def mask_log_text(text, secrets=()):
    """Log text safe to show: known secret strings, URL passwords and anything after a
    password-like word are masked."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _LOG_SECRET_RE.sub(lambda m: m.group(1) + MASK, text)
    return re.sub(r"[a-z][a-z0-9+.-]*://\S+", lambda m: mask_url(m.group(0)), text)


def masked_tail(text, secrets=(), lines=LOG_TAIL_LINES):
    return [mask_log_text(line, secrets) for line in text.splitlines()[-lines:]]


# ---------------------------------------------------------------------------------------------
# Recreating a container with a new environment
# ---------------------------------------------------------------------------------------------


def env_dict(env_list):
    env = {}
    for item in env_list or []:
        key, sep, value = item.partition("=")
        env[key] = value if sep else None
    return env


def new_environment(container_env_list, before_file, after_file, drop=()):
    """The container's environment with the old env file's variables replaced by the new file's.

    Variables from the image (PATH, ...) or given directly to the container stay; variables the old
    file had and the new one has not are dropped, as `drop` are in any case."""
    env = env_dict(container_env_list)
    for key in list(before_file) + list(drop):
        env.pop(key, None)
    env.update(after_file)
    return [key if value is None else "%s=%s" % (key, value) for key, value in env.items()]


def _short_id(attrs):
    return attrs["Id"][:12]


def _anonymous_volume_binds(attrs):
    """Anonymous volumes are not in HostConfig; a new container would get empty new ones, so they
    are handed over explicitly (the old container is removed without its volumes)."""
    host_config = attrs.get("HostConfig") or {}
    covered = set()
    for bind in host_config.get("Binds") or []:
        parts = bind.split(":")
        if len(parts) >= 2:
            covered.add(parts[1])
    for mount in host_config.get("Mounts") or []:
        covered.add(mount.get("Target"))
    binds = []
    for mount in attrs.get("Mounts") or []:
        if mount.get("Type") == "volume" and mount.get("Destination") not in covered and mount.get("Name"):
            binds.append("%s:%s%s" % (mount["Name"], mount["Destination"], "" if mount.get("RW", True) else ":ro"))
    return binds


def _links_for_create(links):
    """Inspect shows links as /target:/name/alias; create takes target:alias."""
    converted = []
    for link in links or []:
        target, _sep, alias_path = link.partition(":")
        converted.append("%s:%s" % (target.lstrip("/"), alias_path.rpartition("/")[2] or target.lstrip("/")))
    return converted


def _endpoint(settings, attrs):
    aliases = [alias for alias in settings.get("Aliases") or [] if alias != _short_id(attrs)]
    endpoint = {}
    if aliases:
        endpoint["Aliases"] = aliases
    if settings.get("IPAMConfig"):
        endpoint["IPAMConfig"] = settings["IPAMConfig"]
    if settings.get("Links"):
        endpoint["Links"] = settings["Links"]
    return endpoint


def clone_spec(attrs, env, image):
    """(create body, [(network, endpoint)] to connect after create) for a copy of the container."""
    config = dict(attrs.get("Config") or {})
    host_config = dict(attrs.get("HostConfig") or {})
    network_mode = host_config.get("NetworkMode") or "default"
    config["Env"] = env
    config["Image"] = image
    # A generated hostname is the old container's ID; host/container network modes refuse one.
    if config.get("Hostname") == _short_id(attrs) or network_mode == "host" or network_mode.startswith("container:"):
        config.pop("Hostname", None)
        config.pop("Domainname", None)
    extra_binds = _anonymous_volume_binds(attrs)
    if extra_binds:
        host_config["Binds"] = list(host_config.get("Binds") or []) + extra_binds
    if host_config.get("Links"):
        host_config["Links"] = _links_for_create(host_config["Links"])
    config["HostConfig"] = host_config
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    later = []
    builtin = network_mode in ("default", "bridge", "host", "none") or network_mode.startswith("container:")
    for network_name in sorted(networks):
        endpoint = _endpoint(networks[network_name], attrs)
        if network_name == network_mode and not builtin:
            config["NetworkingConfig"] = {"EndpointsConfig": {network_name: endpoint}}
        elif network_name != network_mode and not (network_mode == "default" and network_name == "bridge"):
            later.append((network_name, endpoint))
    return config, later


def _connect_kwargs(endpoint):
    ipam = endpoint.get("IPAMConfig") or {}
    kwargs = {"aliases": endpoint.get("Aliases") or None, "links": endpoint.get("Links") or None}
    if ipam.get("IPv4Address"):
        kwargs["ipv4_address"] = ipam["IPv4Address"]
    if ipam.get("IPv6Address"):
        kwargs["ipv6_address"] = ipam["IPv6Address"]
    if ipam.get("LinkLocalIPs"):
        kwargs["link_local_ips"] = ipam["LinkLocalIPs"]
    return kwargs


def image_reference(api, attrs, warn):
    """The image name the container was created from, if it still names the same image; else the
    image ID, so a moved tag never changes what runs."""
    name = (attrs.get("Config") or {}).get("Image") or attrs["Image"]
    try:
        if api.inspect_image(name).get("Id") == attrs["Image"]:
            return name
    except NotFound:
        pass
    warn("%s now names another image than the running one; the container is recreated from %s" % (name, attrs["Image"]))
    return attrs["Image"]


def recreate_container(api, attrs, env, warn):
    """Replace the container by a copy with `env`. Returns (new container ID, time just before start).

    The old container is stopped and renamed, not removed, until the copy has started: if anything
    fails, the old one gets its name back and is started again."""
    name = attrs["Name"].lstrip("/")
    old_id = attrs["Id"]
    was_running = bool((attrs.get("State") or {}).get("Running"))
    config, later_networks = clone_spec(attrs, env, image_reference(api, attrs, warn))
    stop_timeout = (attrs.get("Config") or {}).get("StopTimeout") or 30
    if was_running:
        api.stop(old_id, timeout=stop_timeout)
    api.rename(old_id, "%s-replaced-%s" % (name, _short_id(attrs)))
    new_id = None
    try:
        new_id = api.create_container_from_config(config, name=name)["Id"]
        for network_name, endpoint in later_networks:
            api.connect_container_to_network(new_id, network_name, **_connect_kwargs(endpoint))
        started_at = time.time()
        api.start(new_id)
    except Exception:
        if new_id is not None:
            api.remove_container(new_id, force=True)
        api.rename(old_id, name)
        if was_running:
            api.start(old_id)
        raise
    api.remove_container(old_id, v=False)
    return new_id, started_at


# ---------------------------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------------------------


def _logs(api, container_id, since=None):
    kwargs = {"stdout": True, "stderr": True, "timestamps": False}
    if since:
        kwargs["since"] = since
    data = api.logs(container_id, **kwargs)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


def _exited(api, container_id):
    state = api.inspect_container(container_id).get("State") or {}
    if state.get("Running") or state.get("Restarting"):
        return None
    return "the container stopped (exit code %s)" % state.get("ExitCode")


def wait_for_credentials(api, container_id, since, pattern, timeout, secrets=()):
    """(username, password) from the first log lines matching `pattern` written at or after `since`."""
    deadline = time.monotonic() + timeout
    while True:
        text = _logs(api, container_id, since)
        found = find_credentials(pattern, text)
        if found:
            return found
        stopped = _exited(api, container_id)
        if stopped or time.monotonic() >= deadline:
            why = stopped or "no log line written since the restart matched credentials_pattern within %ss" % timeout
            raise RestoreProblem(
                "Restore mode: %s. The real server's line may differ from the default pattern: check the log lines "
                "below and pass credentials_pattern." % why,
                masked_tail(text, secrets),
            )
        time.sleep(POLL_SECONDS)


def default_ready_url(attrs):
    """http://ADDRESS:PORT/ready for the app port: the published port on this host, else the
    container's own address."""
    network_settings = attrs.get("NetworkSettings") or {}
    for binding in (network_settings.get("Ports") or {}).get(APP_PORT) or []:
        host_ip = binding.get("HostIp") or "0.0.0.0"  # noqa: S104 - a docker binding value, not a bind
        if host_ip == "0.0.0.0":  # noqa: S104
            host_ip = "127.0.0.1"
        elif host_ip == "::":
            host_ip = "::1"
        if ":" in host_ip:
            host_ip = "[%s]" % host_ip
        return "http://%s:%s/ready" % (host_ip, binding["HostPort"])
    if (attrs.get("HostConfig") or {}).get("NetworkMode") == "host":
        return "http://127.0.0.1:8080/ready"
    addresses = [network_settings.get("IPAddress")]
    addresses += [net.get("IPAddress") for _name, net in sorted((network_settings.get("Networks") or {}).items())]
    for address in addresses:
        if address:
            return "http://%s:8080/ready" % address
    raise RestoreProblem("Cannot tell where the container's port 8080 is reachable; pass ready_url")


def wait_until_ready(api, container_id, url, open_url, timeout, secrets=()):
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            # Only the status code is read and nothing is sent, so a lab certificate need not verify.
            response = open_url(url, method="GET", timeout=10, use_proxy=False, validate_certs=False)
            status = response.getcode() if hasattr(response, "getcode") else response.status
            if status == 200:
                return
            last = "HTTP %s" % status
        except HTTPError as exc:
            last = "HTTP %s" % exc.code
        except Exception as exc:  # refused, reset, timed out: the server is still starting
            last = str(exc)
        stopped = _exited(api, container_id)
        if stopped or time.monotonic() >= deadline:
            why = stopped or "%s did not answer 200 within %ss (last: %s)" % (url, timeout, last)
            raise RestoreProblem("Restore mode off, but %s" % why, masked_tail(_logs(api, container_id), secrets))
        time.sleep(POLL_SECONDS)


# ---------------------------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------------------------


def docker_client():
    """A client for the local engine, configured like the docker CLI (DOCKER_HOST, ...)."""
    return docker.from_env(timeout=120)


def write_credentials_file(module, path, username, password):
    """Returns whether the file changed. Written 0600 before it holds anything."""
    text = "# W&B restore-mode credentials (temporary), written by wandb_local.fleet.restore_mode\n"
    text += "username: %s\npassword: %s\n" % (json.dumps(username), json.dumps(password))
    current = None
    if os.path.exists(path):
        with open(path, "rb") as handle:
            current = handle.read().decode("utf-8", "replace")
    changed = current != text
    if changed and not module.check_mode:
        write_env_file(module, path, text)
    args = file_attributes(path, mode="0600")
    if os.path.exists(path):
        changed = module.set_fs_attributes_if_different(args, changed, expand=False) or changed
    return changed


def remove_credentials_file(module, path, result):
    """Delete the credentials file that entering restore mode wrote: once the container runs without
    LOCAL_RESTORE its temporary login is gone, and the file only invites confusion (or a leak).
    Check mode reports it without deleting."""
    if not path or not os.path.lexists(path):
        return
    if os.path.isdir(path) and not os.path.islink(path):
        module.fail_json(msg="restore_mode: credentials_file %s is a directory" % path, **result)
    if not module.check_mode:
        try:
            os.unlink(path)
        except OSError as exc:
            module.fail_json(msg="restore_mode: could not delete %s: %s" % (path, exc), **result)
    result["credentials_file_removed"] = True
    result["credentials_file"] = path
    result["changed"] = True


def _deliver_credentials(module, params, result, credentials):
    username, password = credentials
    result["credentials_found"] = True
    if params["credentials_file"]:
        result["credentials_file"] = params["credentials_file"]
        if write_credentials_file(module, params["credentials_file"], username, password):
            result["changed"] = True
    else:
        result["username"] = username
        result["password"] = password


def run_restore_mode(module, client_factory, open_url):
    params = module.params
    result = {"changed": False, "credentials_found": False}
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR, **result)
    try:
        pattern = compile_credentials_pattern(params["credentials_pattern"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    path = params["path"]
    try:
        text, exists = read_env_file(path)
    except (FileProblem, IOError, OSError) as exc:
        module.fail_json(msg="restore_mode: %s" % exc, **result)
    if not exists:
        module.fail_json(msg="restore_mode: %s does not exist; it must be the env file the container runs with" % path)
    enable = params["state"] == "enabled"
    try:
        plan = plan_settings(text, {RESTORE_VARIABLE: "true" if enable else None}, exists=True)
    except SettingsInvalid as exc:
        module.fail_json(msg="restore_mode: %s" % exc, **result)
    register_file_secrets(module, plan.before_values, plan.after_values)
    secrets = set()
    for env in (plan.before_values, plan.after_values):
        for key, value in env.items():
            secrets |= secret_fragments(key, value)

    try:
        api = client_factory().api
        attrs = api.inspect_container(params["container"])
    except NotFound:
        module.fail_json(msg="restore_mode: container %s does not exist" % params["container"], **result)
    except DockerException as exc:
        module.fail_json(msg="restore_mode: cannot reach the Docker engine: %s" % exc, **result)

    running = bool((attrs.get("State") or {}).get("Running"))
    container_env = env_dict((attrs.get("Config") or {}).get("Env"))
    running_in_restore = container_env.get(RESTORE_VARIABLE) in GO_TRUE
    file_in_restore = plan.before_values.get(RESTORE_VARIABLE) in GO_TRUE
    if running_in_restore or file_in_restore:
        where = " and ".join(
            w for w, on in (("the running container", running_in_restore), (path, file_in_restore)) if on
        )
        module.warn("Restore mode was found enabled (in %s): SSO is off while it is." % where)
    if module._diff:
        result["diff"] = plan.diff(path)

    if enable:
        needs_recreate = plan.content_changed or not running_in_restore or not running
        if not needs_recreate:
            credentials = find_credentials(pattern, _logs(api, attrs["Id"]))
            if credentials:
                _deliver_credentials(module, params, result, credentials)
                module.exit_json(**result)
            module.warn("The running container's logs no longer hold the credentials; recreating it for new ones.")
    else:
        result["credentials_file_removed"] = False
        needs_recreate = plan.content_changed or running_in_restore
        if not needs_recreate:
            remove_credentials_file(module, params["credentials_file"], result)
            module.exit_json(**result)

    result["changed"] = True
    if module.check_mode:
        if not enable:
            remove_credentials_file(module, params["credentials_file"], result)
        module.exit_json(**result)

    apply_plan(module, path, plan, file_attributes(path), result)
    drop = () if enable else (RESTORE_VARIABLE,)
    env = new_environment((attrs.get("Config") or {}).get("Env"), plan.before_values, plan.after_values, drop)
    try:
        try:
            new_id, since = recreate_container(api, attrs, env, module.warn)
        except Exception:
            # The old container is back as it was; so must its env file be.
            if plan.content_changed:
                write_env_file(module, path, plan.before_text)
            raise
        if enable:
            credentials = wait_for_credentials(api, new_id, since, pattern, params["timeout"], secrets)
            _deliver_credentials(module, params, result, credentials)
        else:
            remove_credentials_file(module, params["credentials_file"], result)
            url = params["ready_url"] or default_ready_url(api.inspect_container(new_id))
            result["ready_url"] = url
            wait_until_ready(api, new_id, url, open_url, params["timeout"], secrets)
    except RestoreProblem as exc:
        module.fail_json(msg=str(exc), log_tail=exc.log_tail, **result)
    except DockerException as exc:
        module.fail_json(msg="restore_mode: the Docker engine refused: %s" % mask_log_text(str(exc), secrets), **result)
    module.exit_json(**result)
