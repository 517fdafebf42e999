"""The poster's pure logic: the rate governor, Slack answer classification, message validation."""
