"""Prove that every validation rule of the provider-free Terraform modules is tested.

For each `validation { ... }` block of each module given, this copies the module to a temporary
directory, deletes that one block, checks the copy still validates, and runs `terraform test`
on it. The tests must then fail: a rule whose removal leaves every test green is untested, and
the script exits 1 naming it. Prints one line per rule.

    python3 terraform/scripts/validation_mutants.py terraform/modules/naming [...]

Environment: TF_DATA_DIR_ROOT (scratch for Terraform's data dirs; default: a temporary dir).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

VALIDATION_START = re.compile(r"^  validation \{\n", re.MULTILINE)
VARIABLE_NAME = re.compile(r'^variable "([^"]+)" \{', re.MULTILINE)


@dataclass(frozen=True)
class Rule:
    """One validation block: where it is and what it says."""

    file: str
    variable: str
    start: int
    end: int
    message: str


def find_rules(path: Path) -> list[Rule]:
    """Every validation block in one .tf file, with the variable it belongs to."""
    text = path.read_text()
    rules = []
    for match in VALIDATION_START.finditer(text):
        end = text.index("\n  }\n", match.start()) + len("\n  }\n")
        owners = [m.group(1) for m in VARIABLE_NAME.finditer(text, 0, match.start())]
        body = text[match.start() : end]
        message = re.search(r'error_message = "(.*)"', body)
        rules.append(
            Rule(
                file=path.name,
                variable=owners[-1] if owners else "?",
                start=match.start(),
                end=end,
                message=message.group(1).replace('\\"', '"')[:70] if message else "",
            )
        )
    return rules


def terraform(args: list[str], cwd: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_DATA_DIR": str(data_dir), "TF_IN_AUTOMATION": "1"}
    return subprocess.run(
        ["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def mutant_survives(module: Path, rule: Rule, scratch: Path) -> bool:
    """True when the tests still pass with `rule` deleted (the rule is untested)."""
    copy = scratch / "module"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(module, copy)
    target = copy / rule.file
    text = target.read_text()
    target.write_text(text[: rule.start] + text[rule.end :])
    data_dir = scratch / "data"
    init = terraform(["init", "-backend=false", "-input=false"], copy, data_dir)
    valid = terraform(["validate", "-no-color"], copy, data_dir)
    if init.returncode != 0 or valid.returncode != 0:
        raise RuntimeError(
            f"the mutant without {rule.variable}'s rule does not validate:\n"
            + init.stderr
            + valid.stderr
        )
    return terraform(["test", "-no-color"], copy, data_dir).returncode == 0


def main(modules: list[str]) -> int:
    survivors = []
    total = 0
    started = time.monotonic()
    root = Path(os.environ.get("TF_DATA_DIR_ROOT") or tempfile.mkdtemp(prefix="tf-mutants-"))
    root.mkdir(parents=True, exist_ok=True)
    for name in modules:
        module = Path(name)
        for tf in sorted(module.glob("*.tf")):
            for rule in find_rules(tf):
                total += 1
                with tempfile.TemporaryDirectory(dir=root) as scratch:
                    survived = mutant_survives(module, rule, Path(scratch))
                verdict = "NOT TESTED" if survived else "tests fail without it"
                print(
                    f"  {module.name}: var.{rule.variable} ({rule.message}…): {verdict}", flush=True
                )
                if survived:
                    survivors.append(f"{module.name}: var.{rule.variable}: {rule.message}")
    elapsed = time.monotonic() - started
    print(f"{total - len(survivors)} of {total} validation rules are tested ({elapsed:.0f} s)")
    if total == 0:
        print("no validation rule found: wrong module paths?", file=sys.stderr)
        return 1
    for survivor in survivors:
        print(f"untested validation rule: {survivor}", file=sys.stderr)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
