from __future__ import annotations

from django.db import migrations, models

# Added with plain SQL: Django adds a NOT NULL column on SQLite by rebuilding the table, which
# drops the triggers that refuse double bookings there (migration 0002). The column keeps its
# empty default in the database; Django always writes the value itself.
ADD = "ALTER TABLE scheduling_appointment ADD COLUMN reason varchar(100) DEFAULT '' NOT NULL"
DROP = "ALTER TABLE scheduling_appointment DROP COLUMN reason"


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0006_waitlist_offer_withdrawn_for_booking"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, DROP)],
            state_operations=[
                migrations.AddField(
                    model_name="appointment",
                    name="reason",
                    field=models.CharField(blank=True, max_length=100),
                ),
            ],
        ),
    ]
