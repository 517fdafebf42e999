"""Local servers for `make dev` and the tests: PostgreSQL and etcd on loopback, free ports.

Not used by any deployable at run time; a cluster gets these from Helm and RDS.
"""
