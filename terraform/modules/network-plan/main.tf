# The address plan of a Jeeves VPC: which zones, which subnet CIDRs, how many NAT gateways, and
# the subnet tags load balancers look for. Provider-free: `terraform test` checks it offline.
#
# Layout, in eighths of the VPC (a /16 shown):
#   eighths 0-3  private subnets, one eighth each (/19: 8k addresses for nodes and pods)
#   eighth  4    public subnets, 1/64 each (/22: load balancers and NAT gateways)
#   eighth  5    database subnets, 1/256 each (/24: RDS)
#   eighths 6-7  free for later use
# The same offsets apply to any prefix from /16 to /20, and up to 4 zones fit without overlap.

locals {
  azs = slice(var.availability_zones, 0, var.az_count)

  private_subnets  = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 3, i)]
  public_subnets   = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 6, 32 + i)]
  database_subnets = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 8, 160 + i)]

  nat = {
    enable_nat_gateway     = true
    single_nat_gateway     = var.nat_gateway_mode == "single"
    one_nat_gateway_per_az = var.nat_gateway_mode == "per_az"
    count                  = var.nat_gateway_mode == "single" ? 1 : var.az_count
  }

  # The AWS Load Balancer Controller picks subnets by these role tags.
  public_subnet_tags  = { "kubernetes.io/role/elb" = "1" }
  private_subnet_tags = { "kubernetes.io/role/internal-elb" = "1" }
}
