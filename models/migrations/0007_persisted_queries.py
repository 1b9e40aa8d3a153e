from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_questions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedQuery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(unique=True, max_length=64)),
                ('query', fields.TextField(unique=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'persisted_query', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A GraphQL document registered under its SHA-256 (automatic persisted queries).'},
            bases=['Model'],
        ),
    ]
