from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import FixedDecimalField, UtcDatetimeField
from models.payments import PaymentStatus, RefundStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index



class AlterEnumDescription(ops.AlterField):
    """PaymentStatus gains REFUNDED: the column (VARCHAR(16)) holds it as it is, only the
    description Tortoise keeps changes. Altering the column for real rebuilds the table on
    SQLite and loses its unique constraints and indexes, so only the state moves."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0011_mail_lanes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('payment', fields.ForeignKeyField('models.OnlinePayment', source_field='payment_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.CASCADE)),
                ('amount', FixedDecimalField(max_digits=14, decimal_places=2)),
                ('status', fields.CharEnumField(default=RefundStatus.PENDING, description='PENDING: pending\nSUCCEEDED: succeeded\nCANCELED: canceled', enum_type=RefundStatus, max_length=16)),
                ('external_id', fields.CharField(null=True, description="The acquirer's id of the refund", max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('completed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payment_refund', 'app': 'models', 'indexes': [Index(fields=['payment_id', 'status'])], 'pk_attr': 'id', 'table_description': "An operator's `kabinet payments refund`: part or all of a SUCCEEDED online payment"},
            bases=['Model'],
        ),
        AlterEnumDescription(
            model_name='OnlinePayment',
            name='status',
            field=fields.CharEnumField(default=PaymentStatus.PENDING, description='PENDING: pending\nSUCCEEDED: succeeded\nCANCELED: canceled\nFAILED: failed\nREFUNDED: refunded', enum_type=PaymentStatus, max_length=16),
        ),
        ops.AddField(
            model_name='OnlinePayment',
            name='refunded_amount',
            field=FixedDecimalField(null=True, description='Refunded so far, by refunds SUCCEEDED: null when none was', max_digits=14, decimal_places=2),
        ),
    ]
