output "cluster_name" {
  description = "EKS cluster name: aws eks update-kubeconfig --name <this>."
  value       = module.environment.cluster_name
}

output "image_registry" {
  description = "Where to push the images: <registry>/jeeves-X:<tag>."
  value       = module.environment.image_registry
}

output "app_secret_arn" {
  description = "Secrets Manager ARN of the app secret to fill before install = true."
  value       = module.environment.app_secret_arn
}

output "required_app_secret_keys" {
  description = "Keys the app secret must hold."
  value       = module.environment.required_app_secret_keys
}

output "database_address" {
  description = "PostgreSQL host name."
  value       = module.environment.database_address
}

output "gateway_url" {
  description = "Public base URL of the gateway."
  value       = module.environment.gateway_url
}

output "nat_public_ips" {
  description = "Addresses Jeeves' outbound traffic comes from."
  value       = module.environment.nat_public_ips
}
