variable "name" {
  description = "Name of the EKS cluster (naming module's names.cluster)."
  type        = string
}

variable "vpc_id" {
  description = "VPC the cluster runs in (network module)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the control plane's network interfaces and the nodes (network module)."
  type        = list(string)
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version (validated by cluster-plan: 1.35 or newer)."
  type        = string
  default     = "1.35"
}

variable "node_groups" {
  description = "Managed node groups by name (validated by cluster-plan): instance_types, capacity_type, min_size, max_size, desired_size, disk_size_gib, labels."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size_gib  = optional(number, 50)
    labels         = optional(map(string), {})
  }))
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API has a public endpoint, limited to endpoint_public_access_cidrs."
  type        = bool
  default     = true
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint (never 0.0.0.0/0; validated by cluster-plan)."
  type        = list(string)
  default     = []
}

variable "log_types" {
  description = "Control plane log types sent to CloudWatch Logs (must include audit)."
  type        = list(string)
  default     = ["api", "audit", "authenticator"]
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps control plane logs."
  type        = number
  default     = 90
}

variable "admin_principal_arns" {
  description = "IAM roles or users given cluster-admin through EKS access entries, besides the identity running Terraform."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Refuse to delete the cluster until this is turned off (see docs/aws.md, tear-down)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource (naming module's tags)."
  type        = map(string)
  default     = {}
}
