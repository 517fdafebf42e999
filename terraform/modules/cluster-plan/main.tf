# What the EKS cluster should look like, in the shapes the community EKS module takes: node
# groups, access entries, log settings. Provider-free: `terraform test` checks it offline.

locals {
  eks_managed_node_groups = {
    for name, g in var.node_groups : name => {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = g.instance_types
      capacity_type  = g.capacity_type
      min_size       = g.min_size
      max_size       = g.max_size
      desired_size   = g.desired_size
      labels         = merge(g.labels, { "jeeves.dev/node-group" = name })
      # Replace nodes one at a time so PodDisruptionBudgets hold.
      update_config = { max_unavailable = 1 }
      block_device_mappings = {
        root = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = g.disk_size_gib
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }
      # IMDSv2 only, one hop: pods cannot borrow the node's instance role.
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
  }

  access_entries = {
    for i, arn in var.admin_principal_arns : "admin-${i}" => {
      principal_arn = arn
      policy_associations = {
        admin = {
          policy_arn   = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
  }

  node_capacity = {
    min     = sum(concat([0], [for g in values(var.node_groups) : g.min_size]))
    desired = sum(concat([0], [for g in values(var.node_groups) : g.desired_size]))
    max     = sum(concat([0], [for g in values(var.node_groups) : g.max_size]))
  }
}
