"""Posted movements and their lines can never be updated; a correction is a reversal.

SQLite and PostgreSQL triggers refuse UPDATE; PostgreSQL also refuses DELETE of a line (a test
database is emptied with TRUNCATE there, which row triggers do not see).
"""

from django.db import migrations

MESSAGE = "posted movements are immutable: post a reversal instead"

SQLITE_UP = [
    f"""CREATE TRIGGER stock_movementline_no_update BEFORE UPDATE ON stock_movementline
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER stock_movement_no_update BEFORE UPDATE ON stock_movement
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS stock_movementline_no_update;",
    "DROP TRIGGER IF EXISTS stock_movement_no_update;",
]
POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION stock_refuse_change() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END;
        $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER stock_movementline_immutable BEFORE UPDATE OR DELETE ON stock_movementline
        FOR EACH ROW EXECUTE FUNCTION stock_refuse_change();""",
    """CREATE TRIGGER stock_movement_immutable BEFORE UPDATE ON stock_movement
        FOR EACH ROW EXECUTE FUNCTION stock_refuse_change();""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS stock_movementline_immutable ON stock_movementline;",
    "DROP TRIGGER IF EXISTS stock_movement_immutable ON stock_movement;",
    "DROP FUNCTION IF EXISTS stock_refuse_change();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("stock", "0001_ledger")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
