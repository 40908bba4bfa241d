"""Find secrets in what a run printed: Ansible's output at -vvv with --diff, or a job's events.

Every secret the run knows is looked for in the forms it can take on its way out: as it is,
URL-encoded (connection strings), JSON-escaped, and base64-encoded at any alignment (a password
inside an encoded blob: an HTTP Basic header, a slurped file, a Kubernetes-style secret). A finding
names where the secret came from and the task that printed it, never the secret itself.

Used by the shared Molecule test (test_secret_scan.py) and by the job-event tests; unit tests in
tests/unit/test_secret_scan.py."""

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

# Shorter values would match by chance (a port, a user name); generated secrets are 20-40 characters.
MIN_SECRET_LENGTH = 8
# Inventory variables whose values are secrets by their name.
SECRET_NAME = re.compile(r"(password|passwd|secret|license|token|api_key|private_key|_key_content)$", re.IGNORECASE)
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)
_TASK_BANNER = re.compile(r"^(?:.*\| )?(TASK|RUNNING HANDLER) \[(?P<name>.*)\] \**\s*$")
_PLAY_BANNER = re.compile(r"^(?:.*\| )?PLAY \[(?P<name>.*)\] \**\s*$")


@dataclass(frozen=True)
class Secret:
    value: str
    source: str  # where it came from, shown in findings instead of the value


@dataclass(frozen=True)
class Finding:
    source: str
    form: str
    task: str
    line: int

    def __str__(self):
        return f"line {self.line}, task [{self.task}]: the secret from {self.source} ({self.form})"


def _base64_forms(value):
    """The parts of base64(x + value + y) that depend only on value, for the three alignments."""
    raw = value.encode()
    forms = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        # Only characters whose 6 bits all come from the value are fixed; those that mix in the bytes
        # before or after it depend on the surrounding text.
        start = (offset * 4 + 2) // 3
        end = (4 * (offset + len(raw))) // 3
        piece = encoded[start:end]
        if len(piece) >= MIN_SECRET_LENGTH:
            forms.add(piece)
    return forms


def forms_of(value):
    """(form name, text) pairs to look for."""
    forms = {("raw", value)}
    for name, text in (
        ("URL-encoded", quote(value, safe="")),
        ("URL-encoded", quote_plus(value)),
        ("JSON-escaped", json.dumps(value)[1:-1]),
    ):
        if text != value:
            forms.add((name, text))
    forms.update(("base64", piece) for piece in _base64_forms(value))
    return sorted(forms)


def secrets_in_text(text, source):
    """Secrets a file holds: the body lines of a private key; certificates (public) and CSRs skipped;
    otherwise every whitespace-separated word (a password file, `salt=` and all)."""
    found = []
    blocks = list(_PEM_BLOCK.finditer(text))
    for block in blocks:
        if "PRIVATE KEY" in block.group(1):
            found += [Secret(line.strip(), f"{source} (key line)") for line in block.group(2).splitlines()]
    if not blocks:
        for word in text.split():
            found.append(Secret(word.split("=", 1)[1] if word.startswith("salt=") else word, source))
    return [secret for secret in found if len(secret.value) >= MIN_SECRET_LENGTH]


def secrets_in_dir(directory):
    """Every secret under a controller secrets directory (wandb_secrets_dir)."""
    directory = Path(directory)
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        found += secrets_in_text(text, str(path.relative_to(directory.parent)))
    return found


def secrets_in_vars(variables, source="inventory"):
    """Literal values of variables named like secrets, at any depth (templates are skipped: what they
    produce is found where it is stored)."""
    found = []

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        elif isinstance(value, str) and "{{" not in value and len(value) >= MIN_SECRET_LENGTH:
            name = path.rsplit(".", 1)[-1]
            if SECRET_NAME.search(name):
                found.append(Secret(value, f"{source} {path}"))

    walk(variables, "")
    return found


def scan_lines(lines, secrets):
    """Findings in an Ansible transcript, each with the task whose output held it."""
    needles = []
    for secret in {s.value: s for s in secrets}.values():
        needles += [(text, form, secret.source) for form, text in forms_of(secret.value)]
    findings = []
    task = "(before the first task)"
    for number, line in enumerate(lines, 1):
        banner = _TASK_BANNER.match(line) or _PLAY_BANNER.match(line)
        if banner:
            # A banner that holds a secret is a finding too (task names are templated).
            task = banner.group("name")
        for text, form, source in needles:
            if text in line:
                findings.append(Finding(source, form, task, number))
    return findings


def scan_events(events, secrets):
    """Findings in ansible-runner job events (what AWX stores), each with its task."""
    findings = []
    for number, event in enumerate(events, 1):
        task = event.get("event_data", {}).get("task") or event.get("event", "?")
        text = json.dumps(event, sort_keys=True)
        for secret in secrets:
            for form, needle in forms_of(secret.value):
                # The event is JSON: a secret with quotes or backslashes is escaped there.
                if needle in text or json.dumps(needle)[1:-1] in text:
                    findings.append(Finding(secret.source, form, task, number))
    return findings


def report(findings, limit=20):
    lines = [str(finding) for finding in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"... and {len(findings) - limit} more")
    return "\n".join(lines)
