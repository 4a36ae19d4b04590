# The contact form's messages, and the full-text index over published reports: a GIN
# expression index (to_tsvector('english', title, summary and text)) on PostgreSQL, an
# external-content FTS5 table kept in step by triggers on SQLite. Each part runs only on its own database (see apps/portal/search.py and ADR 15).

import apps.core.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Frozen copies of the statements in apps/portal/search.py (a migration must not change when
# the code does). The document is a function declared expensive (COST), so that the planner
# answers a search from the GIN index even when the table is small, rather than reading and
# parsing every report's text; PL/pgSQL, so that it is never inlined (which would lose the cost).
PG_CREATE = [
    """CREATE OR REPLACE FUNCTION portal_publication_document(title text, summary text, body text)
    RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 10000
    SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        RETURN to_tsvector('english'::regconfig,
            coalesce(title, '') || ' ' || coalesce(summary, '') || ' ' || coalesce(body, ''));
    END
    $$""",
    """CREATE INDEX IF NOT EXISTS portal_publication_search ON reports_publication
    USING GIN (portal_publication_document(title, summary, search_text))""",
]
PG_DROP = [
    "DROP INDEX IF EXISTS portal_publication_search",
    "DROP FUNCTION IF EXISTS portal_publication_document(text, text, text)",
]

SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS portal_publication_fts USING fts5(
        title, summary, search_text,
        content='reports_publication', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER IF NOT EXISTS portal_publication_fts_insert
        AFTER INSERT ON reports_publication BEGIN
        INSERT INTO portal_publication_fts(rowid, title, summary, search_text)
        VALUES (new.id, new.title, new.summary, new.search_text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS portal_publication_fts_delete
        AFTER DELETE ON reports_publication BEGIN
        INSERT INTO portal_publication_fts(portal_publication_fts, rowid, title, summary, search_text)
        VALUES ('delete', old.id, old.title, old.summary, old.search_text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS portal_publication_fts_update
        AFTER UPDATE OF title, summary, search_text ON reports_publication BEGIN
        INSERT INTO portal_publication_fts(portal_publication_fts, rowid, title, summary, search_text)
        VALUES ('delete', old.id, old.title, old.summary, old.search_text);
        INSERT INTO portal_publication_fts(rowid, title, summary, search_text)
        VALUES (new.id, new.title, new.summary, new.search_text);
    END""",
    "INSERT INTO portal_publication_fts(portal_publication_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS portal_publication_fts_insert",
    "DROP TRIGGER IF EXISTS portal_publication_fts_delete",
    "DROP TRIGGER IF EXISTS portal_publication_fts_update",
    "DROP TABLE IF EXISTS portal_publication_fts",
]


def create_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in PG_CREATE:
            schema_editor.execute(statement)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in PG_DROP:
            schema_editor.execute(statement)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("reports", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ContactMessage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reference", models.CharField(help_text="Given to the sender", max_length=20, unique=True)),
                ("topic", models.CharField(choices=[("report", "A published report"), ("recommendation", "A recommendation or its progress"), ("accessibility", "A problem using this website (accessibility)"), ("open_data", "Open data"), ("other", "Something else")], max_length=20)),
                ("name", apps.core.fields.EncryptedTextField(blank=True, help_text="Optional. Encrypted at rest")),
                ("email", apps.core.fields.EncryptedTextField(blank=True, help_text="Optional. Encrypted at rest")),
                ("message", apps.core.fields.EncryptedTextField(help_text="Encrypted at rest")),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, help_text="When the acknowledgement email went", null=True)),
                ("handled_at", models.DateTimeField(blank=True, null=True)),
                ("handled_note", apps.core.fields.EncryptedTextField(blank=True, help_text="What was done. Encrypted at rest")),
                ("handled_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["-received_at", "-id"],
                "indexes": [models.Index(fields=["handled_at", "received_at"], name="portal_cont_handled_3aba19_idx")],
            },
        ),
        migrations.RunPython(create_search_index, drop_search_index, elidable=False),
    ]
