# Node group shapes, access entries and the validation rules of cluster-plan. Each
# `expect_failures` run fails if its rule is removed (the plan then succeeds).

variables {
  endpoint_public_access_cidrs = ["203.0.113.0/24"]
  node_groups = {
    general = { instance_types = ["m6i.large"], min_size = 2, max_size = 4, desired_size = 2 }
  }
}

run "node_group_shape_for_the_eks_module" {
  command = plan

  variables {
    admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
  }

  assert {
    condition     = output.eks_managed_node_groups.general.ami_type == "AL2023_x86_64_STANDARD"
    error_message = "nodes run Amazon Linux 2023 on x86_64"
  }
  assert {
    condition     = output.eks_managed_node_groups.general.block_device_mappings.root.ebs.encrypted && output.eks_managed_node_groups.general.block_device_mappings.root.ebs.volume_type == "gp3"
    error_message = "root volumes are encrypted gp3"
  }
  assert {
    condition     = output.eks_managed_node_groups.general.metadata_options.http_tokens == "required" && output.eks_managed_node_groups.general.metadata_options.http_put_response_hop_limit == 1
    error_message = "IMDSv2 only, hop limit 1"
  }
  assert {
    condition     = output.eks_managed_node_groups.general.labels["jeeves.dev/node-group"] == "general"
    error_message = "nodes are labelled with their group"
  }
  assert {
    condition     = output.access_entries["admin-0"].principal_arn == "arn:aws:iam::123456789012:role/platform-admin"
    error_message = "each admin principal gets an access entry"
  }
  assert {
    condition     = output.access_entries["admin-0"].policy_associations.admin.policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    error_message = "admins get the cluster admin access policy"
  }
  assert {
    condition     = output.node_capacity == { min = 2, desired = 2, max = 4 }
    error_message = "capacity sums the groups"
  }
}

run "private_only_endpoint_needs_no_cidrs" {
  command = plan
  variables {
    endpoint_public_access       = false
    endpoint_public_access_cidrs = []
  }
  assert {
    condition     = output.endpoint.public == false && length(output.endpoint.public_cidrs) == 0
    error_message = "a private endpoint has no public CIDRs"
  }
}

run "rejects_versions_in_extended_support" {
  command = plan
  variables {
    kubernetes_version = "1.34"
  }
  expect_failures = [var.kubernetes_version]
}

run "rejects_malformed_version" {
  command = plan
  variables {
    kubernetes_version = "1.35.2"
  }
  expect_failures = [var.kubernetes_version]
}

run "rejects_desired_above_max" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["m6i.large"], min_size = 2, max_size = 3, desired_size = 5 }
    }
  }
  expect_failures = [var.node_groups]
}

run "rejects_a_single_node_in_total" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["m6i.large"], min_size = 1, max_size = 3, desired_size = 1 }
    }
  }
  expect_failures = [var.node_groups]
}

run "rejects_graviton_instances" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["m7g.large"], min_size = 2, max_size = 3, desired_size = 2 }
    }
  }
  expect_failures = [var.node_groups]
}

run "rejects_unknown_capacity_type" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["m6i.large"], capacity_type = "RESERVED", min_size = 2, max_size = 3, desired_size = 2 }
    }
  }
  expect_failures = [var.node_groups]
}

run "rejects_api_open_to_the_internet" {
  command = plan
  variables {
    endpoint_public_access_cidrs = ["0.0.0.0/0"]
  }
  expect_failures = [var.endpoint_public_access_cidrs]
}

run "rejects_public_endpoint_without_cidrs" {
  command = plan
  variables {
    endpoint_public_access_cidrs = []
  }
  expect_failures = [var.endpoint_public_access_cidrs]
}

run "rejects_logging_without_audit" {
  command = plan
  variables {
    log_types = ["api"]
  }
  expect_failures = [var.log_types]
}

run "rejects_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    log_retention_days = 45
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_admin_that_is_not_an_iam_arn" {
  command = plan
  variables {
    admin_principal_arns = ["alice"]
  }
  expect_failures = [var.admin_principal_arns]
}

run "accepts_x86_families_with_letters" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["m7i-flex.large", "m6in.large", "t3a.medium"], min_size = 2, max_size = 3, desired_size = 2 }
    }
  }
  assert {
    condition     = output.eks_managed_node_groups.general.instance_types == tolist(["m7i-flex.large", "m6in.large", "t3a.medium"])
    error_message = "x86_64 families with suffix letters are accepted"
  }
}

run "rejects_graviton_with_storage_suffix" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["m6i.large", "r7gd.large"], min_size = 2, max_size = 3, desired_size = 2 }
    }
  }
  expect_failures = [var.node_groups]
}

run "rejects_no_node_group" {
  command = plan
  variables {
    node_groups = {}
  }
  expect_failures = [var.node_groups]
}

run "rejects_malformed_instance_type" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["large"], min_size = 2, max_size = 3, desired_size = 2 }
    }
  }
  expect_failures = [var.node_groups]
}

run "rejects_tiny_root_disk" {
  command = plan
  variables {
    node_groups = {
      general = { instance_types = ["m6i.large"], min_size = 2, max_size = 3, desired_size = 2, disk_size_gib = 10 }
    }
  }
  expect_failures = [var.node_groups]
}

run "rejects_endpoint_cidr_that_is_no_cidr" {
  command = plan
  variables {
    endpoint_public_access_cidrs = ["office"]
  }
  expect_failures = [var.endpoint_public_access_cidrs]
}

run "rejects_unknown_log_type" {
  command = plan
  variables {
    log_types = ["api", "audit", "kubelet"]
  }
  expect_failures = [var.log_types]
}
