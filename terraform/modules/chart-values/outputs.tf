output "platform_values" {
  description = "Values for charts/jeeves (encode with yamlencode for helm_release)."
  value       = local.platform_values
}

output "operator_values" {
  description = "Values for charts/jeeves-operator."
  value       = local.operator_values
}

output "images" {
  description = "Image (and ECR repository) names of every deployable: jeeves-X."
  value       = local.images
}

output "required_app_secret_keys" {
  description = "Keys the app Secret must hold (the JEEVES_* variables for Slack and data encryption)."
  value       = local.required_app_secret_keys
}

output "database_secret" {
  description = "Name and keys of the Kubernetes Secret with the database URLs: name, pipeline_url_key, data_url_key."
  value = {
    name             = var.database.secret_name
    pipeline_url_key = var.database.pipeline_url_key
    data_url_key     = var.database.data_url_key
  }
}

output "app_secret_name" {
  description = "Name of the Kubernetes Secret with the Slack and app secrets (the charts' existingSecret)."
  value       = var.app_secret_name
}
