"""The city: every hall's events in PostgreSQL (collector.py, ingest.py, schema.py) and the city
dashboard (dashboard.py). Runs at the city's data centre, never in a hall (docs/city.md)."""
