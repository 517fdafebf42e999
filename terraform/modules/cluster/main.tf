# The EKS cluster of one Jeeves environment: control plane with KMS envelope encryption of
# Secrets and audit logging, managed node groups, Pod Identity for the add-ons that call AWS (the
# EBS CSI driver; the AWS Load Balancer Controller installed by the jeeves module), and a KMS key
# for the persistent volumes. The cluster comes from terraform-aws-modules/eks/aws and the Pod
# Identity roles from terraform-aws-modules/eks-pod-identity/aws (both pinned): the IAM policies
# they carry (EBS CSI, load balancer controller) are long, AWS-versioned documents better kept
# upstream than copied here.

module "plan" {
  source = "../cluster-plan"

  kubernetes_version           = var.kubernetes_version
  node_groups                  = var.node_groups
  endpoint_public_access       = var.endpoint_public_access
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  log_types                    = var.log_types
  log_retention_days           = var.log_retention_days
  admin_principal_arns         = var.admin_principal_arns
}

module "eks" {
  #checkov:skip=CKV_TF_1:Pinned to an exact Terraform Registry release (version = "x.y.z"), reviewed when bumped; a commit hash would bypass the registry's version constraints and upgrade notes.
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = var.name
  kubernetes_version = module.plan.kubernetes_version

  vpc_id                   = var.vpc_id
  subnet_ids               = var.private_subnet_ids
  control_plane_subnet_ids = var.private_subnet_ids

  endpoint_private_access      = true
  endpoint_public_access       = module.plan.endpoint.public
  endpoint_public_access_cidrs = module.plan.endpoint.public_cidrs

  # Envelope encryption of Kubernetes Secrets with a customer-managed key the module creates.
  create_kms_key          = true
  enable_kms_key_rotation = true
  encryption_config       = { resources = ["secrets"] }

  enabled_log_types                      = module.plan.logging.types
  cloudwatch_log_group_retention_in_days = module.plan.logging.retention_days

  # Access entries only (no aws-auth ConfigMap); Terraform's own identity is an admin so that the
  # jeeves module can install the charts.
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = true
  access_entries                           = module.plan.access_entries

  deletion_protection = var.deletion_protection
  enable_irsa         = false # Pod Identity instead (eks-pod-identity-agent below)

  addons = {
    # The charts ship NetworkPolicies; the VPC CNI enforces them only when told to.
    vpc-cni = {
      before_compute       = true
      configuration_values = jsonencode({ enableNetworkPolicy = "true" })
    }
    eks-pod-identity-agent = { before_compute = true }
    kube-proxy             = {}
    coredns                = {}
    aws-ebs-csi-driver = {
      pod_identity_association = [{
        role_arn        = module.ebs_csi_pod_identity.iam_role_arn
        service_account = "ebs-csi-controller-sa"
      }]
    }
  }

  eks_managed_node_groups = module.plan.eks_managed_node_groups

  tags = var.tags
}

# Persistent volumes (etcd's) are encrypted with this key through the gp3 StorageClass.
module "volumes_key" {
  source = "../kms-key"

  description = "${var.name}: EBS volumes of persistent volume claims"
  alias       = "${var.name}-volumes"
  tags        = var.tags
}

module "ebs_csi_pod_identity" {
  #checkov:skip=CKV_TF_1:Pinned to an exact Terraform Registry release (version = "x.y.z"), reviewed when bumped; a commit hash would bypass the registry's version constraints and upgrade notes.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name = "${var.name}-ebs-csi"

  attach_aws_ebs_csi_policy = true
  aws_ebs_csi_kms_arns      = [module.volumes_key.arn]

  tags = var.tags
}

module "lb_controller_pod_identity" {
  #checkov:skip=CKV_TF_1:Pinned to an exact Terraform Registry release (version = "x.y.z"), reviewed when bumped; a commit hash would bypass the registry's version constraints and upgrade notes.
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name = "${var.name}-lb-controller"

  attach_aws_lb_controller_policy = true

  associations = {
    this = {
      cluster_name    = module.eks.cluster_name
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
    }
  }

  tags = var.tags
}
