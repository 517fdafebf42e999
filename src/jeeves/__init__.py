"""Jeeves: a Slack assistant run as a Kubernetes-native stack."""
