# prod: a NAT gateway per zone, Multi-AZ PostgreSQL with deletion protection and 14 days of
# backups, 2 replicas of each stateless service, 3 nodes, all control plane logs for a year, and
# deletion protection on the cluster. About 805 USD a month (docs/aws.md).

module "environment" {
  source = "../../modules/environment"

  environment = "prod"
  region      = var.region
  extra_tags  = var.extra_tags

  network = {
    cidr             = "10.30.0.0/16"
    az_count         = 3
    nat_gateway_mode = "per_az"
  }

  cluster = {
    node_groups = {
      general = { instance_types = ["m6i.large", "m7i.large"], min_size = 3, max_size = 6, desired_size = 3 }
    }
    endpoint_public_access_cidrs = var.admin_cidrs
    admin_principal_arns         = var.admin_principal_arns
    log_types                    = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    log_retention_days           = 365
    deletion_protection          = true
  }

  database = {
    instance_class            = "db.m7g.large"
    allocated_storage_gib     = 100
    max_allocated_storage_gib = 500
    multi_az                  = true
    deletion_protection       = true
    backup_retention_days     = 14
    credentials_revision      = var.database_credentials_revision
    log_retention_days        = 90
  }

  jeeves = {
    install             = var.install
    image_tag           = var.image_tag
    replicas            = 2
    etcd                = { size_gib = 16 }
    slack_bot_user_id   = var.slack_bot_user_id
    gateway_host        = var.gateway_host
    route53_zone_id     = var.route53_zone_id
    app_secret_revision = var.app_secret_revision
  }
}
