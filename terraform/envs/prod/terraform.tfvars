# Settings of the prod environment that are yours to choose (no secrets here: those live in
# Secrets Manager). Replace the documentation addresses and names below.
region      = "eu-west-1"
admin_cidrs = ["203.0.113.0/24"]
image_tag   = "0.1.0"
install     = false
# slack_bot_user_id = "U0123ABCD"  # from the Slack app, before install = true
gateway_host    = "jeeves.example.com"
route53_zone_id = "Z0123456789EXAMPLE"
