output "image_registry" {
  description = "Registry path the images are pushed to: <registry>/jeeves-X:<tag>."
  value       = local.registry
}

output "repositories" {
  description = "ECR repository URLs by image name."
  value       = { for k, r in aws_ecr_repository.images : k => r.repository_url }
}

output "app_secret_arn" {
  description = "Secrets Manager ARN of the app secret to fill (docs/aws.md lists its keys)."
  value       = aws_secretsmanager_secret.app.arn
}

output "required_app_secret_keys" {
  description = "Keys the app secret (JSON) must hold."
  value       = module.values.app_secret_keys
}

output "gateway_url" {
  description = "The gateway's public base URL; the Slack app's request URLs are <url>/slack/events, /slack/commands and /slack/interactivity."
  value       = var.gateway_host == null ? null : "https://${var.gateway_host}"
}

output "certificate_arn" {
  description = "ACM certificate the gateway's load balancer serves."
  value       = var.gateway_host == null ? null : local.certificate
}

output "namespace" {
  description = "Kubernetes namespace of Jeeves."
  value       = var.namespace
}
