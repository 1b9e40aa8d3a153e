from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import UtcDatetimeField
from models.push import NotificationChannel, PushPlatform, PushState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_deletion_export')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NotificationOptOut',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='notification_opt_outs', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(description='services.notifications.events.NotificationEvent', max_length=32)),
                ('channel', fields.CharEnumField(description='EMAIL: email\nPUSH: push', enum_type=NotificationChannel, max_length=8)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification_opt_out', 'app': 'models', 'unique_together': (('cabinet', 'event', 'channel'),), 'pk_attr': 'id', 'table_description': 'A cabinet does not want `event` through `channel` (me.notificationPreferences):'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushDevice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='push_devices', on_delete=OnDelete.CASCADE)),
                ('session', fields.ForeignKeyField('models.Session', source_field='session_id', db_index=True, db_constraint=True, to_field='id', related_name='push_devices', on_delete=OnDelete.CASCADE)),
                ('platform', fields.CharEnumField(description='IOS: ios\nANDROID: android\nWEB: web', enum_type=PushPlatform, max_length=8)),
                ('token', fields.CharField(description='FCM registration token, APNs token', max_length=4096)),
                ('token_hash', fields.CharField(unique=True, description='SHA-256 of the token', max_length=64)),
                ('app_version', fields.CharField(default='', max_length=32)),
                ('locale', fields.CharField(default='ru', description='ru or en: the texts', max_length=2)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', UtcDatetimeField(description='Last registration of the token', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'push_device', 'app': 'models', 'indexes': [Index(fields=['cabinet_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One app installation's push token, bound to the session that registered it: when"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device', fields.ForeignKeyField('models.PushDevice', source_field='device_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(description='event:NodeId, unique per device', max_length=128)),
                ('event', fields.CharField(max_length=32)),
                ('title', fields.CharField(max_length=255)),
                ('body', fields.TextField(unique=False)),
                ('node_id', fields.CharField(default='', description='Node id for a deep link', max_length=128)),
                ('state', fields.CharEnumField(default=PushState.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=PushState, max_length=8)),
                ('attempts', fields.SmallIntField(default=0, description='Claims so far, crashed ones too')),
                ('due_at', UtcDatetimeField(description='PENDING: next attempt, SENDING: end of the lease', auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, description='Claim of the worker', max_length=64)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'push_outbox', 'app': 'models', 'unique_together': (('device', 'key'),), 'indexes': [Index(fields=['state', 'due_at'])], 'pk_attr': 'id', 'table_description': 'One push to one device, rendered when queued, written in the transaction of the'},
            bases=['Model'],
        ),
    ]
