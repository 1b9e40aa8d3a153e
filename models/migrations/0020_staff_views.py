from tortoise import migrations
from tortoise.migrations import operations as ops
from models.auth import SecurityEventKind
from tortoise import fields


class AlterEnumDescription(ops.AlterField):
    """SecurityEventKind gains STAFF_VIEWED: the column (VARCHAR(32)) holds it as it is,
    only the description Tortoise keeps changes. Altering the column for real rebuilds the
    table on SQLite and loses its indexes, so only the state moves (as 0014 did)."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0019_reminders')]

    initial = False

    operations = [
        AlterEnumDescription(
            model_name='SecurityEvent',
            name='kind',
            field=fields.CharEnumField(description='REGISTERED: registered\nEMAIL_VERIFIED: email_verified\nLOGIN: login\nLOGIN_FAILED: login_failed\nLOGOUT: logout\nLOGOUT_EVERYWHERE: logout_everywhere\nSESSION_REVOKED: session_revoked\nPASSWORD_RESET_REQUESTED: password_reset_requested\nPASSWORD_CHANGED: password_changed\nEMAIL_CHANGE_REQUESTED: email_change_requested\nEMAIL_CHANGED: email_changed\nACCOUNT_LINKED: account_linked\nACCOUNT_UNLINKED: account_unlinked\nRECOVERY_STARTED: recovery_started\nRECOVERY_EMAIL_REQUESTED: recovery_email_requested\nRECOVERY_COMPLETED: recovery_completed\nPRIVACY_NOTICE_ACCEPTED: privacy_notice_accepted\nPROOF_HELD: proof_held\nPROOF_HOLD_CANCELED: proof_hold_canceled\nFROZEN: frozen\nUNFROZEN: unfrozen\nSTAFF_VIEWED: staff_viewed', enum_type=SecurityEventKind, max_length=32),
        ),
    ]
