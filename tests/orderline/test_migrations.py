from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from orderline.models import Base


def test_migrations_match_models(db_url):
    """The schema Alembic builds is the schema the models describe, on both backends."""
    from orderline.settings import absolute_sqlite_url

    engine = create_engine(absolute_sqlite_url(db_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
