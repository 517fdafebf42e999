output "azs" {
  description = "The availability zones the VPC spans, in subnet order."
  value       = local.azs
}

output "private_subnets" {
  description = "Private subnet CIDRs (nodes and pods), one per zone."
  value       = local.private_subnets
}

output "public_subnets" {
  description = "Public subnet CIDRs (load balancers, NAT gateways), one per zone."
  value       = local.public_subnets
}

output "database_subnets" {
  description = "Database subnet CIDRs (RDS), one per zone."
  value       = local.database_subnets
}

output "nat" {
  description = "NAT settings for the VPC module: enable_nat_gateway, single_nat_gateway, one_nat_gateway_per_az, and the resulting gateway count."
  value       = local.nat
}

output "public_subnet_tags" {
  description = "Tags that mark public subnets for internet-facing load balancers."
  value       = local.public_subnet_tags
}

output "private_subnet_tags" {
  description = "Tags that mark private subnets for internal load balancers."
  value       = local.private_subnet_tags
}
