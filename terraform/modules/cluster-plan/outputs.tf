output "kubernetes_version" {
  description = "The validated EKS Kubernetes version."
  value       = var.kubernetes_version
}

output "eks_managed_node_groups" {
  description = "Node groups in the shape of the EKS module's eks_managed_node_groups input (AL2023, gp3 encrypted root disk, IMDSv2 with one hop, one node replaced at a time)."
  value       = local.eks_managed_node_groups
}

output "access_entries" {
  description = "EKS access entries giving each admin principal the cluster-admin access policy."
  value       = local.access_entries
}

output "endpoint" {
  description = "API endpoint settings: public (bool), public_cidrs (list)."
  value = {
    public       = var.endpoint_public_access
    public_cidrs = var.endpoint_public_access ? var.endpoint_public_access_cidrs : []
  }
}

output "logging" {
  description = "Control plane logging: types and retention_days."
  value = {
    types          = var.log_types
    retention_days = var.log_retention_days
  }
}

output "node_capacity" {
  description = "Sum of min, desired and max node counts over all node groups."
  value       = local.node_capacity
}
