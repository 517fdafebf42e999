#!/usr/bin/env bash
# Owns: every check of terraform/ that runs offline (what `make lint-terraform` runs, in order):
#   1. terraform fmt -check -recursive
#   2. each provider-free module (versions.tf without required_providers): init, validate, test;
#      such a module without tests/ fails the run
#   3. validation_mutants.py: deleting any validation rule of those modules must fail a test
#   4. chart_values_check.py: chart-values' output against the charts' schemas and templates
#   5. checkov on all of terraform/ (skips are justified in place with #checkov:skip=ID:reason)
#   6. says which roots `terraform validate` cannot check here, and why
# Nothing is written into the repository: Terraform's data dirs live under $JEEVES_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
CACHE="${JEEVES_CACHE:-$HOME/.cache/jeeves}/terraform"
MIN_VERSION="1.11.1"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'lint-terraform: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"
: > "$CACHE/terraformrc" # an empty CLI configuration: no plugin cache, no credentials
export TF_CLI_CONFIG_FILE="$CACHE/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

command -v terraform >/dev/null || fail "terraform is not on PATH (see docs/aws.md: the machine image ships it at /usr/local/bin/terraform; no package registry reachable here has a current build)"
version="$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"
python3 - "$version" "$MIN_VERSION" <<'PY' || fail "terraform $version is older than $MIN_VERSION (write-only attributes, cross-variable validation)"
import sys
have, need = (tuple(int(p) for p in v.split("-")[0].split(".")) for v in sys.argv[1:3])
sys.exit(0 if have >= need else 1)
PY


step "terraform $version: fmt -check -recursive"
terraform fmt -check -recursive -diff .

pure=()
needs_providers=()
for dir in modules/*/; do
    dir="${dir%/}"
    if grep -q 'required_providers' "$dir/versions.tf"; then
        needs_providers+=("$dir")
    else
        pure+=("$dir")
    fi
done
[ ${#pure[@]} -gt 0 ] || fail "no provider-free module found under terraform/modules"

for dir in "${pure[@]}"; do
    step "$dir: init, validate, test"
    ls "$dir"/tests/*.tftest.hcl >/dev/null 2>&1 || fail "$dir is provider-free but has no tests/*.tftest.hcl"
    export TF_DATA_DIR="$CACHE/data/$(basename "$dir")"
    terraform -chdir="$dir" init -backend=false -input=false >/dev/null
    terraform -chdir="$dir" validate -no-color
    terraform -chdir="$dir" test -no-color
    unset TF_DATA_DIR
done

step "every validation rule of the provider-free modules has a test that fails without it"
TF_DATA_DIR_ROOT="$CACHE/mutants" python3 scripts/validation_mutants.py "${pure[@]}"

step "chart-values against the charts' values.schema.json and templates"
# Every mismatch with the charts fails (a missing chart too).
../.venv/bin/python scripts/chart_values_check.py

step "checkov on terraform/ (framework terraform)"
cd "$ROOT/.." && scripts/tools/checkov.sh -d terraform --framework terraform --compact --quiet --skip-download

step "not checked here"
printf '  terraform validate/plan of %s, envs/dev, envs/prod and bootstrap: they need the AWS, Helm and\n' "${needs_providers[*]}"
printf '  Kubernetes providers and the registry modules, which cannot be downloaded on this machine.\n'
printf '  tflint: no build of it is served by PyPI, npm or Debian.\n'
printf '  What to expect from `terraform plan` on first apply: docs/aws.md.\n'
