"""The Jeeves operator: reconciles JeevesAction resources into running, registered actions.

Layers (checked by import-linter, see operator/.importlinter): `main` → `handlers` (kopf
decorators only) → `reconcile` (one idempotent path) → {`builders` (pure), `k8s` (all
Kubernetes I/O), `registry` (etcd)} → {`models`, `settings`, `metrics`}.
"""
