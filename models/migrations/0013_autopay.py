from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import FixedDecimalField, UtcDatetimeField
from models.payments import ChargeState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_refunds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Autopay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='autopay', on_delete=OnDelete.CASCADE)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_index=True, db_constraint=True, to_field='id', related_name='autopays', on_delete=OnDelete.CASCADE)),
                ('max_amount', FixedDecimalField(description='The most charged in one calendar month', max_digits=14, decimal_places=2)),
                ('provider', fields.CharField(description='PAYMENT_PROVIDER that saved it', max_length=64)),
                ('method_id', fields.CharField(null=True, description="The acquirer's id", max_length=64)),
                ('method_title', fields.CharField(default='', max_length=64)),
                ('setup_payment', fields.ForeignKeyField('models.OnlinePayment', source_field='setup_payment_id', null=True, db_constraint=True, to_field='id', related_name='autopay_setups', on_delete=OnDelete.SET_NULL)),
                ('active_since', UtcDatetimeField(null=True, description='NULL: not active', auto_now=False, auto_now_add=False)),
                ('refusals', fields.SmallIntField(default=0)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'autopay', 'app': 'models', 'pk_attr': 'id', 'table_description': "An account's autopay, turned on by a cabinet that holds it (`enableAutopay`)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AutopayCharge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('autopay', fields.ForeignKeyField('models.Autopay', source_field='autopay_id', db_constraint=True, to_field='id', related_name='charges', on_delete=OnDelete.CASCADE)),
                ('receipt', fields.ForeignKeyField('models.Receipt', source_field='receipt_id', db_constraint=True, to_field='id', related_name='autopay_charges', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=ChargeState.PENDING, description='PENDING: pending\nSENDING: sending\nDONE: done\nSKIPPED: skipped', enum_type=ChargeState, max_length=8)),
                ('attempts', fields.SmallIntField(default=0)),
                ('due_at', UtcDatetimeField(description='PENDING: when to charge, SENDING: end of the lease', auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('payment', fields.ForeignKeyField('models.OnlinePayment', source_field='payment_id', null=True, db_constraint=True, to_field='id', related_name='autopay_charge', on_delete=OnDelete.SET_NULL)),
                ('method_id', fields.CharField(null=True, description='The saved method it is charged with', max_length=64)),
                ('outcome', fields.CharField(default='', max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('done_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'autopay_charge', 'app': 'models', 'unique_together': (('autopay', 'receipt'),), 'indexes': [Index(fields=['state', 'due_at'])], 'pk_attr': 'id', 'table_description': 'One bill to charge by autopay, queued by the import that brought the bill in.'},
            bases=['Model'],
        ),
    ]
