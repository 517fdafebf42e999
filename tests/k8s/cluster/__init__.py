"""The one-node cluster tier: the node itself and the whole stack on it (make test-cluster)."""
