# The address plan and the validation rules of network-plan. Each `expect_failures` run fails if
# its rule is removed (the plan then succeeds where it must not).

variables {
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

run "slash_16_in_three_zones" {
  command = plan

  assert {
    condition     = output.private_subnets == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    error_message = "private subnets must be the first three eighths"
  }
  assert {
    condition     = output.public_subnets == ["10.0.128.0/22", "10.0.132.0/22", "10.0.136.0/22"]
    error_message = "public subnets must start the fifth eighth"
  }
  assert {
    condition     = output.database_subnets == ["10.0.160.0/24", "10.0.161.0/24", "10.0.162.0/24"]
    error_message = "database subnets must start the sixth eighth"
  }
  assert {
    condition     = output.azs == tolist(["eu-west-1a", "eu-west-1b", "eu-west-1c"])
    error_message = "zones must be taken in order"
  }
  assert {
    condition     = output.nat.one_nat_gateway_per_az && !output.nat.single_nat_gateway && output.nat.count == 3
    error_message = "per_az is the default: one NAT gateway per zone"
  }
  assert {
    condition     = output.public_subnet_tags["kubernetes.io/role/elb"] == "1" && output.private_subnet_tags["kubernetes.io/role/internal-elb"] == "1"
    error_message = "subnets must carry the role tags the load balancer controller looks for"
  }
}

run "slash_20_in_four_zones_does_not_overlap" {
  command = plan

  variables {
    vpc_cidr           = "172.20.16.0/20"
    az_count           = 4
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
  }

  assert {
    condition     = output.private_subnets == ["172.20.16.0/23", "172.20.18.0/23", "172.20.20.0/23", "172.20.22.0/23"]
    error_message = "private /23s fill the first half"
  }
  assert {
    condition     = output.public_subnets == ["172.20.24.0/26", "172.20.24.64/26", "172.20.24.128/26", "172.20.24.192/26"]
    error_message = "public /26s fill the fifth eighth's first quarter"
  }
  assert {
    condition     = output.database_subnets == ["172.20.26.0/28", "172.20.26.16/28", "172.20.26.32/28", "172.20.26.48/28"]
    error_message = "database /28s (the smallest subnet AWS allows) start the sixth eighth"
  }
  assert {
    condition     = length(distinct(concat(output.private_subnets, output.public_subnets, output.database_subnets))) == 12
    error_message = "every subnet is distinct"
  }
}

run "single_nat_gateway" {
  command = plan
  variables {
    nat_gateway_mode = "single"
  }
  assert {
    condition     = output.nat.single_nat_gateway && !output.nat.one_nat_gateway_per_az && output.nat.count == 1
    error_message = "single mode means exactly one NAT gateway"
  }
}

run "rejects_public_address_space" {
  command = plan
  variables {
    vpc_cidr = "8.8.0.0/16"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_172_outside_the_private_block" {
  command = plan
  variables {
    vpc_cidr = "172.32.0.0/16"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_host_bits" {
  command = plan
  variables {
    vpc_cidr = "10.0.1.0/16"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_too_small_vpc" {
  command = plan
  variables {
    vpc_cidr = "10.0.0.0/24"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_not_a_cidr" {
  command = plan
  variables {
    vpc_cidr = "10.0.0.0"
  }
  expect_failures = [var.vpc_cidr]
}

run "rejects_one_zone" {
  command = plan
  variables {
    az_count = 1
  }
  expect_failures = [var.az_count]
}

run "rejects_fewer_zones_than_az_count" {
  command = plan
  variables {
    availability_zones = ["eu-west-1a", "eu-west-1b"]
  }
  expect_failures = [var.availability_zones]
}

run "rejects_repeated_zone" {
  command = plan
  variables {
    availability_zones = ["eu-west-1a", "eu-west-1a", "eu-west-1b"]
    az_count           = 2
  }
  expect_failures = [var.availability_zones]
}

run "rejects_unknown_nat_mode" {
  command = plan
  variables {
    nat_gateway_mode = "none"
  }
  expect_failures = [var.nat_gateway_mode]
}
