"""SQLite store: connection, migrations, reference-data seeding. Never imports Qt."""
