#!/usr/bin/env bash
# Owns: making sure `make lint-terraform` will find Terraform >= 1.11.1. The machine image ships
# it at /usr/local/bin/terraform (not a Debian package); PyPI, npm and Debian serve no current
# build, so there is nothing to install from here: this only reports what it finds.
set -euo pipefail
if command -v terraform >/dev/null; then
    printf 'terraform %s at %s\n' "$(TF_CLI_CONFIG_FILE=/dev/null terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')" "$(command -v terraform)"
else
    printf 'warning: terraform is not on PATH; make lint-terraform will fail (docs/aws.md, "Checks")\n' >&2
fi
