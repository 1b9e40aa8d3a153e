from tortoise import migrations
from tortoise.migrations import operations as ops
from models.auth import TokenPurpose
from models.base import UtcDatetimeField
from models.ereceipts import DeliveryState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_auth')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EReceiptDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('receipt', fields.OneToOneField('models.Receipt', source_field='receipt_id', db_constraint=True, to_field='id', related_name='ereceipt_delivery', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=DeliveryState.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nSKIPPED: skipped\nFAILED: failed', enum_type=DeliveryState, max_length=8)),
                ('attempts', fields.SmallIntField(default=0)),
                ('due_at', UtcDatetimeField(description='PENDING: next attempt, SENDING: end of the lease', auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('message', fields.ForeignKeyField('models.OutboxMessage', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='ereceipts', on_delete=OnDelete.SET_NULL)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('done_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ereceipt_delivery', 'app': 'models', 'indexes': [Index(fields=['state', 'due_at'])], 'pk_attr': 'id', 'table_description': 'One receipt to mail, queued by the import that brought the receipt in.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EReceiptSubscription',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='ereceipt', on_delete=OnDelete.CASCADE)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_index=True, db_constraint=True, to_field='id', related_name='ereceipts', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(null=True, description='NULL means the address of the cabinet', max_length=254)),
                ('since', UtcDatetimeField(null=True, description='When the receipts started, NULL until then', auto_now=False, auto_now_add=False)),
                ('pending_email', fields.CharField(null=True, max_length=254)),
                ('pending_token', fields.ForeignKeyField('models.ActionToken', source_field='pending_token_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='ereceipt_confirmations', on_delete=OnDelete.SET_NULL)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', UtcDatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ereceipt_subscription', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The electronic receipt of an account, asked for by the cabinet that holds it.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='ActionToken',
            name='purpose',
            field=fields.CharEnumField(description='VERIFY_EMAIL: verify_email\nCHANGE_EMAIL: change_email\nRESET_PASSWORD: reset_password\nRECOVERY: recovery\nRECOVERY_LINK: recovery_link\nERECEIPT_EMAIL: ereceipt_email', enum_type=TokenPurpose, max_length=24),
        ),
    ]
