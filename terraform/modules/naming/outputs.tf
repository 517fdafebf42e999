output "prefix" {
  description = "<project>-<environment>, the stem of every resource name."
  value       = local.prefix
}

output "names" {
  description = "Resource names: vpc, cluster, database (RDS identifier), database_secret and app_secret (Secrets Manager names), kms_alias_prefix, ecr_namespace, kubernetes_prefix (the etcd key prefix)."
  value       = local.names
}

output "tags" {
  description = "Tags for every resource: extra_tags plus Project, Environment and ManagedBy."
  value       = local.tags
}

output "is_production" {
  description = "True for the prod environment; modules turn on their safeguards (deletion protection, Multi-AZ) from it."
  value       = local.is_production
}

output "region" {
  description = "The validated AWS region."
  value       = var.region
}
