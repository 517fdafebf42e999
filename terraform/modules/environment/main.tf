# One whole Jeeves environment, in dependency order: names and tags, the VPC, the EKS cluster,
# PostgreSQL on RDS, then Jeeves itself. envs/dev and envs/prod call this with their sizes, so the
# wiring between the modules is written once.

module "naming" {
  source = "../naming"

  environment = var.environment
  region      = var.region
  extra_tags  = var.extra_tags
}

module "network" {
  source = "../network"

  name                    = module.naming.names.vpc
  vpc_cidr                = var.network.cidr
  availability_zones      = var.network.availability_zones
  az_count                = var.network.az_count
  nat_gateway_mode        = var.network.nat_gateway_mode
  flow_log_retention_days = var.network.flow_log_retention_days
  tags                    = module.naming.tags
}

module "cluster" {
  source = "../cluster"

  name                         = module.naming.names.cluster
  vpc_id                       = module.network.vpc_id
  private_subnet_ids           = module.network.private_subnet_ids
  kubernetes_version           = var.cluster.kubernetes_version
  node_groups                  = var.cluster.node_groups
  endpoint_public_access       = var.cluster.endpoint_public_access
  endpoint_public_access_cidrs = var.cluster.endpoint_public_access_cidrs
  log_types                    = var.cluster.log_types
  log_retention_days           = var.cluster.log_retention_days
  admin_principal_arns         = var.cluster.admin_principal_arns
  deletion_protection          = var.cluster.deletion_protection
  tags                         = module.naming.tags
}

module "database" {
  source = "../database"

  name                      = module.naming.names.database
  production                = module.naming.is_production
  vpc_id                    = module.network.vpc_id
  db_subnet_group_name      = module.network.database_subnet_group_name
  client_security_group_ids = [module.cluster.node_security_group_id]
  secret_name               = module.naming.names.database_secret
  credentials_revision      = var.database.credentials_revision
  engine_version            = var.database.engine_version
  instance_class            = var.database.instance_class
  allocated_storage_gib     = var.database.allocated_storage_gib
  max_allocated_storage_gib = var.database.max_allocated_storage_gib
  multi_az                  = var.database.multi_az
  deletion_protection       = var.database.deletion_protection
  backup_retention_days     = var.database.backup_retention_days
  log_retention_days        = var.database.log_retention_days
  tags                      = module.naming.tags
}

module "jeeves" {
  source = "../jeeves"

  environment = var.environment
  production  = module.naming.is_production
  install     = var.jeeves.install
  names = {
    ecr_namespace = module.naming.names.ecr_namespace
    app_secret    = module.naming.names.app_secret
  }
  cluster = {
    name                = module.cluster.cluster_name
    vpc_id              = module.network.vpc_id
    region              = module.naming.region
    volumes_kms_key_arn = module.cluster.volumes_kms_key_arn
  }
  database = {
    address                  = module.database.address
    port                     = module.database.port
    databases                = module.database.databases
    master_secret_arn        = module.database.master_secret_arn
    master_secret_version_id = module.database.master_secret_version_id
    credentials_revision     = var.database.credentials_revision
  }
  image_tag           = var.jeeves.image_tag
  slack_bot_user_id   = var.jeeves.slack_bot_user_id
  replicas            = var.jeeves.replicas
  etcd                = var.jeeves.etcd
  gateway_host        = var.jeeves.gateway_host
  route53_zone_id     = var.jeeves.route53_zone_id
  certificate_arn     = var.jeeves.certificate_arn
  app_secret_revision = var.jeeves.app_secret_revision
  extra_values        = var.jeeves.extra_values
  tags                = module.naming.tags
}
