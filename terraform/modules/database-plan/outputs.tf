output "engine_version" {
  description = "The validated engine version for RDS."
  value       = var.engine_version
}

output "family" {
  description = "Parameter group family, e.g. postgres17."
  value       = "postgres${local.major}"
}

output "major_engine_version" {
  description = "PostgreSQL major version, e.g. 17."
  value       = local.major
}

output "parameters" {
  description = "Parameter group settings: name, value, apply_method."
  value       = local.parameters
}

output "storage" {
  description = "Storage settings: type (gp3), allocated_gib, max_allocated_gib (0 = no autoscaling), encrypted."
  value = {
    type              = "gp3"
    allocated_gib     = var.allocated_storage_gib
    max_allocated_gib = var.max_allocated_storage_gib
    encrypted         = true
  }
}

output "safeguards" {
  description = "multi_az, deletion_protection, backup_retention_days, and skip_final_snapshot (false in production)."
  value = {
    multi_az              = var.multi_az
    deletion_protection   = var.deletion_protection
    backup_retention_days = var.backup_retention_days
    skip_final_snapshot   = !var.production
  }
}

output "master_username" {
  description = "The validated master user name."
  value       = var.master_username
}

output "databases" {
  description = "Database names: pipeline and data."
  value       = var.databases
}

output "client_security_group_ids" {
  description = "The validated client security groups."
  value       = var.client_security_group_ids
}

output "credentials_revision" {
  description = "The validated credentials revision."
  value       = var.credentials_revision
}
