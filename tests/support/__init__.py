"""Test support: real servers (PostgreSQL, etcd) and deployables run as real processes."""
