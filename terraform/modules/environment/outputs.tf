output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name <this>)."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.cluster.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API."
  value       = module.cluster.cluster_certificate_authority_data
}

output "database_address" {
  description = "PostgreSQL host name."
  value       = module.database.address
}

output "database_secret_arn" {
  description = "Secrets Manager ARN of the database master credentials."
  value       = module.database.master_secret_arn
}

output "image_registry" {
  description = "Where to push the images: <registry>/jeeves-X:<tag>."
  value       = module.jeeves.image_registry
}

output "app_secret_arn" {
  description = "Secrets Manager ARN of the app secret to fill before install = true."
  value       = module.jeeves.app_secret_arn
}

output "required_app_secret_keys" {
  description = "Keys the app secret must hold."
  value       = module.jeeves.required_app_secret_keys
}

output "gateway_url" {
  description = "Public base URL of the gateway (Slack request URLs hang off it)."
  value       = module.jeeves.gateway_url
}

output "nat_public_ips" {
  description = "Addresses Jeeves' outbound traffic comes from."
  value       = module.network.nat_public_ips
}
