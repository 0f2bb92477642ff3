"""The central store's tables (SQLAlchemy 2 declarative, portable types only).

Areas form a tree: 区 (:class:`District`) → 街道 (:class:`Street`) → 社区
(:class:`Community`); households (户号) and the roster's target persons hang below a
community. Lower levels repeat the ids of the levels above them (``district_id``,
``street_id``), so scoping a staff member to a district and counting progress per area
never needs a join through the tree.

A :class:`Record` is one person's form: its conversation state (the form engine's JSON)
is saved after every answer, each submission is kept as a :class:`RecordRevision`, and
every mutation writes an :class:`AuditEvent`. :class:`Outbox` carries notifications to
chat users and :class:`InboxUpdate` the chat updates received, so neither a crash nor a
duplicate delivery loses or doubles anything.

Only portable types are used (``JSON``, ``String``, :class:`~storage.types.UTCDateTime`),
so the same models and migrations run on SQLite and PostgreSQL. JSON columns are not
mutation-tracked: assign a new value (``record.flags = [*record.flags, "x"]``) instead of
changing the old one in place.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from storage.crypto import blind_index
from storage.types import EncryptedJSON, EncryptedText, UTCDateTime, utcnow

# Stable constraint names, so migrations can refer to them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table in the store."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    # Stored as plain strings (no native ENUM type) so SQLite and PostgreSQL agree and a new value
    # never needs an ALTER TYPE.
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class RecordStatus(enum.StrEnum):
    """Where a record is in review: draft → submitted → confirmed, or returned → resubmitted."""

    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    confirmed = "confirmed"


class FilledBy(enum.StrEnum):
    """Who filled a record in."""

    resident = "resident"
    investigator = "investigator"


class Channel(enum.StrEnum):
    """The channel a chat user is reached through."""

    telegram = "telegram"
    web = "web"


class ContactOutcome(enum.StrEnum):
    """How an attempt to reach a roster person ended (the contact log's 联系结果).

    ``invited`` is written by the system when an invite goes out (the call list / invite
    export); the others are what a caller or a visiting investigator records.
    """

    notified = "notified"
    no_answer = "no_answer"
    wrong_number = "wrong_number"
    refused = "refused"
    insured_elsewhere = "insured_elsewhere"
    invited = "invited"


class StaffRole(enum.StrEnum):
    """A staff member's role: reviewers review; admins also manage accounts."""

    reviewer = "reviewer"
    admin = "admin"


class TimestampMixin:
    """``created_at`` / ``updated_at``, set by the application in UTC."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# ---------------------------------------------------------------------------------------- areas


class District(Base):
    """A district (区), e.g. 姑苏区."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    code: Mapped[str | None] = mapped_column(String(6))

    streets: Mapped[list[Street]] = relationship(back_populates="district")


class Street(Base):
    """A street (街道) or town within a district."""

    __tablename__ = "streets"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))

    district: Mapped[District] = relationship(back_populates="streets")
    communities: Mapped[list[Community]] = relationship(back_populates="street")


class Community(Base):
    """A community (社区); keeps its district's id too, for scoping without a join."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))

    street: Mapped[Street] = relationship(back_populates="communities")
    district: Mapped[District] = relationship()

    @property
    def path(self) -> str:
        """``区/街道/社区`` (needs ``street`` and ``street.district`` loaded)."""
        return f"{self.street.district.name}/{self.street.name}/{self.name}"


class Household(Base):
    """A household (户) of the roster; 户号 is unique within its community."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))

    community: Mapped[Community] = relationship()


class Person(TimestampMixin, Base):
    """A target person: one roster row, or someone an investigator added (``on_roster`` False).

    Their status on the way to a confirmed form is derived, never stored: see
    :mod:`storage.person_status`.

    ``insured_members`` is the household's already-insured family members as given on the
    roster, a list of ``{"姓名", "关系", "联系电话"}``; when the roster's text could not be
    parsed it is kept verbatim in ``insured_members_raw``. ``extra`` keeps the roster's extra
    columns as notes.
    """

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    # Sealed with SM4 (storage.crypto); every lookup goes through the blind indexes below,
    # kept by the validator at the end of the class (the roster import writes them itself).
    name: Mapped[str] = mapped_column(EncryptedText("persons.name"))
    id_number: Mapped[str] = mapped_column(
        EncryptedText("persons.id_number", index=("id_number", "id_number_index"))
    )
    mobile: Mapped[str | None] = mapped_column(
        EncryptedText("persons.mobile", index=("mobile", "mobile_index"))
    )
    id_number_index: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    mobile_index: Mapped[str | None] = mapped_column(String(64), index=True)
    residence_address: Mapped[str | None] = mapped_column(
        EncryptedText("persons.residence_address")
    )
    hukou_address: Mapped[str | None] = mapped_column(EncryptedText("persons.hukou_address"))
    insured_members: Mapped[list[Any]] = mapped_column(
        EncryptedJSON("persons.insured_members"), default=list
    )
    insured_members_raw: Mapped[str | None] = mapped_column(
        EncryptedText("persons.insured_members_raw")
    )
    extra: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("persons.extra"), default=dict)
    on_roster: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by_investigator_id: Mapped[int | None] = mapped_column(ForeignKey("investigators.id"))
    # The newest entry of the contact log (kept by storage.repositories.contacts, the only
    # writer), so a person's status is read without touching the log.
    last_contact_on: Mapped[dt.date | None] = mapped_column(Date)
    last_contact_outcome: Mapped[ContactOutcome | None] = mapped_column(_enum(ContactOutcome, 20))

    household: Mapped[Household] = relationship()
    community: Mapped[Community] = relationship()

    @validates("id_number", "mobile")
    def _index(self, key: str, value: str | None) -> str | None:
        if key == "id_number":
            self.id_number_index = id_number_index(value)  # type: ignore[assignment]
        else:
            self.mobile_index = mobile_index(value)
        return value


def id_number_index(value: str | None) -> str | None:
    """The blind index of a 公民身份号码 as stored (normalised by ``flows.values``)."""
    return blind_index("id_number", value)


def mobile_index(value: str | None) -> str | None:
    """The blind index of a mobile number as stored (11 digits, ``flows.values``)."""
    return blind_index("mobile", value)


class DataKey(Base):
    """One row per encryption key that has sealed data here: a known text sealed under it and
    the blind index of a known text, so a start with the wrong key file stops before it reads
    or writes anything (:func:`storage.keys.verify_keys`). Holds no key."""

    __tablename__ = "data_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    probe: Mapped[str] = mapped_column(Text)
    index_probe: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ------------------------------------------------------------------------------------- accounts

investigator_communities = Table(
    "investigator_communities",
    Base.metadata,
    Column("investigator_id", ForeignKey("investigators.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("communities.id"), primary_key=True),
)


class Investigator(TimestampMixin, Base):
    """An investigator (调查员), bound to one Telegram account through a one-time code.

    Only the SHA-256 of the binding code is stored; the code is shown once when the account is made.
    """

    __tablename__ = "investigators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(20))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    binding_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    binding_code_expires_at: Mapped[dt.datetime | None]
    bound_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    communities: Mapped[list[Community]] = relationship(secondary=investigator_communities)

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


class Staff(TimestampMixin, Base):
    """A staff member of the console: one district (``district_id``) or the whole city (None)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(64))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole), default=StaffRole.reviewer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[dt.datetime | None]
    # Set for a password someone else chose (``canbao staff add``): the console asks for a new
    # one before anything else.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    password_changed_at: Mapped[dt.datetime | None]

    district: Mapped[District | None] = relationship()


class StaffSession(Base):
    """A console sign-in, checked on every request (the cookie carries only its random token,
    of which the SHA-256 is kept here). Logout, a password change and disabling the account
    end every sign-in of that account (``ended_at``); so do the idle and absolute timeouts."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(64))


class LoginLimit(Base):
    """Failed sign-ins counted per key (an account, an account from one address, an address)
    within a window that starts at the first failure; shared by every worker and kept across
    restarts."""

    __tablename__ = "login_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(index=True)


class ApiToken(Base):
    """A bearer token of the central system's API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    # Client addresses the token has been used from (the latest few); a new one is audited.
    known_addresses: Mapped[list[Any] | None] = mapped_column(JSON)


class Invite(Base):
    """A resident's invite: one per person, an unguessable code for the deep link.

    ``failed_attempts`` counts wrong identity proofs; at 5 the invite locks (``locked_at``).
    """

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[dt.datetime | None]
    verified_at: Mapped[dt.datetime | None]
    verified_channel: Mapped[Channel | None] = mapped_column(_enum(Channel))
    verified_chat_id: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship()


# -------------------------------------------------------------------------------------- records


class Record(TimestampMixin, Base):
    """One person's form, filled with one form version.

    ``state`` is the form engine's conversation state (it carries ``form_id``/``form_version``).
    ``live_person_id`` equals ``person_id`` while the record is live and is cleared when a draft is
    discarded; its unique constraint is the duplicate guard (one live record per 公民身份号码) on
    every engine. ``version`` is the optimistic-concurrency counter: a stale write raises.
    The columns after ``flags`` are copies of answers kept for fast progress and queue queries.
    """

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_status_updated_at", "status", "updated_at"),
        # The review queue: newest submissions first within a status.
        Index("ix_records_status_submitted_at", "status", "submitted_at"),
        Index("ix_records_district_id_status", "district_id", "status"),
        Index("ix_records_community_id_status", "community_id", "status"),
        Index("ix_records_street_id_status", "street_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    live_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), unique=True)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[RecordStatus] = mapped_column(_enum(RecordStatus), default=RecordStatus.draft)
    filled_by: Mapped[FilledBy] = mapped_column(_enum(FilledBy))
    investigator_id: Mapped[int | None] = mapped_column(ForeignKey("investigators.id"), index=True)
    notify_channel: Mapped[Channel | None] = mapped_column(_enum(Channel))
    notify_chat_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("records.state"), default=dict)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    duplicate_attempts: Mapped[int] = mapped_column(Integer, default=0)

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    collection_status: Mapped[str | None] = mapped_column(String(32))
    not_collected_reason: Mapped[str | None] = mapped_column(String(32))
    insured_status: Mapped[str | None] = mapped_column(String(32))
    current_status: Mapped[str | None] = mapped_column(String(32))
    employer_name: Mapped[str | None] = mapped_column(String(200))
    # The blind index of the 公民身份号码 the answers give (the number itself is in the sealed
    # state): another person's number in a record is found by it
    # (storage.repositories.records.identity_check).
    answered_id_index: Mapped[str | None] = mapped_column(String(64), index=True)
    # Telegram: the record version whose question was first shown in the chat message
    # ``asked_message_id``; a typed text answers it only when written after that message. Kept
    # with the record so that a restart does not lose it (not a change of the record: written
    # without moving ``version`` or ``updated_at``).
    asked_version: Mapped[int | None] = mapped_column(Integer)
    asked_message_id: Mapped[int | None] = mapped_column(BigInteger)

    return_comment: Mapped[str | None] = mapped_column(Text)
    return_fields: Mapped[list[Any] | None] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    enrolled_at: Mapped[dt.date | None] = mapped_column(Date)
    enrolled_insurance: Mapped[str | None] = mapped_column(String(64))
    discarded_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it as is)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    investigator: Mapped[Investigator | None] = relationship()
    revisions: Mapped[list[RecordRevision]] = relationship(
        back_populates="record", order_by="RecordRevision.n"
    )

    @property
    def answered_id_number(self) -> str | None:
        """The 公民身份号码 the answers give (kept only inside the sealed state)."""
        state = self.state if isinstance(self.state, dict) else {}
        return answered_id_number(state.get("answers"))

    @property
    def editable(self) -> bool:
        """Whether the filler may still change answers (draft, or returned for a fix)."""
        return self.discarded_at is None and self.status in (
            RecordStatus.draft,
            RecordStatus.returned,
        )


# The answer that names the person (the form's ``derive_from``).
ID_ANSWER = "id_number"


def answered_id_number(answers: object) -> str | None:
    """The 公民身份号码 a record's answers give, when they give a whole one."""
    value = answers.get(ID_ANSWER) if isinstance(answers, dict) else None
    return value if isinstance(value, str) and len(value) == 18 else None


class RecordRevision(Base):
    """One submitted (or corrected) version of a record's answers; never changed afterwards."""

    __tablename__ = "record_revisions"
    __table_args__ = (UniqueConstraint("record_id", "n"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    n: Mapped[int] = mapped_column(Integer)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("record_revisions.answers"))
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)

    record: Mapped[Record] = relationship(back_populates="revisions")


class AuditEvent(Base):
    """Who did what to which record or person, when, from which channel, and why."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(48), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Contact(Base):
    """One attempt to reach a person (电话联系、上门): when, by whom, how it ended, a note.

    ``contacted_on`` is the survey day the contact happened (Beijing time); ``channel`` is
    where it was recorded: ``console``, ``telegram``, ``import`` (a file) or ``invite`` (an
    invite sent with the call list). Written only by :mod:`storage.repositories.contacts`,
    which also keeps the person's ``last_contact_*`` columns and the audit log.
    """

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_person_id_contacted_on", "person_id", "contacted_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    contacted_on: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[ContactOutcome] = mapped_column(_enum(ContactOutcome, 20))
    note: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(128))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    investigator_id: Mapped[int | None] = mapped_column(ForeignKey("investigators.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# ------------------------------------------------------------------------------ outbox / inbox


class Outbox(Base):
    """A notification waiting to be sent to a chat user (at least once, deduplicated by key).

    ``chat_id`` is the channel's own identifier as text (Telegram: the numeric chat id).
    A claimed row gets ``next_attempt_at`` moved forward by a lease, so a sender that dies
    mid-send leaves it to be claimed again; ``gave_up_at`` is set after too many failures.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "gave_up_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("outbox.payload"))
    dedup_key: Mapped[str] = mapped_column(String(128), unique=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    gave_up_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class InboxUpdate(Base):
    """A chat update as received, recorded before it is handled (``processed_at`` after)."""

    __tablename__ = "inbox"
    __table_args__ = (
        # Update ids may start again after a quiet week: the content tells two updates apart.
        UniqueConstraint("bot_id", "update_id", "fingerprint"),
        Index("ix_inbox_bot_id_processed_at", "bot_id", "processed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(BigInteger)
    update_id: Mapped[int] = mapped_column(BigInteger)
    # storage.repositories.inbox.fingerprint of the payload.
    fingerprint: Mapped[int] = mapped_column(BigInteger, server_default="0")
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("inbox.payload"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------------------------- badges


class Badge(Base):
    """An investigator's badge (工作牌, 五.2): residents check it at the door by its QR code.

    ``number`` is random (80 bits), so a badge cannot be guessed from another; the page it
    opens says from the store whether the badge is valid today (between ``valid_from`` and
    ``valid_until``, not revoked, its investigator not revoked) and the community office's
    phone, which is kept with the badge as printed on it.
    """

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    investigator_id: Mapped[int] = mapped_column(ForeignKey("investigators.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    office_phone: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(128))
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    # The card's photo (optional): a small JPEG made from the uploaded picture, without its
    # metadata (bot.printing.badge.badge_photo).
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)

    investigator: Mapped[Investigator] = relationship()
    community: Mapped[Community] = relationship()


class CityNote(Base):
    """A district's note to the city centre (典型事例和重大事项报送, 五.7): a problem or a notable
    practice, with an optional link to records in the console; the city marks it read and
    answers it."""

    __tablename__ = "city_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    author_label: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None]
    read_by: Mapped[str | None] = mapped_column(String(128))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(128))

    district: Mapped[District] = relationship()


# ------------------------------------------------------------------ investigators in a browser


class InvestigatorLink(Base):
    """A one-time sign-in link of an investigator's browser (``/i/login/<token>``).

    Only the SHA-256 of the token is kept. It signs in once (``used_at``), on the browser whose
    device cookie's hash is ``device_hash``; the session it starts is bound to that device.
    """

    __tablename__ = "investigator_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    investigator_id: Mapped[int] = mapped_column(ForeignKey("investigators.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    device_hash: Mapped[str | None] = mapped_column(String(64))


class InvestigatorSession(Base):
    """An investigator's browser sign-in, checked on every request like a console sign-in
    (:class:`StaffSession`): the cookie holds a random token, this row its SHA-256."""

    __tablename__ = "investigator_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    investigator_id: Mapped[int] = mapped_column(ForeignKey("investigators.id"), index=True)
    device_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(64))


class InvestigatorAction(Base):
    """An action of the investigator's page, known by the id the page gave it: applied once,
    whatever number of times a flaky connection delivers it (the web's inbox).

    ``result_version`` is the record's version after an accepted step (None when the engine
    refused it), so an action queued offline right after this one applies only on top of it.
    """

    __tablename__ = "investigator_actions"
    __table_args__ = (UniqueConstraint("investigator_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigator_id: Mapped[int] = mapped_column(ForeignKey("investigators.id"))
    action_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    result_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
