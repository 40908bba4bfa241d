"""extensions/awx/configure-awx.yml run for real, its awx.awx modules talking to a fake AWX API (an
in-memory REST store of the objects they create, on a free loopback port). The fake applies AWX's own
rules (tests/awx_model.py) to what it receives and answers 400 on a violation, as AWX does; the test
then checks that AWX would hold exactly the definitions of extensions/awx, injector templates as
written (not rendered by Ansible on the way), and that a second run changes nothing."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from conftest import COLLECTIONS, REPO

sys.path.insert(0, str(REPO / "tests"))

import awx_model

AWX = REPO / "extensions" / "awx"


class FakeAwx:
    def __init__(self):
        self.store = {"organizations": {1: {"id": 1, "name": "Default", "type": "organization"}}}
        self.surveys = {}
        self.requests = []
        self.lock = threading.Lock()

    def item(self, collection, data):
        ident = max(self.store.setdefault(collection, {}) or {0: None}) + 1
        url = "/api/v2/%s/%s/" % (collection, ident)
        item = dict(data, id=ident, url=url, type=collection.rstrip("s"), summary_fields={})
        item["related"] = {"survey_spec": url + "survey_spec/"} if collection == "job_templates" else {}
        self.store[collection][ident] = item
        return item

    def handle(self, method, path, query, body):
        parts = [p for p in path.split("/") if p][2:]  # after api/v2
        self.requests.append((method, path))
        if not parts:
            return 200, {}
        collection = parts[0]
        items = self.store.setdefault(collection, {})
        if len(parts) == 1 and method == "GET":
            wanted = {key: values[0] for key, values in query.items() if key != "page_size"}
            found = [i for i in items.values() if all(str(i.get(k)) == v for k, v in wanted.items())]
            return 200, {"count": len(found), "results": found, "next": None}
        if len(parts) == 1 and method == "POST":
            problems = []
            if collection == "credential_types":
                problems = awx_model.credential_type_problems(body.get("inputs", {}), body.get("injectors", {}))
            if collection == "job_templates" and not (REPO / body.get("playbook", "")).is_file():
                # AWX offers only the playbooks of the project's checkout (here: this repository).
                problems = ["Playbook not found for project."]
            if problems:
                return 400, {"__all__": problems}
            item = self.item(collection, body)
            if collection == "projects":
                # The project's first sync, finished at once.
                update = self.item("project_updates", {"status": "successful", "failed": False, "finished": True})
                item.update(scm_revision="0" * 40, summary_fields={"current_update": {"id": update["id"]}})
            return 201, item
        ident = int(parts[1])
        if len(parts) == 3 and parts[2] == "survey_spec" and method == "POST":
            problems = awx_model.survey_spec_problems(body)
            if problems:
                return 400, {"error": "; ".join(problems)}
            self.surveys[ident] = body
            return 200, {}
        if len(parts) == 3 and parts[2] == "survey_spec" and method == "GET":
            return 200, self.surveys.get(ident, {})
        if len(parts) == 2 and method == "GET":
            return 200, items[ident]
        if len(parts) == 2 and method == "PATCH":
            items[ident].update(body)
            return 200, items[ident]
        return 405, {"detail": "%s %s is not faked" % (method, path)}


@pytest.fixture
def fake_awx():
    fake = FakeAwx()

    class Handler(BaseHTTPRequestHandler):
        def do(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            with fake.lock:
                status, answer = fake.handle(self.command, parts.path, parse_qs(parts.query), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, "http://127.0.0.1:%s" % server.server_address[1]
    server.shutdown()


def run_configure(url):
    playbook = shutil_which("ansible-playbook")
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        CONTROLLER_HOST=url,
        CONTROLLER_OAUTH_TOKEN="fake-token-for-the-fake-awx",
        CONTROLLER_VERIFY_SSL="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    command = [playbook, str(AWX / "configure-awx.yml"), "-e", "ansible_python_interpreter=%s" % sys.executable]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)


def shutil_which(name):
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def test_configure_awx_creates_the_definitions_as_written(fake_awx):
    fake, url = fake_awx
    first = run_configure(url)
    assert first.returncode == 0, first.stdout + first.stderr
    credential_types = yaml.safe_load((AWX / "credential_types.yml").read_text())["wandb_awx_credential_types"]
    job_templates = yaml.safe_load((AWX / "job_templates.yml").read_text())["wandb_awx_job_templates"]

    stored = {item["name"]: item for item in fake.store["credential_types"].values()}
    assert sorted(stored) == sorted(t["name"] for t in credential_types)
    for definition in credential_types:
        assert stored[definition["name"]]["injectors"] == definition["injectors"]
        assert stored[definition["name"]]["inputs"] == definition["inputs"]
        assert stored[definition["name"]]["kind"] == definition["kind"]

    assert [p["name"] for p in fake.store["projects"].values()] == ["W&B fleet"]
    assert [i["name"] for i in fake.store["inventories"].values()] == ["W&B fleet"]
    templates = {item["name"]: item for item in fake.store["job_templates"].values()}
    assert sorted(templates) == sorted(t["name"] for t in job_templates)
    for definition in job_templates:
        stored_template = templates[definition["name"]]
        assert stored_template["playbook"] == definition["playbook"]
        assert stored_template.get("job_tags") == definition.get("job_tags")
        assert fake.surveys.get(stored_template["id"]) == definition.get("survey_spec")

    second = run_configure(url)
    assert second.returncode == 0, second.stdout + second.stderr
    recap = second.stdout.split("PLAY RECAP")[-1]
    assert "changed=0" in recap, second.stdout
