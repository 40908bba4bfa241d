"""The AWX definitions under extensions/awx/ are what AWX would accept, without an AWX server: each
checked against the argument spec of the awx.awx module configure-awx.yml hands it to (read from the
awx.awx collection the `ansible` package ships) and against AWX's own rules (tests/awx_model.py); the
generated job templates are what extensions/awx/generate.py writes today; the injectors, rendered as AWX
renders them, give the server role inputs it accepts."""

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AWX = REPO / "extensions" / "awx"
sys.path.insert(0, str(REPO / "tests"))

import awx_model  # noqa: E402

CREDENTIAL_TYPES = yaml.safe_load((AWX / "credential_types.yml").read_text())["wandb_awx_credential_types"]
JOB_TEMPLATES = yaml.safe_load((AWX / "job_templates.yml").read_text())["wandb_awx_job_templates"]
CONFIGURE = yaml.safe_load((AWX / "configure-awx.yml").read_text())
SERVER_SPEC = yaml.safe_load((REPO / "roles" / "server" / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def load_generator():
    spec = importlib.util.spec_from_file_location("awx_generate", AWX / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def configure_task(module):
    return next(task for task in CONFIGURE[0]["tasks"] if "awx.awx.%s" % module in task)


def test_job_templates_are_generated_from_the_specs():
    assert (AWX / "job_templates.yml").read_text() == load_generator().render(), (
        "extensions/awx/job_templates.yml is out of date: run python extensions/awx/generate.py"
    )


def test_one_job_template_per_playbook_and_file_storage_provider():
    by_playbook = {}
    for template in JOB_TEMPLATES:
        by_playbook.setdefault(template["playbook"], []).append(template.get("job_tags"))
    playbooks = {"playbooks/%s" % p.name for p in (REPO / "playbooks").glob("*.yml")}
    excluded = load_generator().NOT_JOB_TEMPLATES
    assert set(excluded) <= playbooks, "an excluded playbook that does not exist"
    assert sorted(by_playbook) == sorted(playbooks - set(excluded))
    assert sorted(by_playbook["playbooks/file_storage.yml"]) == ["azure", "gcs", "minio", "s3"]


@pytest.mark.parametrize("task", CONFIGURE[0]["tasks"], ids=lambda task: task["name"])
def test_configure_awx_passes_only_options_the_module_has(task):
    module = next(key for key in task if key.startswith("awx.awx."))
    spec = awx_model.awx_module_spec(module.split(".")[2])[0]
    assert set(task[module]) <= set(spec), "%s has no option %s" % (module, sorted(set(task[module]) - set(spec)))


@pytest.mark.parametrize("module,definitions", [("credential_type", CREDENTIAL_TYPES), ("job_template", JOB_TEMPLATES)])
def test_configure_awx_hands_over_every_field_of_a_definition(module, definitions):
    task = configure_task(module)["awx.awx.%s" % module]
    for definition in definitions:
        for key in definition:
            assert "item.%s" % key in str(task.get(key, "")), "configure-awx.yml drops %s of %s" % (
                key,
                definition["name"],
            )


@pytest.mark.parametrize("definition", CREDENTIAL_TYPES, ids=lambda d: d["name"])
def test_credential_type_against_awx_awx_credential_type(definition):
    assert awx_model.validate_module_params("credential_type", dict(definition, state="present")) == []


@pytest.mark.parametrize("definition", CREDENTIAL_TYPES, ids=lambda d: d["name"])
def test_credential_type_by_awx_rules(definition):
    assert awx_model.credential_type_problems(definition["inputs"], definition["injectors"]) == []


@pytest.mark.parametrize("definition", JOB_TEMPLATES, ids=lambda d: d["name"])
def test_job_template_against_awx_awx_job_template(definition):
    params = dict(definition, project="W&B fleet", inventory="W&B fleet", state="present")
    assert awx_model.validate_module_params("job_template", params) == []


WITH_SURVEY = [definition for definition in JOB_TEMPLATES if definition["survey_enabled"]]


def test_only_a_playbook_that_asks_nothing_has_no_survey():
    without = [d["name"] for d in JOB_TEMPLATES if not d["survey_enabled"]]
    assert without == ["W&B backup"]
    assert all("survey_spec" not in d for d in JOB_TEMPLATES if not d["survey_enabled"])


@pytest.mark.parametrize("definition", WITH_SURVEY, ids=lambda d: d["name"])
def test_survey_by_awx_rules(definition):
    assert awx_model.survey_spec_problems(definition["survey_spec"]) == []


@pytest.mark.parametrize("definition", WITH_SURVEY, ids=lambda d: d["name"])
def test_survey_asks_for_no_secret_and_no_injected_variable(definition):
    injected = set()
    for credential_type in CREDENTIAL_TYPES:
        injected |= set(credential_type["injectors"].get("extra_vars", {}))
    for question in definition["survey_spec"]["spec"]:
        assert question["type"] != "password"
        assert question["variable"] not in injected
        assert not question["variable"].endswith(("_secret_key", "_password", "_license", "_secret"))


def test_site_survey_matches_the_server_role_spec():
    options = SERVER_SPEC["main"]["options"]
    site = next(t for t in JOB_TEMPLATES if t["playbook"] == "playbooks/site.yml")
    for question in site["survey_spec"]["spec"]:
        option = options[question["variable"]]
        assert question["type"] == {"str": "text", "path": "text", "int": "integer"}[option["type"]]
        # A default would be sent on every launch and beat the inventory's pinned release.
        assert "default" not in question, question


def test_generator_catches_a_spec_change(monkeypatch, tmp_path):
    generator = load_generator()
    spec = yaml.safe_load((REPO / "roles" / "server" / "meta" / "argument_specs.yml").read_text())
    spec["argument_specs"]["main"]["options"]["wandb_server_image_tag"]["description"] = "Release 0.99.0 only."
    root = tmp_path / "repo"
    (root / "roles" / "server" / "meta").mkdir(parents=True)
    (root / "roles" / "server" / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(spec))
    for name in ("playbooks", "plugins"):
        (root / name).symlink_to(REPO / name)
    monkeypatch.setattr(generator, "ROOT", root)
    assert "0.99.0" in generator.render()
    assert generator.render() != (AWX / "job_templates.yml").read_text()


SAMPLE_INPUTS = {
    "W&B server secrets": {"license": "lic-0123456789abcdef", "oidc_secret": "oidc-0123456789", "slack_secret": ""},
    "W&B external MySQL": {"url": "mysql://wandb:p%40ss-0123456789@db.example.net:3306/wandb_local?tls=true"},
    "W&B external Redis": {"url": "redis://:r%2Fpass-0123456789@cache.example.net:6379?tls=true"},
    "W&B external bucket": {
        "bucket": "s3://AKIAEXAMPLE:sk%2Fsecret0123456789@s3.eu-west-1.amazonaws.com/wandb-files",
        "queue": "sqs://wandb-events",
        "region": "eu-west-1",
        "client_url": "https://s3.eu-west-1.amazonaws.com",
    },
    "W&B MinIO admin": {"access_key": "minioadmin", "secret_key": "minio-secret-0123456789"},
}


def test_every_credential_type_has_sample_inputs():
    assert sorted(SAMPLE_INPUTS) == sorted(t["name"] for t in CREDENTIAL_TYPES)


@pytest.mark.parametrize("definition", CREDENTIAL_TYPES, ids=lambda d: d["name"])
def test_rendered_injectors_are_inputs_the_server_role_accepts(definition, tmp_path):
    """Rendered the way AWX renders them, the extra vars pass the server role's argument spec and the
    contract's external_endpoint check; env injectors name the variables file_storage reads."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import external_endpoint

    env, args = awx_model.inject(definition, SAMPLE_INPUTS[definition["name"]], str(tmp_path))
    extra_vars = {}
    for index in range(1, len(args), 2):
        extra_vars.update(yaml.safe_load(Path(args[index][1:]).read_text()))
    options = SERVER_SPEC["main"]["options"]
    spec = {
        name: {k: v for k, v in option.items() if k in ("type", "elements", "default")}
        for name, option in options.items()
    }
    if extra_vars:
        assert set(extra_vars) <= set(options)
        result = ArgumentSpecValidator(spec).validate(extra_vars)
        assert not result.error_messages
    for tier in ("mysql", "redis", "bucket"):
        if "wandb_server_%s" % tier in extra_vars:
            endpoint = external_endpoint(tier, extra_vars["wandb_server_%s" % tier], "wandb_server_%s" % tier)
            assert endpoint["env"] == extra_vars["wandb_server_%s" % tier]["env"]
    if definition["name"] == "W&B server secrets":
        # A blank optional field renders as '', which the server role leaves out.
        assert extra_vars["wandb_server_secret_settings"] == {"OIDC_SECRET": "oidc-0123456789", "SLACK_SECRET": ""}
        assert extra_vars["wandb_server_license"] == "lic-0123456789abcdef"
    if definition["name"] == "W&B MinIO admin":
        assert env == {"MINIO_ROOT_USER": "minioadmin", "MINIO_ROOT_PASSWORD": "minio-secret-0123456789"}


def test_awx_rules_catch_what_awx_refuses():
    """The ported rules are not vacuous: each refuses what AWX refuses."""
    inputs = {"fields": [{"id": "url", "label": "URL", "secret": True}]}
    assert awx_model.credential_type_problems(inputs, {"env": {"X": "{{ nope }}"}})
    assert awx_model.credential_type_problems(inputs, {"env": {"ANSIBLE_CONFIG": "{{ url }}"}})
    assert awx_model.credential_type_problems(inputs, {"env": {"PATH": "{{ url }}"}})
    assert awx_model.credential_type_problems(inputs, {"env": {"X": "{{ tower.filename }}"}})
    assert awx_model.credential_type_problems(inputs, {"extra_vars": {"a-b": "{{ url }}"}})
    assert awx_model.credential_type_problems({"fields": [{"id": "tower", "label": "x"}]}, {})
    assert awx_model.credential_type_problems(
        {"fields": [{"id": "b", "label": "x", "type": "boolean", "secret": True}]}, {}
    )
    assert not awx_model.credential_type_problems(
        inputs, {"file": {"template": "{{ url }}"}, "env": {"F": "{{ tower.filename }}"}}
    )
    question = {"question_name": "q", "variable": "v", "required": False, "type": "multiplechoice", "choices": ["a"]}
    assert awx_model.survey_spec_problems({"name": "n", "description": "d", "spec": []})
    assert awx_model.survey_spec_problems({"name": "n", "description": "d", "spec": [dict(question, default="b")]})
    assert awx_model.survey_spec_problems({"name": "n", "description": "d", "spec": [question, question]})
    assert awx_model.survey_spec_problems({"name": "n", "description": "d", "spec": [dict(question, type="bool")]})
    assert not awx_model.survey_spec_problems({"name": "n", "description": "d", "spec": [dict(question, default="a")]})
    assert awx_model.validate_module_params("job_template", {"name": "x", "survey_spec": "not a dict"})
    assert awx_model.validate_module_params("credential_type", {"name": "x", "kind": "nonsense"})
