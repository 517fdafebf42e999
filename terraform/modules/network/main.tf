# The VPC of one Jeeves environment: public, private and database subnets across the zones
# network-plan chose, NAT, subnet tags for load balancers, flow logs. The VPC itself comes from
# the community module terraform-aws-modules/vpc/aws (pinned): its ~100 resources and their
# edge cases (route tables per NAT mode, subnet groups) are better kept by its maintainers.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Only a default: availability_zones pins the zones, and without it network-plan takes the first az_count by name, so a zone AWS adds later shows up in a plan before anything moves.
  count = var.availability_zones == null ? 1 : 0
  state = "available"

  # Local and Wavelength zones lack NAT gateways and most instance types.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

module "plan" {
  source = "../network-plan"

  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones != null ? var.availability_zones : data.aws_availability_zones.available[0].names
  az_count           = var.az_count
  nat_gateway_mode   = var.nat_gateway_mode
}

module "vpc" {
  #checkov:skip=CKV_TF_1:Pinned to an exact Terraform Registry release (version = "x.y.z"), reviewed when bumped; a commit hash would bypass the registry's version constraints and upgrade notes.
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"

  name = var.name
  cidr = var.vpc_cidr
  azs  = module.plan.azs

  private_subnets  = module.plan.private_subnets
  public_subnets   = module.plan.public_subnets
  database_subnets = module.plan.database_subnets

  create_database_subnet_group = true
  database_subnet_group_name   = "${var.name}-database"

  enable_nat_gateway     = module.plan.nat.enable_nat_gateway
  single_nat_gateway     = module.plan.nat.single_nat_gateway
  one_nat_gateway_per_az = module.plan.nat.one_nat_gateway_per_az

  enable_dns_hostnames    = true
  enable_dns_support      = true
  map_public_ip_on_launch = false

  public_subnet_tags  = module.plan.public_subnet_tags
  private_subnet_tags = module.plan.private_subnet_tags

  # The default security group admits nothing: every workload gets a group of its own.
  manage_default_security_group  = true
  default_security_group_ingress = []
  default_security_group_egress  = []

  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_retention_in_days = var.flow_log_retention_days

  tags = var.tags
}
