# mk/operator.mk — targets of the Jeeves operator (operator/, manifests/, tests/k8s/kmock,
# tests/unit/operator, bench/operator). Included by the top Makefile.

OPERATOR_PY ?= .venv/bin/python
OPERATOR_BIN ?= .venv/bin

.PHONY: test-operator lint-operator bench-operator run-operator operator-golden

test-operator: ## operator: unit (golden files) + fast k8s tier (kmock API, real kopf run, real etcd)
	$(OPERATOR_BIN)/pytest tests/unit/operator tests/k8s/kmock

lint-operator: ## operator: ruff, mypy --strict, import-linter layers (operator/.importlinter)
	$(OPERATOR_BIN)/ruff check operator tests/k8s/kmock tests/unit/operator bench/operator
	$(OPERATOR_BIN)/ruff format --check operator tests/k8s/kmock tests/unit/operator bench/operator
	$(OPERATOR_BIN)/mypy operator/src/jeeves_operator
	cd operator && ../$(OPERATOR_BIN)/lint-imports

operator-golden: ## operator: rewrite the golden YAML of the builders after an intended change
	JEEVES_UPDATE_GOLDEN=1 $(OPERATOR_BIN)/pytest -q tests/unit/operator

bench-operator: ## operator: apply 500 JeevesActions to the real API server, time Deployment+Service+etcd, peak RSS
	$(OPERATOR_PY) bench/operator/run.py --count $${COUNT:-500}

run-operator: ## operator: run jeeves-operator against the current kubeconfig (standalone, JEEVES_* from the env)
	JEEVES_STANDALONE=$${JEEVES_STANDALONE:-true} JEEVES_BIND=$${JEEVES_BIND:-127.0.0.1:8089} \
	  $(OPERATOR_BIN)/jeeves-operator
