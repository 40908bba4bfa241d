"""Keep every role's meta/argument_specs.yml in step with its defaults/main.yml.

For each role: every variable in defaults/main.yml is documented in an entry point (usually
`main`) with the same default; every documented default exists in defaults/main.yml with the same
value; all variables carry the role prefix (wandb_<role>_). Options without a default (required
or truly optional inputs) may be absent from defaults/main.yml. Every entry point has its tasks
file, and every tier role has the `publish` entry point of the contract between tiers
(docs/role-conventions.md), taking wandb_<role>_publish_host."""

import sys
from pathlib import Path

import yaml

ROLES_DIR = Path(__file__).resolve().parent.parent / "roles"
MISSING = object()
# The roles that publish wandb_<role>_endpoint (plugins/module_utils/_tier_endpoints.py TIERS).
TIER_ROLES = ("mysql", "redis", "minio", "server", "proxy")


def check_role(role: Path) -> list[str]:
    problems = []
    prefix = f"wandb_{role.name}_"
    defaults_file = role / "defaults" / "main.yml"
    specs_file = role / "meta" / "argument_specs.yml"
    if not specs_file.is_file():
        return [f"{role.name}: meta/argument_specs.yml is missing"]
    try:
        defaults = yaml.safe_load(defaults_file.read_text()) or {} if defaults_file.is_file() else {}
        specs = (yaml.safe_load(specs_file.read_text()) or {}).get("argument_specs", {})
    except yaml.YAMLError as error:
        return [f"{role.name}: not valid YAML: {error}"]
    if "main" not in specs:
        problems.append(f"{role.name}: argument_specs has no `main` entry point")
    for entry_point in specs:
        if not (role / "tasks" / f"{entry_point}.yml").is_file():
            problems.append(f"{role.name}: entry point {entry_point} has no tasks/{entry_point}.yml")
    if role.name in TIER_ROLES:
        publish_options = (specs.get("publish") or {}).get("options") or {}
        if f"{prefix}publish_host" not in publish_options:
            problems.append(
                f"{role.name}: a tier role needs the `publish` entry point with option {prefix}publish_host "
                "(docs/role-conventions.md, the contract between tiers)"
            )
    for entry_point, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            if not name.startswith(prefix):
                problems.append(f"{role.name}: {entry_point} option {name} lacks the prefix {prefix}")
            if not option.get("description"):
                problems.append(f"{role.name}: {entry_point} option {name} has no description")
    options = {}
    for spec in specs.values():
        options.update((spec or {}).get("options") or {})
    for name, value in defaults.items():
        if not name.startswith(prefix):
            problems.append(f"{role.name}: default {name} lacks the prefix {prefix}")
        if name not in options:
            problems.append(f"{role.name}: default {name} is not documented in meta/argument_specs.yml")
        elif options[name].get("default", MISSING) != value:
            problems.append(
                f"{role.name}: {name} defaults to {value!r} in defaults/main.yml but "
                f"{options[name].get('default', '(nothing)')!r} in meta/argument_specs.yml"
            )
    for name, option in options.items():
        if "default" in option and name not in defaults:
            problems.append(f"{role.name}: {name} has a documented default but none in defaults/main.yml")
    return problems


def main() -> int:
    roles = sorted(p for p in ROLES_DIR.iterdir() if p.is_dir()) if ROLES_DIR.is_dir() else []
    problems = [problem for role in roles for problem in check_role(role)]
    for problem in problems:
        print(problem)
    print(f"argument specs: {len(roles)} roles checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
