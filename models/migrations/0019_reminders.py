from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField
from models.push import ReminderKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0018_hold_freeze')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReadingReminder',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='reading_reminders', on_delete=OnDelete.CASCADE)),
                ('window_start', fields.DateField(description='First day of the window, in TIMEZONE')),
                ('kind', fields.CharEnumField(description='OPEN: open\nCLOSING: closing', enum_type=ReminderKind, max_length=8)),
                ('pushed', fields.IntField(default=0, description='Pushes queued with it')),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reading_reminder', 'app': 'models', 'unique_together': (('account', 'window_start', 'kind'),), 'pk_attr': 'id', 'table_description': 'A reading-window reminder sent for an account: (account, window, kind) is unique,'},
            bases=['Model'],
        ),
    ]
