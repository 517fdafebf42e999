output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API."
  value       = module.eks.cluster_certificate_authority_data
}

output "cluster_version" {
  description = "Kubernetes version the control plane runs."
  value       = module.eks.cluster_version
}

output "node_security_group_id" {
  description = "Security group of the nodes (the database admits only this group)."
  value       = module.eks.node_security_group_id
}

output "secrets_kms_key_arn" {
  description = "KMS key encrypting Kubernetes Secrets in the cluster's etcd."
  value       = module.eks.kms_key_arn
}

output "volumes_kms_key_arn" {
  description = "KMS key for encrypted EBS persistent volumes (the gp3 StorageClass uses it)."
  value       = module.volumes_key.arn
}

output "lb_controller_role_arn" {
  description = "IAM role of the AWS Load Balancer Controller (bound by Pod Identity to kube-system/aws-load-balancer-controller)."
  value       = module.lb_controller_pod_identity.iam_role_arn
}

output "cloudwatch_log_group_name" {
  description = "CloudWatch log group of the control plane logs."
  value       = module.eks.cloudwatch_log_group_name
}
