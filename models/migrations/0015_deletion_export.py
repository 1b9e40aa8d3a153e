from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField
from models.privacy_requests import DeletionState, ExportState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_privacy')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CabinetDeletion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_index=True, db_constraint=True, to_field='id', related_name='deletions', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=DeletionState.PENDING, description='PENDING: pending\nCANCELED: canceled\nERASED: erased', enum_type=DeletionState, max_length=8)),
                ('requested_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('erases_at', UtcDatetimeField(description='End of the grace period', auto_now=False, auto_now_add=False)),
                ('done_at', UtcDatetimeField(null=True, description='When it was canceled or erased', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'cabinet_deletion', 'app': 'models', 'indexes': [Index(fields=['state', 'erases_at'])], 'pk_attr': 'id', 'table_description': 'A request to delete a cabinet (deleteCabinet), at most one PENDING per cabinet:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DataExport',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='data_exports', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=ExportState.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=ExportState, max_length=8)),
                ('attempts', fields.SmallIntField(default=0)),
                ('due_at', UtcDatetimeField(description='PENDING: next attempt, SENDING: end of the lease', auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('requested_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('ready_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(null=True, description='The link and the file end then', auto_now=False, auto_now_add=False)),
                ('size', fields.BigIntField(default=0, description='Bytes of the ZIP')),
            ],
            options={'table': 'data_export', 'app': 'models', 'indexes': [Index(fields=['cabinet_id', 'requested_at']), Index(fields=['state', 'due_at'])], 'pk_attr': 'id', 'table_description': "A copy of a cabinet's data asked for with requestDataExport: a ZIP built in the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DataExportContent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('export', fields.OneToOneField('models.DataExport', source_field='export_id', db_constraint=True, to_field='id', related_name='content', on_delete=OnDelete.CASCADE)),
                ('data', fields.BinaryField()),
            ],
            options={'table': 'data_export_content', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The ZIP of an export. In the database, as photos are: server processes on several'},
            bases=['Model'],
        ),
    ]
