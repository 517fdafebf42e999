# dev: the smallest Jeeves that behaves like production: 2 nodes, one NAT gateway, a single-AZ
# db.t4g.micro, a one-member etcd. About 315 USD a month (docs/aws.md, "Cost per month").

module "environment" {
  source = "../../modules/environment"

  environment = "dev"
  region      = var.region
  extra_tags  = var.extra_tags

  network = {
    cidr             = "10.20.0.0/16"
    az_count         = 3
    nat_gateway_mode = "single"
  }

  cluster = {
    node_groups = {
      general = { instance_types = ["t3.large"], min_size = 2, max_size = 3, desired_size = 2 }
    }
    endpoint_public_access_cidrs = var.admin_cidrs
    admin_principal_arns         = var.admin_principal_arns
    log_retention_days           = 30
  }

  database = {
    instance_class        = "db.t4g.micro"
    allocated_storage_gib = 20
    multi_az              = false
    deletion_protection   = false
    backup_retention_days = 3
    credentials_revision  = var.database_credentials_revision
  }

  jeeves = {
    install             = var.install
    image_tag           = var.image_tag
    replicas            = 1
    etcd                = { size_gib = 4 }
    slack_bot_user_id   = var.slack_bot_user_id
    gateway_host        = var.gateway_host
    route53_zone_id     = var.route53_zone_id
    app_secret_revision = var.app_secret_revision
  }
}
