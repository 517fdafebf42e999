# One customer-managed KMS key with yearly rotation, an alias, and AWS's default key policy made
# explicit (the account administers the key; IAM policies grant its use). Every Jeeves key is
# one of these: EKS volumes, RDS, the app secret and images, the Terraform state.

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource is the key itself; administration is limited to the account root, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself; write access is limited to the account root, as AWS's default key policy does.
  #checkov:skip=CKV_AWS_356:A key policy's "*" resource is the key itself (the only resource a key policy can name).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy                  = data.aws_iam_policy_document.this.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
