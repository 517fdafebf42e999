"""The emulator's small built-in gazetteer: real places with their real Open-Meteo ids.

It includes accents (São Paulo, Zürich, Kraków, Reykjavík) and ambiguous names (two
Springfields, two Portlands) so that unicode handling and disambiguation can be tested.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    id: int
    name: str
    latitude: float
    longitude: float
    elevation: float
    feature_code: str
    country_code: str
    country: str
    admin1: str
    timezone: str
    population: int


PLACES: tuple[Place, ...] = (
    Place(
        2267057,
        "Lisbon",
        38.71667,
        -9.13333,
        45.0,
        "PPLC",
        "PT",
        "Portugal",
        "Lisbon",
        "Europe/Lisbon",
        517802,
    ),
    Place(
        2735943,
        "Porto",
        41.14961,
        -8.61099,
        93.0,
        "PPLA",
        "PT",
        "Portugal",
        "Porto",
        "Europe/Lisbon",
        249633,
    ),
    Place(
        3448439,
        "São Paulo",
        -23.5475,
        -46.63611,
        769.0,
        "PPLA",
        "BR",
        "Brazil",
        "São Paulo",
        "America/Sao_Paulo",
        10021295,
    ),
    Place(
        2950159,
        "Berlin",
        52.52437,
        13.41053,
        74.0,
        "PPLC",
        "DE",
        "Germany",
        "Land Berlin",
        "Europe/Berlin",
        3426354,
    ),
    Place(
        4250542,
        "Springfield",
        39.80172,
        -89.64371,
        182.0,
        "PPLA",
        "US",
        "United States",
        "Illinois",
        "America/Chicago",
        116250,
    ),
    Place(
        4409896,
        "Springfield",
        37.21533,
        -93.29824,
        396.0,
        "PPLA2",
        "US",
        "United States",
        "Missouri",
        "America/Chicago",
        166810,
    ),
    Place(
        5746545,
        "Portland",
        45.52345,
        -122.67621,
        15.0,
        "PPLA2",
        "US",
        "United States",
        "Oregon",
        "America/Los_Angeles",
        632309,
    ),
    Place(
        4975802,
        "Portland",
        43.66147,
        -70.25533,
        13.0,
        "PPLA2",
        "US",
        "United States",
        "Maine",
        "America/New_York",
        66881,
    ),
    Place(
        2643743,
        "London",
        51.50853,
        -0.12574,
        25.0,
        "PPLC",
        "GB",
        "United Kingdom",
        "England",
        "Europe/London",
        8961989,
    ),
    Place(
        5128581,
        "New York",
        40.71427,
        -74.00597,
        10.0,
        "PPL",
        "US",
        "United States",
        "New York",
        "America/New_York",
        8804190,
    ),
    Place(
        1850147,
        "Tokyo",
        35.6895,
        139.69171,
        44.0,
        "PPLC",
        "JP",
        "Japan",
        "Tokyo",
        "Asia/Tokyo",
        8336599,
    ),
    Place(
        3413829,
        "Reykjavík",
        64.13548,
        -21.89541,
        29.0,
        "PPLC",
        "IS",
        "Iceland",
        "Capital Region",
        "Atlantic/Reykjavik",
        118918,
    ),
    Place(
        2657896,
        "Zürich",
        47.36667,
        8.55,
        429.0,
        "PPLA",
        "CH",
        "Switzerland",
        "Zurich",
        "Europe/Zurich",
        341730,
    ),
    Place(
        3094802,
        "Kraków",
        50.06143,
        19.93658,
        219.0,
        "PPLA",
        "PL",
        "Poland",
        "Lesser Poland",
        "Europe/Warsaw",
        755050,
    ),
)
