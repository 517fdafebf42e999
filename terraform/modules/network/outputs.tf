output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "vpc_cidr_block" {
  description = "CIDR of the VPC."
  value       = module.vpc.vpc_cidr_block
}

output "azs" {
  description = "Availability zones the subnets are in."
  value       = module.plan.azs
}

output "private_subnet_ids" {
  description = "Private subnets (EKS nodes and pods)."
  value       = module.vpc.private_subnets
}

output "public_subnet_ids" {
  description = "Public subnets (internet-facing load balancers, NAT gateways)."
  value       = module.vpc.public_subnets
}

output "database_subnet_group_name" {
  description = "RDS subnet group over the database subnets."
  value       = module.vpc.database_subnet_group_name
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways (the address Jeeves' outbound calls to Slack come from)."
  value       = module.vpc.nat_public_ips
}
