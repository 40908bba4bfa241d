"""Generate extensions/awx/job_templates.yml: one AWX job template per playbook (per provider play for
file_storage.yml), with survey specs derived from the argument specs of what the playbook calls:
the server role's meta/argument_specs.yml for site.yml, and for file_storage.yml and restore_mode.yml
the DOCUMENTATION of the modules their tasks call, through the play variables those tasks read.

    python extensions/awx/generate.py           write the file
    python extensions/awx/generate.py --check   fail when the file differs from what would be written

tests/unit/test_awx_definitions.py runs the check, so the surveys cannot drift from the specs.

Survey answers reach the job as extra vars, which win over the inventory: site.yml's questions carry
no default (the inventory owns the release), others the spec's default only where the spec has one,
and no question asks for a secret (credentials carry those, extensions/awx/credential_types.yml) or
for a dict or list (those belong in the inventory)."""

import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Playbooks that are no AWX job, and why.
NOT_JOB_TEMPLATES = {
    "playbooks/bundle.yml": (
        "builds the offline bundle on a connected machine with apt, dpkg-deb and gpg, into a directory there to "
        "carry across the air gap; an AWX job runs in an execution environment container whose files end with it"
    ),
}
OUTPUT = ROOT / "extensions" / "awx" / "job_templates.yml"

# The server role's options an operator decides per deployment run (the release to roll out, its
# archive for air-gapped sites, how long to wait for migrations). Everything else is inventory.
SITE_OPTIONS = (
    "wandb_server_image",
    "wandb_server_image_tag",
    "wandb_server_image_archive",
    "wandb_server_image_archive_checksum",
    "wandb_server_ready_timeout",
)
# Play variables a credential supplies instead of a survey (name: the credential that does).
FROM_CREDENTIALS = {
    "wandb_file_storage_admin_access_key": "W&B MinIO admin (MINIO_ROOT_USER)",
    "wandb_file_storage_admin_secret_key": "W&B MinIO admin (MINIO_ROOT_PASSWORD)",
    "wandb_file_storage_credentials_file": "Google Compute Engine (GOOGLE_APPLICATION_CREDENTIALS)",
}
PROVIDER_PLAYS = {"s3": "AWS S3", "minio": "MinIO", "gcs": "Google Cloud Storage", "azure": "Azure Blob Storage"}
TEMPLATE_VAR = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)")
LITERAL_DEFAULT = re.compile(r"\|\s*default\(\s*('[^']*'|\"[^\"]*\"|-?\d+|true|false)\s*\)")
MARKUP = re.compile(r"\b[A-Z]{1,2}\(([^)]*)\)")


def plain(description):
    """Ansible doc markup (C(x), O(x), V(x), M(x)...) as plain text, one paragraph."""
    text = " ".join(description) if isinstance(description, list) else str(description)
    return MARKUP.sub(lambda match: match.group(1), text)


def module_options(name):
    """A collection module's documented options, its doc fragments' included."""

    def docs_of(path):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
                return yaml.safe_load(node.value.value)
        raise ValueError("%s has no DOCUMENTATION" % path)

    docs = docs_of(ROOT / "plugins" / "modules" / ("%s.py" % name))
    options = {}
    for fragment in docs.get("extends_documentation_fragment", []):
        plugin = fragment.split(".")[2]
        if "." in fragment.split(".", 3)[-1] or plugin == "attributes":
            continue
        options.update(docs_of(ROOT / "plugins" / "doc_fragments" / ("%s.py" % plugin)).get("options", {}))
    options.update(docs.get("options", {}))
    return options


def question(variable, option, default=None, required=False, where=""):
    kind = option.get("type", "str")
    item = {
        "question_name": variable,
        "question_description": (plain(option.get("description", "")) + where).strip(),
        "variable": variable,
        "required": required,
    }
    if option.get("choices"):
        item["type"] = "multiplechoice"
        item["choices"] = [str(choice) for choice in option["choices"]]
    elif kind == "bool":
        item["type"] = "multiplechoice"
        item["choices"] = ["true", "false"]
    elif kind == "int":
        item["type"] = "integer"
    else:
        item["type"] = "text"
    if default not in (None, ""):
        item["default"] = str(default).lower() if isinstance(default, bool) else default
    return item


def site_template():
    spec = yaml.safe_load((ROOT / "roles" / "server" / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    # No defaults: a survey default is sent as an extra var on every launch and would beat the
    # inventory's pinned release. Unanswered questions are not sent, and the inventory (or the role's
    # default) applies.
    where = " Leave blank for the inventory's value."
    questions = [question(name, options[name], where=where) for name in SITE_OPTIONS]
    return template(
        "W&B site",
        "Deploy or upgrade every tier of W&B from the inventory (playbooks/site.yml).",
        "playbooks/site.yml",
        questions,
        "roles/server/meta/argument_specs.yml (entry point main)",
    )


def task_questions(play, seen):
    """Questions for the play variables its wandb_local.fleet module tasks read, with the option's docs."""
    questions = []
    tasks = []
    for task in play.get("tasks", []):
        tasks += task.get("block", [task])
    # A task's registered result is no input.
    seen.update(task["register"] for task in tasks if "register" in task)
    for task in tasks:
        action = next((key for key in task if key.startswith("wandb_local.fleet.")), None)
        if action is None:
            continue
        options = module_options(action.split(".")[2])
        for option_name, value in task[action].items():
            match = TEMPLATE_VAR.match(str(value))
            if not match or match.group(1) in seen or match.group(1) in FROM_CREDENTIALS:
                continue
            variable = match.group(1)
            option = options[option_name]
            if option.get("no_log"):
                continue
            seen.add(variable)
            literal = LITERAL_DEFAULT.search(str(value))
            if variable in play.get("vars", {}):
                default, required = play["vars"][variable], False
            elif literal:
                default, required = yaml.safe_load(literal.group(1)), False
            else:
                default, required = None, "default(omit)" not in str(value)
            where = " (option %s of %s)" % (option_name, action)
            questions.append(question(variable, option, default, required, where))
    return questions


def playbook_templates(playbook, title):
    plays = yaml.safe_load((ROOT / playbook).read_text())
    templates = []
    for play in plays:
        tags = [tag for tag in play.get("tags", []) if tag != "never"]
        questions = task_questions(play, set())
        source = "the module options %s's tasks pass them to" % playbook
        if tags:
            provider = tags[0]
            templates.append(
                template(
                    "W&B file storage (%s)" % PROVIDER_PLAYS[provider],
                    "%s (%s --tags %s)." % (play["name"], playbook, provider),
                    playbook,
                    questions,
                    source,
                    job_tags=provider,
                )
            )
        else:
            templates.append(template(title, "%s (%s)." % (play["name"], playbook), playbook, questions, source))
    return templates


def template(name, description, playbook, questions, source, job_tags=None):
    result = {
        "name": name,
        "description": description,
        "job_type": "run",
        "playbook": playbook,
        "ask_limit_on_launch": True,
        "ask_credential_on_launch": True,
        # AWX refuses a survey without questions: a playbook that asks nothing has none.
        "survey_enabled": bool(questions),
    }
    if questions:
        result["survey_spec"] = {
            "name": name,
            "description": "Generated by extensions/awx/generate.py from %s. Answers are extra vars: they win over "
            "the inventory." % source,
            "spec": questions,
        }
    if job_tags:
        result["job_tags"] = job_tags
    return result


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key, as yamllint wants."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


# The day-2 playbooks take their one input on the command line (-e); their survey asks for it.
RESTORE_BACKUP = {
    "type": "str",
    "description": "The backup to restore: its id (a UTC timestamp such as 20260102T030405Z) or latest.",
}


def day2_templates():
    return [
        template(
            "W&B backup",
            "Take a backup now, the same run the hosts' timer makes (playbooks/backup.yml).",
            "playbooks/backup.yml",
            [],
            "roles/backup/meta/argument_specs.yml (its inputs come from the inventory)",
        ),
        template(
            "W&B restore",
            "Check a backup, then restore it onto the site (playbooks/restore.yml).",
            "playbooks/restore.yml",
            [question("wandb_restore_backup", RESTORE_BACKUP, "latest", required=True)],
            "playbooks/restore.yml (its check of wandb_restore_backup)",
        ),
    ]


def upgrade_template():
    """The upgrade's survey: the release (and archive) from the server role's spec, the upgrade's own
    inputs from the argument spec its first task validates."""
    server = yaml.safe_load((ROOT / "roles" / "server" / "meta" / "argument_specs.yml").read_text())
    server_options = server["argument_specs"]["main"]["options"]
    play = yaml.safe_load((ROOT / "playbooks" / "upgrade.yml").read_text())[0]
    spec = next(t for t in play["tasks"] if "ansible.builtin.validate_argument_spec" in t)
    options = spec["ansible.builtin.validate_argument_spec"]["argument_spec"]
    questions = [question("wandb_server_image_tag", server_options["wandb_server_image_tag"], required=True)]
    questions += [
        question(name, server_options[name])
        for name in ("wandb_server_image_archive", "wandb_server_image_archive_checksum")
    ]
    questions += [question(name, option, option.get("default")) for name, option in options.items()]
    return template(
        "W&B upgrade",
        "Upgrade the server: checks, a backup, the new release, rollback on failure (playbooks/upgrade.yml).",
        "playbooks/upgrade.yml",
        questions,
        "roles/server/meta/argument_specs.yml and playbooks/upgrade.yml (its validate_argument_spec)",
    )


def validated_playbook_template(playbook, name, description):
    """A day-2 playbook's survey, from the argument spec its first play validates."""
    play = yaml.safe_load((ROOT / playbook).read_text())[0]
    spec = next(t for t in play["tasks"] if "ansible.builtin.validate_argument_spec" in t)
    options = spec["ansible.builtin.validate_argument_spec"]["argument_spec"]
    questions = [
        question(option_name, option, option.get("default"), required=bool(option.get("required")))
        for option_name, option in options.items()
    ]
    return template(name, description, playbook, questions, "%s (its validate_argument_spec)" % playbook)


def render():
    templates = [site_template()]
    templates += playbook_templates("playbooks/file_storage.yml", "W&B file storage")
    templates += playbook_templates("playbooks/restore_mode.yml", "W&B restore mode")
    templates += day2_templates()
    templates.append(upgrade_template())
    templates.append(
        validated_playbook_template(
            "playbooks/switchover.yml",
            "W&B switchover",
            "Move the failover lease to a named standby server host (playbooks/switchover.yml).",
        )
    )
    templates.append(
        validated_playbook_template(
            "playbooks/mysql-failover.yml",
            "W&B MySQL failover",
            "Promote a MySQL replica and point W&B at it (playbooks/mysql-failover.yml).",
        )
    )
    header = (
        "---\n# GENERATED by extensions/awx/generate.py from the argument specs; do not edit (make the change there\n"
        "# or in the specs, then run it). extensions/awx/configure-awx.yml creates these with awx.awx.job_template.\n"
    )
    body = yaml.dump(
        {"wandb_awx_job_templates": templates}, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True
    )
    return header + body


def main(argv):
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            print("%s is out of date: run python extensions/awx/generate.py" % OUTPUT.relative_to(ROOT))
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
