"""Sessions signed in before StaffBackend name Django's ModelBackend, which is no longer listed
in AUTHENTICATION_BACKENDS: Django would sign every one of them out at the upgrade. Point them
at StaffBackend instead. Reversing it points them back at ModelBackend, for going back to the
release before StaffBackend, which lists only ModelBackend."""

from django.db import migrations

OLD = "django.contrib.auth.backends.ModelBackend"
NEW = "frontdesk.accounts.backends.StaffBackend"
KEY = "_auth_user_backend"  # django.contrib.auth.BACKEND_SESSION_KEY


def _rename(apps, frm, to):
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    Session = apps.get_model("sessions", "Session")
    codec = SessionStore()
    live = Session.objects.filter(expire_date__gt=timezone.now())
    for session in live.iterator():
        data = codec.decode(session.session_data)
        if data.get(KEY) == frm:
            data[KEY] = to
            session.session_data = codec.encode(data)
            session.save(update_fields=["session_data"])


def forwards(apps, schema_editor):
    _rename(apps, OLD, NEW)


def backwards(apps, schema_editor):
    _rename(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("sessions", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
