from tortoise import migrations
from tortoise.migrations import operations as ops
from models.auth import ProofOutcome, ProofPurpose, SecurityEventKind, TokenPurpose
from models.base import UtcDatetimeField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_mail_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProofAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('purpose', fields.CharEnumField(description='REGISTER: register\nLINK: link\nRECOVERY: recovery', enum_type=ProofPurpose, max_length=16)),
                ('account_number', fields.CharField(max_length=64)),
                ('outcome', fields.CharEnumField(default=ProofOutcome.PENDING, description='PENDING: pending\nSUCCESS: success\nINVALID_PROOF: invalid_proof\nNO_RECENT_PAYMENTS: no_recent_payments\nTOO_MANY_ATTEMPTS: too_many_attempts\nNO_CABINET: no_cabinet', enum_type=ProofOutcome, max_length=24)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', null=True, db_constraint=True, to_field='id', related_name='proof_attempts', on_delete=OnDelete.SET_NULL)),
                ('ip', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=300)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'proof_attempt', 'app': 'models', 'indexes': [Index(fields=['account_number', 'created_at'])], 'pk_attr': 'id', 'table_description': 'Every attempt to prove ownership of an account, kept for support staff.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ActionToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_index=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='VERIFY_EMAIL: verify_email\nCHANGE_EMAIL: change_email\nRESET_PASSWORD: reset_password\nRECOVERY: recovery\nRECOVERY_LINK: recovery_link', enum_type=TokenPurpose, max_length=24)),
                ('email', fields.CharField(default='', description='Address it is bound to', max_length=254)),
                ('recovery', fields.ForeignKeyField('models.ProofAttempt', source_field='recovery_id', null=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.SET_NULL)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('voided_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'action_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The server-side half of a signed, single-use, time-limited token.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=300)),
                ('count', fields.IntField(default=0)),
                ('window_start', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('blocked_until', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rate_counter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A fixed-window attempt counter (proof of ownership, login), updated atomically.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SecurityEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_constraint=True, to_field='id', related_name='security_events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='REGISTERED: registered\nEMAIL_VERIFIED: email_verified\nLOGIN: login\nLOGIN_FAILED: login_failed\nLOGOUT: logout\nLOGOUT_EVERYWHERE: logout_everywhere\nSESSION_REVOKED: session_revoked\nPASSWORD_RESET_REQUESTED: password_reset_requested\nPASSWORD_CHANGED: password_changed\nEMAIL_CHANGE_REQUESTED: email_change_requested\nEMAIL_CHANGED: email_changed\nACCOUNT_LINKED: account_linked\nACCOUNT_UNLINKED: account_unlinked\nRECOVERY_STARTED: recovery_started\nRECOVERY_EMAIL_REQUESTED: recovery_email_requested\nRECOVERY_COMPLETED: recovery_completed', enum_type=SecurityEventKind, max_length=32)),
                ('ip', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=300)),
                ('detail', fields.CharField(default='', max_length=300)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'security_event', 'app': 'models', 'indexes': [Index(fields=['cabinet_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "The cabinet's own log of security-relevant events, shown to its owner."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', db_index=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', UtcDatetimeField(description='Absolute end, whatever the activity', auto_now=False, auto_now_add=False)),
                ('revoked_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ip', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=300)),
            ],
            options={'table': 'session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A login on one device. Only the SHA-256 of the bearer/cookie token is stored.'},
            bases=['Model'],
        ),
    ]
