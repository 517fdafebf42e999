# Family, parameters and the validation rules of database-plan. Each `expect_failures` run
# fails if its rule is removed (the plan then succeeds where it must not).

variables {
  instance_class            = "db.t4g.micro"
  production                = false
  client_security_group_ids = ["sg-0123456789abcdef0"]
}

run "dev_defaults" {
  command = plan

  assert {
    condition     = output.family == "postgres17" && output.major_engine_version == "17"
    error_message = "the family follows the major version"
  }
  assert {
    condition     = one([for p in output.parameters : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "TLS is enforced"
  }
  assert {
    condition     = one([for p in output.parameters : p.apply_method if p.name == "shared_preload_libraries"]) == "pending-reboot"
    error_message = "static parameters wait for a reboot (RDS refuses 'immediate' for them)"
  }
  assert {
    condition     = one([for p in output.parameters : p.value if p.name == "log_min_duration_statement"]) == "500"
    error_message = "slow statements are logged from 500 ms"
  }
  assert {
    condition     = output.safeguards.skip_final_snapshot && output.safeguards.deletion_protection
    error_message = "dev skips the final snapshot but still has deletion protection by default"
  }
  assert {
    condition     = output.databases == { pipeline = "jeeves", data = "jeeves_data" }
    error_message = "two databases by default, as make dev uses"
  }
}

run "minor_version_keeps_family" {
  command = plan
  variables {
    engine_version = "16.9"
  }
  assert {
    condition     = output.family == "postgres16"
    error_message = "16.9 is in the postgres16 family"
  }
}

run "production_keeps_final_snapshot" {
  command = plan
  variables {
    production     = true
    multi_az       = true
    instance_class = "db.m7g.large"
  }
  assert {
    condition     = output.safeguards.skip_final_snapshot == false
    error_message = "production takes a final snapshot on delete"
  }
}

run "rejects_postgres_14" {
  command = plan
  variables {
    engine_version = "14.12"
  }
  expect_failures = [var.engine_version]
}

run "rejects_engine_name_as_version" {
  command = plan
  variables {
    engine_version = "postgres17"
  }
  expect_failures = [var.engine_version]
}

run "rejects_ec2_instance_type" {
  command = plan
  variables {
    instance_class = "m7g.large"
  }
  expect_failures = [var.instance_class]
}

run "rejects_production_without_multi_az" {
  command = plan
  variables {
    production = true
    multi_az   = false
  }
  expect_failures = [var.multi_az]
}

run "rejects_production_without_deletion_protection" {
  command = plan
  variables {
    production          = true
    multi_az            = true
    deletion_protection = false
  }
  expect_failures = [var.deletion_protection]
}

run "rejects_production_with_short_backups" {
  command = plan
  variables {
    production            = true
    multi_az              = true
    backup_retention_days = 3
  }
  expect_failures = [var.backup_retention_days]
}

run "rejects_backups_off" {
  command = plan
  variables {
    backup_retention_days = 0
  }
  expect_failures = [var.backup_retention_days]
}

run "rejects_autoscaling_ceiling_below_size" {
  command = plan
  variables {
    allocated_storage_gib     = 100
    max_allocated_storage_gib = 50
  }
  expect_failures = [var.max_allocated_storage_gib]
}

run "rejects_reserved_master_user" {
  command = plan
  variables {
    master_username = "postgres"
  }
  expect_failures = [var.master_username]
}

run "rejects_one_database_for_both" {
  command = plan
  variables {
    databases = { pipeline = "jeeves", data = "jeeves" }
  }
  expect_failures = [var.databases]
}

run "rejects_reserved_database_name" {
  command = plan
  variables {
    databases = { pipeline = "postgres" }
  }
  expect_failures = [var.databases]
}

run "rejects_silly_slow_statement_threshold" {
  command = plan
  variables {
    slow_statement_ms = 5
  }
  expect_failures = [var.slow_statement_ms]
}

run "rejects_patch_level_version" {
  command = plan
  variables {
    engine_version = "17.6.1"
  }
  expect_failures = [var.engine_version]
}

run "rejects_storage_below_rds_minimum" {
  command = plan
  variables {
    allocated_storage_gib = 10
  }
  expect_failures = [var.allocated_storage_gib]
}

run "rejects_database_name_with_capitals" {
  command = plan
  variables {
    databases = { data = "Jeeves-Data" }
  }
  expect_failures = [var.databases]
}

run "rejects_database_open_to_no_client" {
  command = plan
  variables {
    client_security_group_ids = []
  }
  expect_failures = [var.client_security_group_ids]
}

run "rejects_fractional_credentials_revision" {
  command = plan
  variables {
    credentials_revision = 1.5
  }
  expect_failures = [var.credentials_revision]
}
