"""weather emulator: an Open-Meteo stand-in (geocoding + forecast) with fault controls."""
