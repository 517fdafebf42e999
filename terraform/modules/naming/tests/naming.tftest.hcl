# Names, tags and the validation rules of the naming module. Each `expect_failures` run fails
# if its rule is removed: the plan then succeeds where it must not.

variables {
  environment = "dev"
  region      = "eu-west-1"
}

run "names_follow_project_and_environment" {
  command = plan

  assert {
    condition     = output.prefix == "jeeves-dev"
    error_message = "prefix must be <project>-<environment>"
  }
  assert {
    condition     = output.names.database == "jeeves-dev-postgres" && output.names.database_secret == "jeeves/dev/database"
    error_message = "database names must derive from the prefix"
  }
  assert {
    condition     = output.names.kubernetes_prefix == "/jeeves/dev/"
    error_message = "the etcd prefix must be /jeeves/<env>/ (DESIGN.md)"
  }
  assert {
    condition     = output.is_production == false
    error_message = "dev is not production"
  }
}

run "module_tags_win_over_extra_tags" {
  command = plan

  variables {
    environment = "prod"
    extra_tags  = { Project = "spoofed", CostCenter = "42" }
  }

  assert {
    condition     = output.tags == { Project = "jeeves", Environment = "prod", ManagedBy = "terraform", CostCenter = "42" }
    error_message = "extra tags are kept, but Project/Environment/ManagedBy are the module's own"
  }
  assert {
    condition     = output.is_production
    error_message = "prod is production"
  }
}

run "rejects_unknown_environment" {
  command = plan
  variables {
    environment = "production"
  }
  expect_failures = [var.environment]
}

run "rejects_project_too_long_for_iam_prefixes" {
  command = plan
  variables {
    project = "a-very-long-project-name"
  }
  expect_failures = [var.project]
}

run "rejects_uppercase_project" {
  command = plan
  variables {
    project = "Jeeves"
  }
  expect_failures = [var.project]
}

run "rejects_malformed_region" {
  command = plan
  variables {
    region = "europe"
  }
  expect_failures = [var.region]
}

run "accepts_govcloud_region" {
  command = plan
  variables {
    region = "us-gov-west-1"
  }
  assert {
    condition     = output.region == "us-gov-west-1"
    error_message = "GovCloud regions are valid"
  }
}

run "rejects_reserved_tag_prefix" {
  command = plan
  variables {
    extra_tags = { "aws:createdBy" = "me" }
  }
  expect_failures = [var.extra_tags]
}

run "rejects_overlong_tag_value" {
  command = plan
  variables {
    extra_tags = { Owner = join("", [for i in range(260) : "x"]) }
  }
  expect_failures = [var.extra_tags]
}

run "rejects_more_tags_than_aws_allows_with_ours" {
  command = plan
  variables {
    extra_tags = { for i in range(41) : "Tag${i}" => "x" }
  }
  expect_failures = [var.extra_tags]
}
