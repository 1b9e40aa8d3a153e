from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_attachment_content')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Question',
            index=Index(fields=['assignee_id', 'status', 'waiting_since']),
        ),
    ]
