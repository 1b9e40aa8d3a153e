from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField
from models.mail import MailState
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(unique=True, description='Message-ID header', max_length=255)),
                ('template', fields.CharField(max_length=64)),
                ('language', fields.CharField(max_length=2)),
                ('recipient', fields.CharField(description='Envelope recipient (ASCII)', max_length=254)),
                ('subject', fields.CharField(description='For operators, may be shortened', max_length=255)),
                ('content', fields.BinaryField(description='The complete message as sent over SMTP')),
                ('state', fields.CharEnumField(default=MailState.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=MailState, max_length=8)),
                ('attempts', fields.SmallIntField(default=0, description='Claims so far, crashed ones too')),
                ('due_at', UtcDatetimeField(description='PENDING: next attempt, SENDING: end of the lease', auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, description='Claim of the worker', max_length=64)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mail_outbox', 'app': 'models', 'indexes': [Index(fields=['state', 'due_at'])], 'pk_attr': 'id', 'table_description': 'One outgoing e-mail, rendered at enqueue time and kept byte for byte.'},
            bases=['Model'],
        ),
    ]
