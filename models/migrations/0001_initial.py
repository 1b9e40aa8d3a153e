from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.base import FixedDecimalField, UtcDatetimeField
from models.cabinets import Role
from models.metering import ReadingSource, ReadingStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, description='Digits as printed on bills, leading zeros count', max_length=20)),
                ('holder_name', fields.CharField(max_length=255)),
                ('address', fields.CharField(max_length=500)),
                ('tariff', fields.CharField(default='', max_length=128)),
                ('balance', FixedDecimalField(default=0, description='Positive means the customer owes, negative means prepaid', max_digits=14, decimal_places=2)),
                ('balance_on', fields.DateField(null=True, description='Date the billing system computed it')),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', UtcDatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A personal account (лицевой счёт) as the billing system knows it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Cabinet',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, description='Normalised e-mail', max_length=254)),
                ('email_verified_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('password_hash', fields.CharField(max_length=255)),
                ('language', fields.CharField(default='ru', max_length=2)),
                ('role', fields.CharEnumField(default=Role.CUSTOMER, description='CUSTOMER: customer\nSTAFF: staff', enum_type=Role, max_length=16)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', UtcDatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'cabinet', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A login of the personal cabinet: one e-mail and password, several accounts.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CabinetAccount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_index=True, db_constraint=True, to_field='id', related_name='account_links', on_delete=OnDelete.CASCADE)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='cabinet_link', on_delete=OnDelete.CASCADE)),
                ('linked_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'cabinet_account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The link between a cabinet and a personal account it manages.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Meter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_index=True, db_constraint=True, to_field='id', related_name='meters', on_delete=OnDelete.CASCADE)),
                ('serial', fields.CharField(unique=True, max_length=32)),
                ('model', fields.CharField(default='', max_length=64)),
                ('zones', fields.SmallIntField(description='Number of tariff zones, 1 to 3')),
                ('digits', fields.SmallIntField(description='Digits before the decimal point (capacity)')),
                ('installed_on', fields.DateField(null=True)),
                ('verified_on', fields.DateField(null=True, description='Date of the last verification')),
                ('next_verification_on', fields.DateField(null=True)),
            ],
            options={'table': 'meter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An electricity meter of an account with 1-3 tariff zones.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MeterReading',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name='readings', on_delete=OnDelete.CASCADE)),
                ('taken_on', fields.DateField()),
                ('t1', FixedDecimalField(max_digits=12, decimal_places=3)),
                ('t2', FixedDecimalField(null=True, max_digits=12, decimal_places=3)),
                ('t3', FixedDecimalField(null=True, max_digits=12, decimal_places=3)),
                ('source', fields.CharEnumField(default=ReadingSource.BILLING, description='CUSTOMER: customer\nINSPECTOR: inspector\nESTIMATED: estimated\nBILLING: billing', enum_type=ReadingSource, max_length=16)),
                ('status', fields.CharEnumField(default=ReadingStatus.ACCEPTED, description='ACCEPTED: accepted\nREVIEW: review\nREJECTED: rejected\nREPLACED: replaced', enum_type=ReadingStatus, max_length=16)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'meter_reading', 'app': 'models', 'unique_together': (('meter', 'taken_on', 'source'),), 'pk_attr': 'id', 'table_description': 'Register values of a meter on a date, one column per zone.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE)),
                ('amount', FixedDecimalField(max_digits=14, decimal_places=2)),
                ('paid_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('channel', fields.CharField(default='', max_length=64)),
                ('external_id', fields.CharField(unique=True, max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'payment', 'app': 'models', 'indexes': [Index(fields=['account_id', 'paid_at'])], 'pk_attr': 'id', 'table_description': 'Money received on an account, as reported by the billing system.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Receipt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='receipts', on_delete=OnDelete.CASCADE)),
                ('period', fields.DateField(description='First day of the billed month')),
                ('issued_on', fields.DateField()),
                ('due_on', fields.DateField()),
                ('opening_balance', FixedDecimalField(max_digits=14, decimal_places=2)),
                ('charged', FixedDecimalField(max_digits=14, decimal_places=2)),
                ('paid', FixedDecimalField(max_digits=14, decimal_places=2)),
                ('amount_due', FixedDecimalField(max_digits=14, decimal_places=2)),
                ('lines', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'receipt', 'app': 'models', 'unique_together': (('account', 'period'),), 'pk_attr': 'id', 'table_description': 'A monthly bill of an account.'},
            bases=['Model'],
        ),
    ]
