from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


async def copy_photos_into_the_database(apps, schema_editor):
    """Photos used to be files under VAR_DIR/attachments/<key[:2]>/<key>: their bytes
    move into attachment_content (the files stay where they were, for the operator to
    delete). A row whose file is missing keeps no content and serves 404, as before."""
    from config import get_settings
    from models import sql

    root = get_settings().var_path / "attachments"
    conn = schema_editor.client
    for row in await sql.fetch(conn, "SELECT id, storage_key FROM attachment"):
        key = row["storage_key"]
        path = root / key[:2] / key
        if path.is_file():
            await sql.execute(
                conn,
                "INSERT INTO attachment_content (attachment_id, data) VALUES (?, ?)",
                [row["id"], path.read_bytes()],
            )


class Migration(migrations.Migration):
    dependencies = [('models', '0008_cabinet_disabled')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AttachmentContent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('attachment', fields.OneToOneField('models.Attachment', source_field='attachment_id', db_constraint=True, to_field='id', related_name='content', on_delete=OnDelete.CASCADE)),
                ('data', fields.BinaryField()),
            ],
            options={'table': 'attachment_content', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The bytes of a photo (at most ATTACHMENT_MAX_BYTES). They are in the database,'},
            bases=['Model'],
        ),
        ops.RunPython(copy_photos_into_the_database),
    ]
