# What the Jeeves PostgreSQL on RDS should look like: engine family, parameter group, storage and
# safeguards. Provider-free: `terraform test` checks it offline.

locals {
  major = split(".", var.engine_version)[0]

  # Sane settings for a queue-heavy OLTP workload. Static parameters need a reboot to apply.
  parameters = [
    { name = "rds.force_ssl", value = "1", apply_method = "immediate" },
    { name = "password_encryption", value = "scram-sha-256", apply_method = "immediate" },
    { name = "log_min_duration_statement", value = tostring(var.slow_statement_ms), apply_method = "immediate" },
    { name = "log_lock_waits", value = "1", apply_method = "immediate" },
    { name = "log_temp_files", value = "10240", apply_method = "immediate" },
    { name = "log_connections", value = "1", apply_method = "immediate" },
    { name = "log_disconnections", value = "1", apply_method = "immediate" },
    # A session idle in a transaction holds locks the queue needs; end it after a minute.
    { name = "idle_in_transaction_session_timeout", value = "60000", apply_method = "immediate" },
    { name = "track_io_timing", value = "1", apply_method = "immediate" },
    { name = "shared_preload_libraries", value = "pg_stat_statements", apply_method = "pending-reboot" },
  ]
}
