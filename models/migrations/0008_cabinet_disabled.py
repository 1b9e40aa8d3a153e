from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField

class Migration(migrations.Migration):
    dependencies = [('models', '0007_persisted_queries')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Cabinet',
            name='disabled_at',
            field=UtcDatetimeField(null=True, description='When the cabinet was closed (a specialist who left): no login, no sessions', auto_now=False, auto_now_add=False),
        ),
    ]
