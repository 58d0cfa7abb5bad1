"""Append-only PHI access trail (HIPAA §164.312(b)), chained with a keyed hash (HMAC) so
tampering is detectable by whoever holds the key."""

from __future__ import annotations

from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    MERGE = "merge", "Merged"
    UNMERGE = "unmerge", "Unmerged"
    PRINT = "print", "Printed"
    EXPORT = "export", "Exported"
    REVEAL = "reveal", "Revealed a masked field"
    BREAK_GLASS = "break_glass", "Broke the glass"
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    SYSTEM = "system", "System operation"


class AuditObject(models.TextChoices):
    """What an audit event is about: the `object_type` of every event Frontdesk writes."""

    APPOINTMENT = "appointment", "Appointment"
    APPOINTMENT_SERIES = "appointment_series", "Appointment series"
    APPOINTMENT_SERIES_PLAN = "appointment_series_plan", "Appointment series plan"
    APPOINTMENT_SERIES_PREVIEW = "appointment_series_preview", "Appointment series preview"
    APPOINTMENT_TYPE = "appointment_type", "Appointment type"
    AUDIT_KEY = "audit_key", "Audit key"
    BLOCK = "block", "Block"
    BOOKING_REVIEW = "booking_review", "Booking review"
    CALENDAR_EVENT_TITLE = "calendar_event_title", "Calendar event title"
    CALENDAR_FEED = "calendar_feed", "Calendar feed"
    CARD_FILES_ORPHANED = "card_files_orphaned", "Card files orphaned"
    CHECK_IN = "check_in", "Check in"
    CHECK_OUT = "check_out", "Check out"
    CLINIC = "clinic", "Clinic"
    CLINIC_HOLIDAY = "clinic_holiday", "Clinic holiday"
    COVERAGE = "coverage", "Coverage"
    COVERAGE_CARD = "coverage_card", "Coverage card"
    COVERAGE_FORM = "coverage_form", "Coverage form"
    DAY_VIEW = "day_view", "Day view"
    DELAY_ANNOUNCEMENT = "delay_announcement", "Delay announcement"
    DEMO_OUTBOX = "demo_outbox", "Demo outbox"
    DUPLICATE_CHECK = "duplicate_check", "Duplicate check"
    DUPLICATE_DECISION = "duplicate_decision", "Duplicate decision"
    DUPLICATES_REPORT = "duplicates_report", "Duplicates report"
    EMERGENCY_ALERT = "emergency_alert", "Emergency alert"
    FIND_TIME = "find_time", "Find time"
    FLOW_BOARD = "flow_board", "Flow board"
    FLOW_CLOSE_DAY = "flow_close_day", "Flow close day"
    FLOW_TODAY = "flow_today", "Flow today"
    IDENTITY_DOCUMENT = "identity_document", "Identity document"
    IDENTITY_DOCUMENT_FORM = "identity_document_form", "Identity document form"
    INCOMPLETE_REGISTRATION = "incomplete_registration", "Incomplete registration"
    LATE_ARRIVAL = "late_arrival", "Late arrival"
    LEDGER = "ledger", "Ledger"
    LEDGER_ENTRY = "ledger_entry", "Ledger entry"
    MERGE_COMPARISON = "merge_comparison", "Merge comparison"
    MERGE_START = "merge_start", "Merge start"
    MESSAGE = "message", "Message"
    OUTBOX_LIST = "outbox_list", "Outbox list"
    OUTBOX_MESSAGE = "outbox_message", "Outbox message"
    PATIENT = "patient", "Patient"
    PATIENT_ACCESS_LOG = "patient_access_log", "Patient access log"
    PATIENT_ADDRESS = "patient_address", "Patient address"
    PATIENT_ADDRESS_FORM = "patient_address_form", "Patient address form"
    PATIENT_IMPORT = "patient_import", "Patient import"
    PATIENT_MERGE = "patient_merge", "Patient merge"
    PATIENT_SEARCH = "patient_search", "Patient search"
    PAYER = "payer", "Payer"
    PLAYBOOK = "playbook", "Playbook"
    PROVIDER_ACCOUNT = "provider_account", "Provider account"
    QUEUE_ENTRY = "queue_entry", "Queue entry"
    RECEIPT = "receipt", "Receipt"
    RECENT_PATIENTS = "recent_patients", "Recent patients"
    REMINDER = "reminder", "Reminder"
    SCHEDULE_TEMPLATE = "schedule_template", "Schedule template"
    SIGN_IN_ADDRESS = "sign_in_address", "Sign in address"
    SIGN_IN_ALERT = "sign_in_alert", "Sign in alert"
    SIGN_IN_THROTTLE = "sign_in_throttle", "Sign in throttle"
    STAFF_ACCOUNT = "staff_account", "Staff account"
    SUPERVISOR_NOTICES = "supervisor_notices", "Supervisor notices"
    VISIT_SLIP = "visit_slip", "Visit slip"
    WAITING_ROOM_DISPLAY = "waiting_room_display", "Waiting room display"
    WAITLIST = "waitlist", "Waitlist"
    WAITLIST_ENTRY = "waitlist_entry", "Waitlist entry"
    WAITLIST_ENTRY_FORM = "waitlist_entry_form", "Waitlist entry form"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    WAITLIST_SLOT = "waitlist_slot", "Waitlist slot"
    WALK_IN_DUPLICATES = "walk_in_duplicates", "Walk in duplicates"
    WEEK_VIEW = "week_view", "Week view"
    # Calls, callbacks, contacts and medical questions (inquiries/).
    INQUIRY = "inquiry", "Call or desk inquiry"
    CALLBACK = "callback", "Callback"
    CALLBACK_LIST = "callback_list", "Callback list"
    PATIENT_CONTACT = "patient_contact", "Patient contact"
    MEDICAL_QUESTION = "medical_question", "Medical question"
    MEDICAL_QUESTION_LIST = "medical_question_list", "Medical question list"
    INQUIRY_SETTINGS = "inquiry_settings", "Inquiry settings"
    # Complaints and grievances, office supplies.
    COMPLAINT = "complaint", "Complaint"
    COMPLAINT_LIST = "complaint_list", "Complaint list"
    COMPLAINT_LETTER = "complaint_letter", "Complaint letter"
    COMPLAINT_SETTINGS = "complaint_settings", "Complaint settings"
    PRIVACY_REVIEW = "privacy_review", "Privacy review"
    SUPPLY_ITEM = "supply_item", "Supply item"
    SUPPLY_REORDER_LIST = "supply_reorder_list", "Supply reorder list"
    ELIGIBILITY_CHECK = "eligibility_check", "Eligibility check"
    ELIGIBILITY_RESPONSE = "eligibility_response", "Eligibility response (raw 271)"
    # The patient's estimate and financial assistance (eligibility/estimates.py)
    VISIT_ESTIMATE = "visit_estimate", "Visit estimate"
    GOOD_FAITH_ESTIMATE = "good_faith_estimate", "Good-faith estimate"
    FINANCIAL_ASSISTANCE = "financial_assistance", "Financial assistance"
    # Documents filed to patients, and referrals in and out.
    DOCUMENT = "document", "Document"
    DOCUMENT_CONTENT = "document_content", "Document content"
    DOCUMENT_INBOX = "document_inbox", "Document inbox"
    REFERRAL = "referral", "Referral"
    REFERRAL_LIST = "referral_list", "Referral list"
    REFERRAL_PRACTICE = "referral_practice", "Referral practice"
    # The desk queue (desk/): the page, and the desk's own state of one item of work.
    DESK_QUEUE = "desk_queue", "Desk queue"
    DESK_ITEM = "desk_item", "Desk item"
    REFERRAL_TARGET = "referral_target", "Referral target"
    # Cash drawers and the end of the day (billing/drawer.py).
    CASH_DRAWER = "cash_drawer", "Cash drawer"
    BALANCE_STATEMENT = "balance_statement", "Balance statement"
    # Household links between patients of one family (patients/).
    HOUSEHOLD_LINK = "household_link", "Household link"
    HOUSEHOLD = "household", "Household members"
    # Letters and the patient's correspondence (letters/).
    LETTER = "letter", "Letter"
    LETTER_TEMPLATE = "letter_template", "Letter template"
    CORRESPONDENCE = "correspondence", "Correspondence timeline"
    # Requests for records and the disclosures they lead to (records/).
    RECORDS_REQUEST = "records_request", "Records request"
    RECORDS_REQUEST_LIST = "records_request_list", "Records request list"
    RECORDS_SETTINGS = "records_settings", "Records settings"
    DISCLOSURE = "disclosure", "Disclosure"
    DISCLOSURE_ACCOUNTING = "disclosure_accounting", "Accounting of disclosures"


class AuditEvent(models.Model):
    """One event. Rows are only ever inserted (a trigger refuses UPDATE and DELETE).

    `content_hash` is HMAC-SHA256, under the key named by `key_id`, over the canonical JSON of
    every field below (the patient ids sorted) plus `prev_hash`; `seq` is gap-free and unique, so
    a deleted row shows as a gap and an edited row as a hash mismatch (`frontdesk audit verify`).
    Events written before the chain was keyed have an empty `key_id` and plain SHA-256.
    """

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    clinic_id_value = models.BigIntegerField(null=True, db_column="clinic_id")
    actor_id_value = models.BigIntegerField(null=True, db_column="actor_id")
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    patient_ids = models.JSONField(default=list)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict)
    high_priority = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["occurred_at"]), models.Index(fields=["actor_id_value"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_username or 'system'}"


class AuditEventPatient(models.Model):
    """Index rows so "who accessed this patient" is one indexed lookup. Also append-only; each
    event's set must equal its signed `patient_ids`, which `audit verify` checks."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="patient_links")
    patient_id_value = models.BigIntegerField(db_column="patient_id")

    class Meta:
        indexes = [models.Index(fields=["patient_id_value", "event"])]

    def __str__(self) -> str:
        return f"event {self.event_id} -> patient {self.patient_id_value}"


class AuditChainHead(models.Model):
    """Single row holding the tip of the chain; locked while an event is appended."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    # The key that signs the next event; "" while the chain is unkeyed. Only a hint for
    # `audit_record` (verification trusts the signed events, not this row).
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"audit chain tip #{self.last_seq}"
