from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField
from models.metering import ReadingSource
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index



class AlterEnumDescription(ops.AlterField):
    """ReadingSource gains GUEST: the column (VARCHAR(16)) holds it as it is, only the
    description Tortoise keeps changes (see 0012_refunds: a real AlterField rebuilds the
    table on SQLite and loses its unique constraints and indexes)."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class DropNotNull(ops.AlterField):
    """online_payment.cabinet_id becomes nullable (guest payments have no cabinet), and
    nothing else about the table changes. PostgreSQL drops the constraint in place. On
    SQLite, Tortoise's AlterField would rebuild the table and lose its unique constraints
    and indexes, so the table's definition is edited instead, as SQLite documents for
    removing a NOT NULL constraint (https://sqlite.org/lang_altertable.html, "making other
    kinds of table schema changes": the stored rows do not change)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None:
            return
        from models import sql

        conn = state_editor.client
        if sql.dialect(conn) == "postgres":
            await sql.execute(
                conn, 'ALTER TABLE "online_payment" ALTER COLUMN "cabinet_id" DROP NOT NULL'
            )
            return
        row = await sql.fetch_one(
            conn, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'online_payment'"
        )
        assert row is not None
        old = row["sql"]
        new = old.replace('"cabinet_id" BIGINT NOT NULL', '"cabinet_id" BIGINT', 1)
        if new == old:
            raise RuntimeError(f"online_payment.cabinet_id: unexpected definition {old!r}")
        version = (await sql.fetch_one(conn, "PRAGMA schema_version"))["schema_version"]
        await sql.execute(conn, "PRAGMA writable_schema = ON")
        await sql.execute(
            conn,
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'online_payment'",
            [new],
        )
        await sql.execute(conn, f"PRAGMA schema_version = {int(version) + 1}")
        await sql.execute(conn, "PRAGMA writable_schema = OFF")
        check = await sql.fetch(conn, "PRAGMA integrity_check")
        if [r["integrity_check"] for r in check] != ["ok"]:
            raise RuntimeError(f"online_payment: integrity check after the edit: {check}")

    async def database_backward(self, *args, **kwargs) -> None:
        raise NotImplementedError("guest payments have no cabinet to give them back")


class Migration(migrations.Migration):
    dependencies = [('models', '0016_push')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GuestPayment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('payment', fields.OneToOneField('models.OnlinePayment', source_field='payment_id', db_constraint=True, to_field='id', related_name='guest', on_delete=OnDelete.CASCADE)),
                ('idempotency_key', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(description='Where the receipt of payment goes', max_length=254)),
                ('language', fields.CharField(default='ru', description='ru or en: the receipt', max_length=2)),
                ('client_key', fields.CharField(description='Client IP (IPv6: its /64)', max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'guest_payment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What a payment made without logging in (`payAsGuest`) has besides its online'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GuestReadingSubmission',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('idempotency_key', fields.CharField(unique=True, max_length=64)),
                ('fingerprint', fields.CharField(description='SHA-256 of the request', max_length=64)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name='guest_submissions', on_delete=OnDelete.CASCADE)),
                ('window_start', fields.DateField(description='First day of the window it was made in')),
                ('reading', fields.ForeignKeyField('models.MeterReading', source_field='reading_id', null=True, db_constraint=True, to_field='id', related_name='guest_submissions', on_delete=OnDelete.SET_NULL)),
                ('client_key', fields.CharField(description='Client IP (IPv6: its /64)', max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'guest_reading_submission', 'app': 'models', 'indexes': [Index(fields=['meter_id', 'window_start'])], 'pk_attr': 'id', 'table_description': "A `submitGuestMeterReading` (no login: the account number and the meter's serial),"},
            bases=['Model'],
        ),
        AlterEnumDescription(
            model_name='MeterReading',
            name='source',
            field=fields.CharEnumField(default=ReadingSource.BILLING, description='CUSTOMER: customer\nINSPECTOR: inspector\nESTIMATED: estimated\nBILLING: billing\nGUEST: guest', enum_type=ReadingSource, max_length=16),
        ),
        DropNotNull(
            model_name='OnlinePayment',
            name='cabinet',
            field=fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', null=True, db_constraint=True, to_field='id', related_name='online_payments', on_delete=OnDelete.CASCADE),
        ),
    ]
