output "address" {
  description = "Host name of the PostgreSQL endpoint."
  value       = module.rds.db_instance_address
}

output "port" {
  description = "PostgreSQL port."
  value       = module.rds.db_instance_port
}

output "databases" {
  description = "Database names: pipeline (exists) and data (created by the jeeves module)."
  value       = module.plan.databases
}

output "master_secret_arn" {
  description = "Secrets Manager ARN of the master credentials (JSON: username, password)."
  value       = aws_secretsmanager_secret.master.arn
}

output "master_secret_version_id" {
  description = "Version of the credentials secret written by this apply (readers pin it to see the new password)."
  value       = aws_secretsmanager_secret_version.master.version_id
}

output "kms_key_arn" {
  description = "KMS key encrypting the storage, Performance Insights and the credentials secret."
  value       = module.key.arn
}

output "security_group_id" {
  description = "Security group of the database (admits 5432 from client_security_group_ids only)."
  value       = aws_security_group.this.id
}

output "instance_identifier" {
  description = "RDS instance identifier."
  value       = module.rds.db_instance_identifier
}
