"""dbkit: database utilities that know nothing of tickets, phones or tenants.

    bulk         many rows through one INSERT statement, cheaply, on SQLite and PostgreSQL
    migrations   an Alembic tree up to its newest revision

It imports only SQLAlchemy and Alembic (and the standard library). Both sides use it: the
provisioner's sighting writer and support_link's store; neither depends on the other
through it.
"""
