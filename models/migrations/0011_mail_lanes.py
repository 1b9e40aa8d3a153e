from tortoise import migrations
from tortoise.migrations import operations as ops
from models.mail import MailLane
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_question_assignee_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='lane',
            field=fields.IntEnumField(default=MailLane.ROUTINE, description='Claimed first: 0', enum_type=MailLane, generated=False),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['state', 'lane', 'due_at']),
        ),
    ]
