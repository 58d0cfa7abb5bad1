"""Clinic set-up: the clinic (tenant), its locations, providers and appointment types."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    """An IANA time zone name, such as America/New_York or Australia/Sydney."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(
            "Enter a time zone such as America/New_York or Europe/London.", code="time_zone"
        ) from None


class Clinic(models.Model):
    """A clinic organisation. Staff and patients belong to exactly one; nothing crosses."""

    name = models.CharField(max_length=200, unique=True)
    # Every local time of the clinic (days, hours, reminders, close of day) is in this zone.
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    # The title of every visit in providers' calendar feeds: never the type of visit, which can
    # reveal a diagnosis to anyone who sees the provider's phone or calendar.
    calendar_event_title = models.CharField(max_length=100, default="Appointment")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(calendar_event_title=""),
                name="clinic_calendar_event_title_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="location_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Provider(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="providers")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    credentials = models.CharField(max_length=40, blank=True)  # MD, DO, NP, PT …
    specialty = models.CharField(max_length=100)
    npi = models.CharField("NPI", max_length=10, blank=True)
    locations = models.ManyToManyField(Location, related_name="providers")
    is_active = models.BooleanField(default=True)
    # The provider's own staff account, if they have one: they may see their calendar feed.
    staff_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="provider",
    )
    # Part of the signed calendar-feed link; raising it revokes every link given out before.
    feed_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(feed_version__gte=1), name="provider_feed_version_positive"
            ),
        ]

    def __str__(self) -> str:
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{self.given_name} {self.family_name}{suffix}"


class AppointmentType(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="appointment_types")
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField()
    is_new_patient = models.BooleanField(default=False)
    colour = models.CharField(max_length=7, default="#4f6d8f")
    preparation = models.TextField(blank=True)
    telehealth = models.BooleanField(default=False)
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    # Empty means every provider may see this type.
    allowed_providers = models.ManyToManyField(
        Provider, blank=True, related_name="appointment_types"
    )
    daily_limit = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most of this type one provider sees in a day."
    )
    grace_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="How late a patient may arrive and still be seen on time."
    )
    follow_up_interval_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="appointment_type_unique_name"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=480),
                name="appointment_type_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"
