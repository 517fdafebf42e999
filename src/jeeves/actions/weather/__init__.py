"""weather action: "weather", "weather in Lisbon", "weather in São Paulo tomorrow"."""
