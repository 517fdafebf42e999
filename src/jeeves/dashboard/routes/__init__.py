"""The dashboard's HTTP surface: sign-in (`/auth/`), the JSON API (`/api/`), the frontend."""
