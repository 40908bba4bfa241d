"""What AWX does with the collection's AWX definitions, without an AWX server.

- awx_module_spec(): the argument spec of an awx.awx module, read from the module the `ansible`
  package ships (its main() is run up to the point where it builds ControllerAPIModule).
- credential_type_problems(), survey_spec_problems(): AWX's own validation of a credential type's
  inputs and injectors (awx/main/fields.py, CredentialTypeInputField and CredentialTypeInjectorField)
  and of a survey spec (awx/api/views/__init__.py, JobTemplateSurveySpec._validate_spec_data), ported
  from AWX 24.6 (ansible/awx e21dd0a0) rule for rule, minus the database.
- inject(): CredentialType.inject_credential of the same release: the injector templates rendered in
  Jinja2's ImmutableSandboxedEnvironment with the credential's inputs (blank inputs left out of the
  namespace, so they render as ''), file injectors written to private_data_dir/env and named by
  {{ tower.filename }}, env injectors into the job's environment, extra_vars injectors into a YAML
  file in private_data_dir/env passed as `-e @file`.
"""

import importlib
import os
import re
import stat
import tempfile

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

# awx/main/constants.py ENV_BLOCKLIST (AWX 24.6)
ENV_BLOCKLIST = frozenset(
    (
        "VIRTUAL_ENV",
        "PATH",
        "PYTHONPATH",
        "JOB_ID",
        "INVENTORY_ID",
        "INVENTORY_SOURCE_ID",
        "INVENTORY_UPDATE_ID",
        "AD_HOC_COMMAND_ID",
        "REST_API_URL",
        "REST_API_TOKEN",
        "MAX_EVENT_RES",
        "CALLBACK_QUEUE",
        "CALLBACK_CONNECTION",
        "CACHE",
        "JOB_CALLBACK_DEBUG",
        "INVENTORY_HOSTVARS",
        "AWX_HOST",
        "PROJECT_REVISION",
        "SUPERVISOR_CONFIG_PATH",
    )
)
# awx/main/constants.py SURVEY_TYPE_MAPPING
SURVEY_TYPE_MAPPING = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": (float, int),
}
_ID = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
_FILE_KEY = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
_EXTRA_VAR_KEY = re.compile(r"^[a-zA-Z_\{\}]+[a-zA-Z0-9_\{\}]*$")
_FIELD_KEYS = {
    "type",
    "format",
    "choices",
    "id",
    "label",
    "help_text",
    "multiline",
    "secret",
    "ask_at_runtime",
    "default",
}


class _SpecCaptured(Exception):
    pass


def awx_module_spec(name):
    """(argument_spec, other AnsibleModule keyword arguments) of awx.awx's module `name`, auth options included."""
    module = importlib.import_module("ansible_collections.awx.awx.plugins.modules.%s" % name)
    from ansible_collections.awx.awx.plugins.module_utils.controller_api import ControllerModule

    captured = {}

    class Capture:
        def __init__(self, argument_spec=None, **kwargs):
            captured["spec"] = dict(ControllerModule.AUTH_ARGSPEC, **argument_spec)
            captured["kwargs"] = kwargs
            raise _SpecCaptured()

    original = module.ControllerAPIModule
    module.ControllerAPIModule = Capture
    try:
        module.main()
    except _SpecCaptured:
        pass
    finally:
        module.ControllerAPIModule = original
    return captured["spec"], captured["kwargs"]


def validate_module_params(name, params):
    """Error messages of ansible's ArgumentSpecValidator for `params` given to awx.awx.`name`."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    spec, kwargs = awx_module_spec(name)
    rules = ("mutually_exclusive", "required_together", "required_one_of", "required_if")
    allowed = {key: kwargs[key] for key in rules if kwargs.get(key)}
    result = ArgumentSpecValidator(spec, **allowed).validate(params)
    return list(result.error_messages)


def credential_type_problems(inputs, injectors):
    """AWX's CredentialTypeInputField and CredentialTypeInjectorField checks, as messages."""
    problems = []
    if not isinstance(inputs, dict) or set(inputs) - {"fields", "required"}:
        return ["inputs must be a mapping of fields and required, got %r" % (inputs,)]
    if "dependencies" in inputs:
        problems.append("'dependencies' is not supported for custom credentials")
    ids = []
    for field in inputs.get("fields", []):
        if not isinstance(field, dict) or not {"id", "label"} <= set(field):
            problems.append("field %r needs id and label" % (field,))
            continue
        extra = set(field) - _FIELD_KEYS
        if extra:
            problems.append("field %s: unknown keys %s" % (field["id"], sorted(extra)))
        if not _ID.match(field["id"]):
            problems.append("%s is an invalid variable name" % field["id"])
        if field["id"] == "tower":
            problems.append('"tower" is a reserved field name')
        if field["id"] in ids:
            problems.append("field IDs must be unique (%s)" % field["id"])
        ids.append(field["id"])
        kind = field.get("type", "string")
        if kind not in ("string", "boolean"):
            problems.append("field %s: type %s is not string or boolean" % (field["id"], kind))
        if field.get("format") not in (None, "ssh_private_key", "url"):
            problems.append("field %s: format %s" % (field["id"], field["format"]))
        if "choices" in field and (not field["choices"] or len(set(field["choices"])) != len(field["choices"])):
            problems.append("field %s: choices must be unique and not empty" % field["id"])
        for key in ("choices", "multiline", "format", "secret"):
            if key in field and kind != "string":
                problems.append("%s not allowed for %s type (%s)" % (key, kind, field["id"]))
    for name in inputs.get("required", []):
        if name not in ids:
            problems.append("required names %s, which is no field" % name)

    if not isinstance(injectors, dict) or set(injectors) - {"file", "env", "extra_vars"}:
        return [*problems, "injectors may hold only file, env and extra_vars, got %r" % (injectors,)]
    namespace = dict((field_id, "EXAMPLE") for field_id in ids)

    class Exploding:
        def __str__(self):
            raise UndefinedError("Must define unnamed file injector in order to reference `tower.filename`.")

    class Tower:
        def __init__(self):
            self.filename = Exploding()

        def __str__(self):
            raise UndefinedError("Cannot directly reference reserved `tower` namespace container.")

    namespace["tower"] = Tower()
    files = [key for key in injectors.get("file", {}) if key.startswith("template")]
    if "template" in files:
        namespace["tower"].filename = "EXAMPLE_FILENAME"
        if len(files) > 1:
            problems.append("Must use multi-file syntax when injecting multiple files")
    else:
        for key in files:
            setattr(namespace["tower"].filename, key.split(".")[1], "EXAMPLE_FILENAME")

    def check_template(kind, key, template):
        if not isinstance(template, str):
            problems.append("%s %s: a template must be a string, got %r" % (kind, key, template))
            return
        try:
            ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template).render(namespace)
        except UndefinedError as exc:
            problems.append("%s uses an undefined field (%s)" % (key, exc))
        except SecurityError as exc:
            problems.append("Encountered unsafe code execution: %s" % exc)
        except TemplateSyntaxError as exc:
            problems.append("Syntax error rendering template for %s inside of %s (%s)" % (key, kind, exc))

    for key, template in injectors.get("file", {}).items():
        if not _FILE_KEY.match(key):
            problems.append("file injector %s is not template or template.NAME" % key)
        check_template("file", key, template)
    for key, template in injectors.get("env", {}).items():
        if not _ID.match(key):
            problems.append("env injector %s is not a variable name" % key)
        if key.startswith("ANSIBLE_"):
            problems.append("Environment variable %s may affect Ansible configuration" % key)
        if key in ENV_BLOCKLIST:
            problems.append("Environment variable %s is not allowed to be used in credentials" % key)
        if isinstance(template, str) and not template.isascii():
            problems.append("env injector %s is not ASCII" % key)
        check_template("env", key, template)

    def check_extra_vars(key, node):
        if isinstance(node, dict):
            for name, value in node.items():
                if not _EXTRA_VAR_KEY.match(str(name)):
                    problems.append("extra_vars key %s is not a variable name" % name)
                check_template("extra_vars", "a key" if key is None else key, name)
                check_extra_vars(name if key is None else "%s.%s" % (key, name), value)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                check_extra_vars("%s[%s]" % (key, index), item)
        else:
            check_template("extra_vars", key, node)

    check_extra_vars(None, injectors.get("extra_vars", {}))
    return problems


def survey_spec_problems(spec):
    """JobTemplateSurveySpec._validate_spec_data of AWX 24.6, as messages."""
    problems = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(spec.get(field), kind):
            problems.append("survey spec field %s missing or not a %s" % (field, kind.__name__))
    if problems:
        return problems
    if not spec["spec"]:
        return ["'spec' doesn't contain any items."]
    variables = set()
    for index, item in enumerate(spec["spec"]):
        where = "survey question %s" % index
        if not isinstance(item, dict):
            problems.append("%s is not a json object" % where)
            continue
        missing = [key for key in ("type", "question_name", "variable", "required") if key not in item]
        if missing:
            problems.append("%s misses %s" % (where, missing))
            continue
        if not all(isinstance(item[key], str) for key in ("type", "question_name", "variable")):
            problems.append("%s: type, question_name and variable must be strings" % where)
        if not isinstance(item["required"], bool):
            problems.append("%s: required must be a boolean" % where)
        if item["variable"] in variables:
            problems.append("'variable' '%s' duplicated in %s" % (item["variable"], where))
        variables.add(item["variable"])
        kind = item["type"]
        if kind not in SURVEY_TYPE_MAPPING:
            problems.append("%s: type %s is not one of %s" % (where, kind, ", ".join(SURVEY_TYPE_MAPPING)))
            continue
        if item.get("default", "") != "" and not isinstance(item["default"], SURVEY_TYPE_MAPPING[kind]):
            problems.append("Default value %r in %s expected to be %s" % (item["default"], where, kind))
        for key in ("min", "max"):
            if item.get(key) is not None and not isinstance(item[key], int):
                problems.append("The %s limit in %s expected to be integer" % (key, where))
        if kind in ("multiplechoice", "multiselect"):
            if "choices" not in item:
                problems.append("%s of type %s must specify choices" % (where, kind))
                continue
            choices = item["choices"]
            if isinstance(choices, str):
                choices = [choice for choice in choices.splitlines() if choice.strip()]
            if "default" in item:
                defaults = item["default"].splitlines() if isinstance(item["default"], str) else item["default"]
                if kind == "multiplechoice" and len(defaults) > 1:
                    problems.append("Multiple Choice (Single Select) can only have one default value (%s)" % where)
                if any(default not in choices for default in defaults):
                    problems.append("Default choice must be answered from the choices listed (%s)" % where)
        if isinstance(item.get("default"), str) and item["default"].startswith("$encrypted$"):
            problems.append("$encrypted$ is a reserved keyword (%s)" % where)
    return problems


def inject(credential_type, inputs, private_data_dir):
    """CredentialType.inject_credential: (environment variables, ansible-playbook arguments) for one
    credential of `credential_type` with `inputs`, files written under private_data_dir/env."""
    injectors = credential_type.get("injectors") or {}
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)

    class TowerNamespace:
        pass

    tower = TowerNamespace()
    namespace = {"tower": tower}
    for name, value in inputs.items():
        if isinstance(value, bool) or len(value):  # AWX: type(value) is bool
            namespace[name] = value
    for field in credential_type["inputs"].get("fields", []):
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
        key = field["id"]
        if field.get("format") == "ssh_private_key" and key in namespace and not namespace[key].endswith("\n"):
            namespace[key] += "\n"

    sandbox = ImmutableSandboxedEnvironment()
    for label, template in injectors.get("file", {}).items():
        data = sandbox.from_string(template).render(**namespace)
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = path
        else:
            if not hasattr(tower, "filename"):
                tower.filename = TowerNamespace()
            setattr(tower.filename, label.split(".")[1], path)

    env = {}
    for name, template in injectors.get("env", {}).items():
        if name.startswith("ANSIBLE_") or name in ENV_BLOCKLIST:
            continue  # AWX logs and ignores a prohibited variable
        env[name] = sandbox.from_string(template).render(**namespace)

    def build(node):
        if isinstance(node, dict):
            return {build(key): build(value) for key, value in node.items()}
        if isinstance(node, list):
            return [build(item) for item in node]
        return sandbox.from_string(node).render(**namespace)

    args = []
    extra_vars = build(injectors.get("extra_vars", {}))
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as stream:
            stream.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR)
        args += ["-e", "@%s" % path]
    return env, args
