output "platform_values" {
  description = "Values for charts/jeeves (encode with yamlencode for helm_release)."
  value       = local.platform_values
}

output "operator_values" {
  description = "Values for charts/jeeves-operator."
  value       = local.operator_values
}

output "images" {
  description = "Image (and ECR repository) names: jeeves-X for every deployable, and jeeves-etcd."
  value       = local.images
}

output "secrets" {
  description = "The Kubernetes Secrets the charts take as existingSecret: slack and data_key (name; keys: Secret key => app secret JSON key) and database (name, pipeline_key, data_key)."
  value       = local.secrets
}

output "app_secret_keys" {
  description = "Keys the Secrets Manager app secret (JSON) must hold."
  value       = local.app_secret_keys
}
