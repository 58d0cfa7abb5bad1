"""Cash drawers, their close-outs and reviews; refunds and voids as reversing entries.

The ledger's triggers are dropped first and recreated last: SQLite rebuilds the table to change
its constraints (losing every trigger), and the append-only guard must cover the new columns.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from frontdesk.billing.triggers import (
    COLUMNS,
    COLUMNS_0003,
    ledger_clinic_triggers_create,
    ledger_clinic_triggers_drop,
    ledger_patient_clinic_triggers_create,
    ledger_patient_clinic_triggers_drop,
    ledger_triggers_create,
    ledger_triggers_drop,
)


def drop_triggers(apps, schema_editor):
    ledger_triggers_drop(schema_editor.connection)
    ledger_clinic_triggers_drop(schema_editor.connection)
    ledger_patient_clinic_triggers_drop(schema_editor.connection)


def _create(schema_editor, columns):
    ledger_triggers_create(schema_editor.connection, columns)
    ledger_clinic_triggers_create(schema_editor.connection)
    ledger_patient_clinic_triggers_create(schema_editor.connection)


def create_triggers(apps, schema_editor):
    _create(schema_editor, COLUMNS)


def create_old_triggers(apps, schema_editor):
    _create(schema_editor, COLUMNS_0003)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0005_ledger_entries_for_their_patients_clinic'),
        ('clinic', '0005_clinic_time_zone_validated'),
        ('patients', '0011_coverage_member_id_search'),
        ('scheduling', '0007_appointment_reason'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_triggers, create_old_triggers),
        migrations.CreateModel(
            name='CashDrawer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('business_day', models.DateField()),
                ('opening_float', models.DecimalField(decimal_places=2, max_digits=10)),
                ('opened_at', models.DateTimeField()),
                ('status', models.CharField(choices=[('open', 'Open'), ('closed', 'Closed')], default='open', max_length=10)),
            ],
        ),
        migrations.CreateModel(
            name='DrawerRules',
            fields=[
                ('clinic', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='drawer_rules', serialize=False, to='clinic.clinic')),
                ('variance_tolerance', models.DecimalField(decimal_places=2, max_digits=8)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name='ledgerentry',
            name='ledger_payment_has_method',
        ),
        migrations.RemoveConstraint(
            model_name='ledgerentry',
            name='ledger_kind_known',
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='reverses',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversals', to='billing.ledgerentry'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='kind',
            field=models.CharField(choices=[('charge', 'Charge'), ('payment', 'Payment'), ('credit', 'Adjustment credit'), ('refund', 'Refund'), ('void', 'Void')], max_length=10),
        ),
        migrations.CreateModel(
            name='DrawerCloseOut',
            fields=[
                ('drawer', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='close_out', serialize=False, to='billing.cashdrawer')),
                ('closed_at', models.DateTimeField()),
                ('denomination_counts', models.JSONField(default=dict)),
                ('counted_cash', models.DecimalField(decimal_places=2, max_digits=12)),
                ('expected_cash', models.DecimalField(decimal_places=2, max_digits=12)),
                ('expected_card', models.DecimalField(decimal_places=2, max_digits=12)),
                ('expected_cheque', models.DecimalField(decimal_places=2, max_digits=12)),
                ('expected_other', models.DecimalField(decimal_places=2, default=0, max_digits=12)),
                ('variance', models.DecimalField(decimal_places=2, max_digits=12)),
                ('tolerance', models.DecimalField(decimal_places=2, max_digits=10)),
                ('beyond_tolerance', models.BooleanField(default=False)),
                ('reason', models.CharField(blank=True, max_length=500)),
            ],
        ),
        migrations.AddField(
            model_name='cashdrawer',
            name='clinic',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cash_drawers', to='clinic.clinic'),
        ),
        migrations.AddField(
            model_name='cashdrawer',
            name='location',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cash_drawers', to='clinic.location'),
        ),
        migrations.AddField(
            model_name='cashdrawer',
            name='officer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cash_drawers', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='drawer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='billing.cashdrawer'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('payment', 'refund', 'void')), models.Q(('method', ''), _negated=True)), models.Q(models.Q(('kind__in', ('payment', 'refund', 'void')), _negated=True), ('method', '')), _connector='OR'), name='ledger_money_has_method'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('refund', 'void')), ('reverses__isnull', False)), models.Q(models.Q(('kind__in', ('refund', 'void')), _negated=True), ('reverses__isnull', True)), _connector='OR'), name='ledger_reversal_names_its_payment'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'void')), fields=('reverses',), name='ledger_one_void_per_payment'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['charge', 'payment', 'credit', 'refund', 'void'])), name='ledger_kind_known'),
        ),
        migrations.AddConstraint(
            model_name='drawerrules',
            constraint=models.CheckConstraint(condition=models.Q(('variance_tolerance__gte', 0)), name='drawer_tolerance_not_negative'),
        ),
        migrations.CreateModel(
            name='DrawerVarianceReview',
            fields=[
                ('close_out', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='review', serialize=False, to='billing.drawercloseout')),
                ('reviewed_at', models.DateTimeField()),
                ('note', models.CharField(max_length=500)),
            ],
        ),
        migrations.AddField(
            model_name='drawercloseout',
            name='closed_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='drawer_close_outs', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='cashdrawer',
            index=models.Index(fields=['clinic', 'business_day'], name='drawer_clinic_day'),
        ),
        migrations.AddConstraint(
            model_name='cashdrawer',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('officer',), name='drawer_one_open_per_officer'),
        ),
        migrations.AddConstraint(
            model_name='cashdrawer',
            constraint=models.CheckConstraint(condition=models.Q(('opening_float__gte', 0)), name='drawer_float_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='cashdrawer',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['open', 'closed'])), name='drawer_status_known'),
        ),
        migrations.AddField(
            model_name='drawervariancereview',
            name='reviewed_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='drawer_reviews', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='drawercloseout',
            constraint=models.CheckConstraint(condition=models.Q(('counted_cash__gte', 0)), name='drawer_count_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='drawercloseout',
            constraint=models.CheckConstraint(condition=models.Q(('beyond_tolerance', False), models.Q(('reason', ''), _negated=True), _connector='OR'), name='drawer_variance_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='drawervariancereview',
            constraint=models.CheckConstraint(condition=models.Q(('note', ''), _negated=True), name='drawer_review_has_note'),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
]
