from tortoise import migrations
from tortoise.migrations import operations as ops
from models.auth import HoldState, ProofPurpose, SecurityEventKind, TokenPurpose
from models.base import UtcDatetimeField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class AlterEnumDescription(ops.AlterField):
    """TokenPurpose gains HOLD_CANCEL and FREEZE, SecurityEventKind PROOF_HELD,
    PROOF_HOLD_CANCELED, FROZEN and UNFROZEN: the columns (VARCHAR) hold them as they are,
    only the description Tortoise keeps changes. Altering the columns for real rebuilds the
    tables on SQLite and loses their indexes, so only the state moves (as in 0014)."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0017_guest')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProofHold',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('purpose', fields.CharEnumField(description='REGISTER: register\nLINK: link\nRECOVERY: recovery', enum_type=ProofPurpose, max_length=16)),
                ('state', fields.CharEnumField(default=HoldState.HELD, description='HELD: held\nCANCELED: canceled\nDONE: done\nFAILED: failed', enum_type=HoldState, max_length=16)),
                ('cabinet', fields.ForeignKeyField('models.Cabinet', source_field='cabinet_id', description='The cabinet the change applies to (recovered, linking, registered)', db_constraint=True, to_field='id', related_name='proof_holds', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='proof_holds', on_delete=OnDelete.CASCADE)),
                ('attempt', fields.ForeignKeyField('models.ProofAttempt', source_field='attempt_id', null=True, db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.SET_NULL)),
                ('new_email', fields.CharField(default='', description='Recovery: the address', max_length=254)),
                ('password_hash', fields.CharField(default='', description='Recovery', max_length=255)),
                ('ip', fields.CharField(default='', max_length=64)),
                ('user_agent', fields.CharField(default='', max_length=300)),
                ('until', UtcDatetimeField(description='When the change takes effect unless canceled', auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(default='', max_length=64)),
                ('created_at', UtcDatetimeField(auto_now=False, auto_now_add=False)),
                ('done_at', UtcDatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'proof_hold', 'app': 'models', 'indexes': [Index(fields=['state', 'until']), Index(fields=['account_id', 'state'])], 'pk_attr': 'id', 'table_description': 'A recovery, link or registration proven with a suspicious payment'},
            bases=['Model'],
        ),
        AlterEnumDescription(
            model_name='ActionToken',
            name='purpose',
            field=fields.CharEnumField(description='VERIFY_EMAIL: verify_email\nCHANGE_EMAIL: change_email\nRESET_PASSWORD: reset_password\nRECOVERY: recovery\nRECOVERY_LINK: recovery_link\nERECEIPT_EMAIL: ereceipt_email\nHOLD_CANCEL: hold_cancel\nFREEZE: freeze', enum_type=TokenPurpose, max_length=24),
        ),
        ops.AddField(
            model_name='Cabinet',
            name='frozen_at',
            field=UtcDatetimeField(null=True, description='When the owner said "this wasn\'t me" from a security notice: no login, no recovery, no sessions until a specialist unfreezes it', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ProofAttempt',
            name='payment',
            field=fields.ForeignKeyField('models.Payment', source_field='payment_id', null=True, description='The ledger payment whose amount a successful proof matched', db_constraint=True, to_field='id', related_name='proof_attempts', on_delete=OnDelete.SET_NULL),
        ),
        AlterEnumDescription(
            model_name='SecurityEvent',
            name='kind',
            field=fields.CharEnumField(description='REGISTERED: registered\nEMAIL_VERIFIED: email_verified\nLOGIN: login\nLOGIN_FAILED: login_failed\nLOGOUT: logout\nLOGOUT_EVERYWHERE: logout_everywhere\nSESSION_REVOKED: session_revoked\nPASSWORD_RESET_REQUESTED: password_reset_requested\nPASSWORD_CHANGED: password_changed\nEMAIL_CHANGE_REQUESTED: email_change_requested\nEMAIL_CHANGED: email_changed\nACCOUNT_LINKED: account_linked\nACCOUNT_UNLINKED: account_unlinked\nRECOVERY_STARTED: recovery_started\nRECOVERY_EMAIL_REQUESTED: recovery_email_requested\nRECOVERY_COMPLETED: recovery_completed\nPRIVACY_NOTICE_ACCEPTED: privacy_notice_accepted\nPROOF_HELD: proof_held\nPROOF_HOLD_CANCELED: proof_hold_canceled\nFROZEN: frozen\nUNFROZEN: unfrozen', enum_type=SecurityEventKind, max_length=32),
        ),
    ]
