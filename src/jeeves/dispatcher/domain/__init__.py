"""The dispatcher's pure logic: text extraction, routing, the action protocol, its own replies."""
