# wandb_local.fleet: every check the project has, from a fresh machine.
#
#   make test                  everything, in order, with each stage's duration (what CI runs)
#   make lint | sanity | unit | integration | molecule    one stage
#   make molecule SCENARIO=x   one Molecule scenario (test sequence)
#   make molecule MOLECULE_JOBS=1   all scenarios one at a time (default: two side by side)
#   make lab                   prepare the Docker test lab only (tests/lab/setup), the execution environment too
#   make build                 build the collection tarball
#   make demo [DEMO=fleet]     a working deployment in lab hosts (all-in-one by default)
#   make demo-down [DEMO=...]  remove it
#   make bench [BENCH_ARGS=...]  the benchmarks (benchmarks/README.md), not part of make test
#   make bench-smoke           the benchmark harness once on one host (a stage of make test)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
STAMP := $(VENV)/.installed
export PATH := $(VENV)/bin:$(PATH)
export WANDB_LAB_CACHE ?= $(HOME)/.cache/wandb-fleet-lab
# The collection is imported by its real name from a symlink tree; ansible-test needs a copy.
COLLECTIONS_DIR := $(CURDIR)/build/collections
SANITY_DIR := $(CURDIR)/build/ansible-test/ansible_collections/wandb_local/fleet
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export ANSIBLE_FORCE_COLOR ?= false
export MOLECULE_NO_LOG ?= false
STAGE := tests/stage
SCENARIOS ?= $(sort $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
SCENARIO ?=
export MOLECULE_JOBS ?= 2
# CI stops a run at 90 minutes and prints nothing of what was still running: make test stops its
# scenarios itself 2.5 minutes before that (its clock starts a little after CI's), naming the step
# each was in (tests/run-scenarios).
MOLECULE_DEADLINE_SECONDS ?= 5250

.PHONY: help test deps system-tools collection-tree lab lint sanity unit integration molecule build demo demo-down bench bench-smoke bench-deps clean

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

# The lab (Docker engine, host image, MinIO built from source, the stand-in) takes minutes and
# mostly waits on the network or one Go build, so it runs in the background while the stages
# that do not need it run; the `lab` stage waits for it and prints its log. The execution
# environment (tests/lab/ee) needs the venv: it starts after `deps`, and is waited for before molecule.
test:
	@rm -f build/stages.log build/lab.rc build/ee.rc && mkdir -p build && date +%s > build/stages.start
	@# Background jobs go through tests/background: under make's -e a failing job left no rc file
	@# behind, and the stage waiting for it waited until CI's limit.
	@tests/background build/lab.rc build/lab.log tests/lab/setup docker base-image minio standin client-sdk &
	@$(STAGE) deps $(MAKE) --no-print-directory deps
	@# The execution environment needs the venv (ansible-builder) and the lab's base image.
	@tests/background build/ee.rc build/ee.log tests/lab/setup ee &
	@# The stages below leave a core idle: the longest Molecule scenario starts as soon as the lab
	@# is ready, the others once they are done (build/molecule.gate, tests/run-scenarios).
	@rm -f build/molecule.gate build/molecule.rc
	@MOLECULE_GATE=build/molecule.gate MOLECULE_GATE_OWNER=$$PPID \
		MOLECULE_DEADLINE=$$(($$(cat build/stages.start) + $(MOLECULE_DEADLINE_SECONDS))) \
		tests/background build/molecule.rc build/molecule.out \
		bash -c 'tests/lab/wait build/lab.rc build/lab.log > /dev/null && exec tests/run-scenarios "$$@"' _ $(SCENARIOS) &
	@$(STAGE) lint $(MAKE) --no-print-directory lint
	@$(STAGE) sanity $(MAKE) --no-print-directory sanity
	@$(STAGE) unit $(MAKE) --no-print-directory unit
	@$(STAGE) "lab (background)" tests/lab/wait build/lab.rc build/lab.log
	@$(STAGE) integration $(MAKE) --no-print-directory integration
	@$(STAGE) "execution environment (background)" tests/lab/wait build/ee.rc build/ee.log
	@touch build/molecule.gate
	@# Light and short: beside the scenarios rather than after them.
	@$(STAGE) "bench (smoke)" $(MAKE) --no-print-directory bench-smoke
	@$(STAGE) build $(MAKE) --no-print-directory build
	@$(STAGE) molecule tests/lab/wait --follow build/molecule.rc build/molecule.out
	@$(STAGE) --summary

# Python tools in a project venv, reinstalled only when a requirements file changes.
deps: $(STAMP) collection-tree system-tools
# Tools the unit tests call, from Debian's packages: age (the backup program's encryption), gpg and dpkg-deb
# (the offline bundle's signed repository).
system-tools:
	@command -v age >/dev/null && command -v age-keygen >/dev/null && command -v gpg >/dev/null && command -v dpkg-deb >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends age gnupg dpkg >/dev/null; }
$(STAMP): requirements.txt tests/requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r tests/requirements.txt
	@touch $@

collection-tree:
	@mkdir -p $(COLLECTIONS_DIR)/ansible_collections/wandb_local
	@ln -sfn $(CURDIR) $(COLLECTIONS_DIR)/ansible_collections/wandb_local/fleet

lab: deps
	tests/lab/setup

lint: deps
	yamllint --strict .
	ruff check .
	ruff format --check .
	ansible-lint --offline
	python tests/check_argument_specs.py
	python tests/check_jinja_programs.py
	antsibull-changelog lint
	cd tests/standin && go vet ./...

sanity: deps
	@rm -rf $(SANITY_DIR) && mkdir -p $(SANITY_DIR)
	@# What git would commit (tracked + new, not ignored); a file deleted but still tracked is skipped.
	@git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null \
		| tar -xf - -C $(SANITY_DIR)
	@# ansible-test lists files through git: give the copy its own repository, else it asks this
	@# checkout's, where build/ is ignored.
	@cd $(SANITY_DIR) && git init -q && git add -A
	@# ansible-core 2.19 bootstraps pip 24.2 into its venvs with a script from a host that is
	@# unreachable here; tests/sanity/get-pip-offline.py does the same from PyPI.
	@install -D -m 0644 tests/sanity/get-pip-offline.py $(HOME)/.ansible/test/cache/get_pip_24_2.py
	cd $(SANITY_DIR) && ansible-test sanity --venv --python 3.11 --color no
	tests/compile-targets

unit: deps
	pytest -q tests/unit
	cd tests/standin && go test ./...

integration: deps
	pytest -q tests/integration

molecule: deps
ifneq ($(SCENARIO),)
	molecule test -s $(SCENARIO)
else
	tests/run-scenarios $(SCENARIOS)
endif

build: deps
	@mkdir -p build/dist
	ansible-galaxy collection build --force --output-path build/dist
	python tests/check_artifact.py build/dist/wandb_local-fleet-$$(sed -n 's/^version: //p' galaxy.yml).tar.gz

DEMO ?= all-in-one
# WANDB_IMAGE=wandb/local:<tag> makes the demo deploy the real server from its registry.
export WANDB_IMAGE
demo: deps lab
	tests/lab/demo up $(DEMO)

demo-down: deps
	tests/lab/demo down $(DEMO)

# The benchmarks' own Python packages (the chart), beside the project's, only when asked for.
BENCH_STAMP := $(VENV)/.bench-installed
bench-deps: deps $(BENCH_STAMP)
$(BENCH_STAMP): benchmarks/requirements.txt $(STAMP)
	$(VENV)/bin/pip install -q -r benchmarks/requirements.txt
	@touch $@

BENCH_ARGS ?=
bench: bench-deps lab
	python benchmarks/bench.py $(BENCH_ARGS)

# One repetition of the scaling figure on one host and every output, so the harness cannot rot
# (no thresholds: the numbers of a smoke run mean nothing). Writes to build/bench-smoke.
bench-smoke: bench-deps
	python benchmarks/bench.py --smoke --out build/bench-smoke

clean:
	rm -rf build .pytest_cache .ruff_cache
