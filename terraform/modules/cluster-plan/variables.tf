variable "kubernetes_version" {
  description = "EKS Kubernetes minor version, e.g. \"1.35\". Versions older than 1.35 had left EKS standard support by December 2026 and cost six times as much per cluster hour in extended support."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version)) && try(tonumber(split(".", var.kubernetes_version)[1]) >= 35, false)
    error_message = "kubernetes_version must be \"1.<minor>\" with minor >= 35 (older versions are in paid EKS extended support)."
  }
}

variable "node_groups" {
  description = "EKS managed node groups by name: instance types (x86_64 only: the Jeeves images are built for amd64), ON_DEMAND or SPOT, sizes, root disk size and node labels."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size_gib  = optional(number, 50)
    labels         = optional(map(string), {})
  }))

  validation {
    condition     = length(var.node_groups) >= 1
    error_message = "node_groups must define at least one node group."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.min_size <= g.desired_size && g.desired_size <= g.max_size])
    error_message = "Every node group needs min_size <= desired_size <= max_size."
  }

  validation {
    condition     = sum(concat([0], [for g in values(var.node_groups) : g.min_size])) >= 2 || length(var.node_groups) == 0
    error_message = "The node groups together need min_size >= 2, so that a node replacement never takes every Jeeves pod down."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.node_groups) : [
      for t in g.instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))
    ]])) && alltrue([for g in values(var.node_groups) : length(g.instance_types) >= 1])
    error_message = "Every node group needs at least one instance type, each like m6i.large."
  }

  validation {
    # Graviton families carry a "g" after the generation digit: m7g, c8g, t4g, r7gd, m6gd...
    condition = alltrue(flatten([for g in values(var.node_groups) : [
      for t in g.instance_types : !can(regex("^[a-z]+[0-9]+[a-z]*g[a-z]*\\.", t))
    ]]))
    error_message = "Graviton (arm64) instance types are not supported: the Jeeves images are built for amd64 only."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.disk_size_gib >= 20 && g.disk_size_gib <= 1000])
    error_message = "disk_size_gib must be from 20 to 1000."
  }
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API has a public endpoint (restricted to endpoint_public_access_cidrs). The private endpoint is always on."
  type        = bool
  default     = true
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint (your office or VPN egress). 0.0.0.0/0 is refused."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0))])
    error_message = "endpoint_public_access_cidrs must hold IPv4 CIDRs such as 203.0.113.0/24."
  }

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : !endswith(c, "/0")])
    error_message = "endpoint_public_access_cidrs must not open the API to the whole internet (/0); name the networks that administer the cluster."
  }

  validation {
    condition     = !var.endpoint_public_access || length(var.endpoint_public_access_cidrs) > 0
    error_message = "With endpoint_public_access = true, list at least one CIDR in endpoint_public_access_cidrs (or turn the public endpoint off)."
  }
}

variable "log_types" {
  description = "Control plane log types sent to CloudWatch Logs: any of api, audit, authenticator, controllerManager, scheduler."
  type        = list(string)
  default     = ["api", "audit", "authenticator"]

  validation {
    condition     = alltrue([for t in var.log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "log_types may only hold api, audit, authenticator, controllerManager, scheduler."
  }

  validation {
    condition     = contains(var.log_types, "audit")
    error_message = "log_types must include audit: it is the record of who changed what in the cluster."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps control plane logs (a value CloudWatch accepts, e.g. 30, 90, 365)."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "admin_principal_arns" {
  description = "IAM role or user ARNs given cluster-admin through EKS access entries (the identity running Terraform gets it separately)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "admin_principal_arns must be IAM role or user ARNs (arn:aws:iam::<12-digit account>:role/<name>)."
  }
}
