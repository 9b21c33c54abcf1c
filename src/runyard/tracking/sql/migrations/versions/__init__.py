"""Alembic revisions of the SQL tracking store, oldest first (a package so they ship in
the wheel)."""
