from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField
from models.questions import MessageAuthor, QuestionStatus, QuestionTopic
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_readings_payments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Question',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.SET_NULL)),
                ('topic', fields.CharEnumField(description='BILLING: billing\nREADINGS: readings\nPAYMENTS: payments\nMETER: meter\nE_RECEIPT: e_receipt\nOTHER: other', enum_type=QuestionTopic, max_length=16)),
                ('subject', fields.CharField(max_length=150)),
                ('status', fields.CharEnumField(default=QuestionStatus.OPEN, description='OPEN: open\nANSWERED: answered\nCLOSED: closed', enum_type=QuestionStatus, max_length=16)),
                ('assignee', fields.ForeignKeyField('models.Cabinet', source_field='assignee_id', null=True, description='The specialist who took it', db_constraint=True, to_field='id', related_name='assigned_questions', on_delete=OnDelete.SET_NULL)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('waiting_since', UtcDatetimeField(description='When the first unanswered message of the customer arrived (queue order)', auto_now=False, auto_now_add=False)),
                ('closed_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'question', 'app': 'models', 'indexes': [Index(fields=['cabinet_id', 'created_at']), Index(fields=['status', 'waiting_since'])], 'pk_attr': 'id', 'table_description': 'A conversation between a customer and the specialists of the company.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuestionMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('question', fields.ForeignKeyField('models.Question', source_field='question_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('author_kind', fields.CharEnumField(description='CUSTOMER: customer\nSPECIALIST: specialist', enum_type=MessageAuthor, max_length=16)),
                ('author', fields.ForeignKeyField('models.Cabinet', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='question_messages', on_delete=OnDelete.SET_NULL)),
                ('body', fields.TextField(unique=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('read_at', UtcDatetimeField(null=True, description='When the customer read a message of a specialist, or when a specialist answered a message of the customer', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'question_message', 'app': 'models', 'indexes': [Index(fields=['question_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One message of a question, by the customer or by a specialist.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('message', fields.ForeignKeyField('models.QuestionMessage', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('storage_key', fields.CharField(unique=True, max_length=64)),
                ('content_type', fields.CharField(max_length=32)),
                ('size', fields.IntField()),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attachment', 'app': 'models', 'indexes': [Index(fields=['cabinet_id', 'message_id']), Index(fields=['message_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A photo a customer uploaded, pending until a message references it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Cabinet',
            name='display_name',
            field=fields.CharField(default='', description='Name of a specialist as customers see it', max_length=100),
        ),
    ]
