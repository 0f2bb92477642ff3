"""Initial schema: areas, roster, accounts, invites, records, audit, outbox and inbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts')),
    sa.UniqueConstraint('name', name=op.f('uq_districts_name'))
    )
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.BigInteger(), nullable=False),
    sa.Column('update_id', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('bot_id', 'update_id', name=op.f('uq_inbox_bot_id_update_id'))
    )
    op.create_index('ix_inbox_bot_id_processed_at', 'inbox', ['bot_id', 'processed_at'], unique=False)

    op.create_table('investigators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=True),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('binding_code_hash', sa.String(length=64), nullable=True),
    sa.Column('binding_code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investigators')),
    sa.UniqueConstraint('binding_code_hash', name=op.f('uq_investigators_binding_code_hash')),
    sa.UniqueConstraint('telegram_user_id', name=op.f('uq_investigators_telegram_user_id'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_api_tokens_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('name', name=op.f('uq_api_tokens_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum('reviewer', 'admin', name='staffrole', native_enum=False, length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_staff_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_username'))
    )
    op.create_table('streets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_streets_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_streets')),
    sa.UniqueConstraint('district_id', 'name', name=op.f('uq_streets_district_id_name'))
    )
    op.create_index(op.f('ix_streets_district_id'), 'streets', ['district_id'], unique=False)

    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_communities_district_id_districts')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_communities_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('street_id', 'name', name=op.f('uq_communities_street_id_name'))
    )
    op.create_index(op.f('ix_communities_district_id'), 'communities', ['district_id'], unique=False)
    op.create_index(op.f('ix_communities_street_id'), 'communities', ['street_id'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_households_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('community_id', 'number', name=op.f('uq_households_community_id_number'))
    )
    op.create_index(op.f('ix_households_community_id'), 'households', ['community_id'], unique=False)

    op.create_table('investigator_communities',
    sa.Column('investigator_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_investigator_communities_community_id_communities')),
    sa.ForeignKeyConstraint(['investigator_id'], ['investigators.id'], name=op.f('fk_investigator_communities_investigator_id_investigators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('investigator_id', 'community_id', name=op.f('pk_investigator_communities'))
    )
    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=True),
    sa.Column('residence_address', sa.Text(), nullable=True),
    sa.Column('hukou_address', sa.Text(), nullable=True),
    sa.Column('insured_members', sa.JSON(), nullable=False),
    sa.Column('insured_members_raw', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('on_roster', sa.Boolean(), nullable=False),
    sa.Column('added_by_investigator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_investigator_id'], ['investigators.id'], name=op.f('fk_persons_added_by_investigator_id_investigators')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_persons_community_id_communities')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_persons_district_id_districts')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_persons_household_id_households')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_persons_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('id_number', name=op.f('uq_persons_id_number'))
    )
    op.create_index(op.f('ix_persons_community_id'), 'persons', ['community_id'], unique=False)
    op.create_index(op.f('ix_persons_district_id'), 'persons', ['district_id'], unique=False)
    op.create_index(op.f('ix_persons_household_id'), 'persons', ['household_id'], unique=False)

    op.create_table('invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_channel', sa.Enum('telegram', 'web', name='channel', native_enum=False, length=16), nullable=True),
    sa.Column('verified_chat_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_invites_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invites')),
    sa.UniqueConstraint('code', name=op.f('uq_invites_code')),
    sa.UniqueConstraint('person_id', name=op.f('uq_invites_person_id'))
    )
    op.create_table('records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('live_person_id', sa.Integer(), nullable=True),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'confirmed', name='recordstatus', native_enum=False, length=16), nullable=False),
    sa.Column('filled_by', sa.Enum('resident', 'investigator', name='filledby', native_enum=False, length=16), nullable=False),
    sa.Column('investigator_id', sa.Integer(), nullable=True),
    sa.Column('notify_channel', sa.Enum('telegram', 'web', name='channel', native_enum=False, length=16), nullable=True),
    sa.Column('notify_chat_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('duplicate_attempts', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('collection_status', sa.String(length=32), nullable=True),
    sa.Column('not_collected_reason', sa.String(length=32), nullable=True),
    sa.Column('insured_status', sa.String(length=32), nullable=True),
    sa.Column('current_status', sa.String(length=32), nullable=True),
    sa.Column('employer_name', sa.String(length=200), nullable=True),
    sa.Column('return_comment', sa.Text(), nullable=True),
    sa.Column('return_fields', sa.JSON(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.Column('enrolled_at', sa.Date(), nullable=True),
    sa.Column('enrolled_insurance', sa.String(length=64), nullable=True),
    sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_records_community_id_communities')),
    sa.ForeignKeyConstraint(['confirmed_by'], ['staff.id'], name=op.f('fk_records_confirmed_by_staff')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_records_district_id_districts')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_records_household_id_households')),
    sa.ForeignKeyConstraint(['investigator_id'], ['investigators.id'], name=op.f('fk_records_investigator_id_investigators')),
    sa.ForeignKeyConstraint(['live_person_id'], ['persons.id'], name=op.f('fk_records_live_person_id_persons')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_records_person_id_persons')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_records_street_id_streets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records')),
    sa.UniqueConstraint('live_person_id', name=op.f('uq_records_live_person_id'))
    )
    op.create_index('ix_records_community_id_status', 'records', ['community_id', 'status'], unique=False)
    op.create_index('ix_records_district_id_status', 'records', ['district_id', 'status'], unique=False)
    op.create_index(op.f('ix_records_household_id'), 'records', ['household_id'], unique=False)
    op.create_index(op.f('ix_records_investigator_id'), 'records', ['investigator_id'], unique=False)
    op.create_index(op.f('ix_records_person_id'), 'records', ['person_id'], unique=False)
    op.create_index('ix_records_status_updated_at', 'records', ['status', 'updated_at'], unique=False)
    op.create_index('ix_records_street_id_status', 'records', ['street_id', 'status'], unique=False)
    op.create_index(op.f('ix_records_submitted_at'), 'records', ['submitted_at'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_label', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_audit_events_person_id_persons')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_audit_events_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_action'), 'audit_events', ['action'], unique=False)
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'], unique=False)
    op.create_index(op.f('ix_audit_events_person_id'), 'audit_events', ['person_id'], unique=False)
    op.create_index(op.f('ix_audit_events_record_id'), 'audit_events', ['record_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('telegram', 'web', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('dedup_key', sa.String(length=128), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gave_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_outbox_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_outbox_dedup_key'))
    )
    op.create_index('ix_outbox_pending', 'outbox', ['sent_at', 'gave_up_at', 'next_attempt_at'], unique=False)

    op.create_table('record_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_label', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_revisions_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_revisions')),
    sa.UniqueConstraint('record_id', 'n', name=op.f('uq_record_revisions_record_id_n'))
    )


def downgrade() -> None:
    op.drop_table('record_revisions')
    op.drop_index('ix_outbox_pending', table_name='outbox')

    op.drop_table('outbox')
    op.drop_index(op.f('ix_audit_events_record_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_person_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_at'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_action'), table_name='audit_events')

    op.drop_table('audit_events')
    op.drop_index(op.f('ix_records_submitted_at'), table_name='records')
    op.drop_index('ix_records_street_id_status', table_name='records')
    op.drop_index('ix_records_status_updated_at', table_name='records')
    op.drop_index(op.f('ix_records_person_id'), table_name='records')
    op.drop_index(op.f('ix_records_investigator_id'), table_name='records')
    op.drop_index(op.f('ix_records_household_id'), table_name='records')
    op.drop_index('ix_records_district_id_status', table_name='records')
    op.drop_index('ix_records_community_id_status', table_name='records')

    op.drop_table('records')
    op.drop_table('invites')
    op.drop_index(op.f('ix_persons_household_id'), table_name='persons')
    op.drop_index(op.f('ix_persons_district_id'), table_name='persons')
    op.drop_index(op.f('ix_persons_community_id'), table_name='persons')

    op.drop_table('persons')
    op.drop_table('investigator_communities')
    op.drop_index(op.f('ix_households_community_id'), table_name='households')

    op.drop_table('households')
    op.drop_index(op.f('ix_communities_street_id'), table_name='communities')
    op.drop_index(op.f('ix_communities_district_id'), table_name='communities')

    op.drop_table('communities')
    op.drop_index(op.f('ix_streets_district_id'), table_name='streets')

    op.drop_table('streets')
    op.drop_table('staff')
    op.drop_table('api_tokens')
    op.drop_table('investigators')
    op.drop_index('ix_inbox_bot_id_processed_at', table_name='inbox')

    op.drop_table('inbox')
    op.drop_table('districts')
