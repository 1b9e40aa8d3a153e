from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.base import FixedDecimalField, UtcDatetimeField
from models.payments import PaymentStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_ereceipts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OnlinePayment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='online_payments', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='online_payments', on_delete=OnDelete.CASCADE)),
                ('amount', FixedDecimalField(max_digits=14, decimal_places=2)),
                ('idempotency_key', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(default=PaymentStatus.PENDING, description='PENDING: pending\nSUCCEEDED: succeeded\nCANCELED: canceled\nFAILED: failed', enum_type=PaymentStatus, max_length=16)),
                ('provider', fields.CharField(description='PAYMENT_PROVIDER when created', max_length=64)),
                ('external_id', fields.CharField(null=True, description="The acquirer's id of the payment", max_length=64)),
                ('confirmation_url', fields.CharField(default='', max_length=1000)),
                ('failure_reason', fields.CharField(default='', max_length=64)),
                ('ledger_payment', fields.ForeignKeyField('models.Payment', source_field='ledger_payment_id', null=True, db_constraint=True, to_field='id', related_name='online_payment', on_delete=OnDelete.SET_NULL)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('completed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'online_payment', 'app': 'models', 'unique_together': (('cabinet', 'idempotency_key'), ('provider', 'external_id')), 'indexes': [Index(fields=['status', 'created_at']), Index(fields=['account_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One `payBill`: an amount to an account through an acquirer.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReadingSubmission',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='reading_submissions', on_delete=OnDelete.CASCADE)),
                ('idempotency_key', fields.CharField(max_length=64)),
                ('fingerprint', fields.CharField(description='SHA-256 of the request', max_length=64)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name='submissions', on_delete=OnDelete.CASCADE)),
                ('window_start', fields.DateField(description='First day of the window it was made in')),
                ('reading', fields.ForeignKeyField('models.MeterReading', source_field='reading_id', null=True, db_constraint=True, to_field='id', related_name='submissions', on_delete=OnDelete.SET_NULL)),
                ('consumption', fields.JSONField(null=True, description='kWh per zone since the previous reading: {"1": "123.000"}', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('estimated_charge', FixedDecimalField(null=True, max_digits=14, decimal_places=2)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reading_submission', 'app': 'models', 'unique_together': (('cabinet', 'idempotency_key'),), 'indexes': [Index(fields=['meter_id', 'window_start'])], 'pk_attr': 'id', 'table_description': "A customer's `submitMeterReading`, kept for its idempotency key and its result."},
            bases=['Model'],
        ),
    ]
