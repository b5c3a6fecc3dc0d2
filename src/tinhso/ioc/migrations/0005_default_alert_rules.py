"""The default alert rules (issue #7): the province's on-time rate over 30 days below 95 %,
overdue open dossiers at any agency, and the online share below the province's target for
the year (no target set: that rule raises nothing). No recipients: the alerts show in the
operations centre until someone adds officials or addresses to a rule."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    {
        "name": "Tỷ lệ hồ sơ giải quyết đúng hạn của tỉnh dưới 95 % (30 ngày)",
        "indicator": "on_time_rate",
        "scope_kind": "province",
        "comparison": "lt",
        "threshold": Decimal("95"),
        "use_target": False,
        "window_days": 30,
        "severity": "warning",
    },
    {
        "name": "Có hồ sơ quá hạn đang xử lý tại cơ quan",
        "indicator": "overdue_open",
        "scope_kind": "agency",
        "comparison": "gt",
        "threshold": Decimal("0"),
        "use_target": False,
        "window_days": 0,
        "severity": "warning",
    },
    {
        "name": "Tỷ lệ hồ sơ nộp trực tuyến của tỉnh dưới chỉ tiêu năm (30 ngày)",
        "indicator": "online_share",
        "scope_kind": "province",
        "comparison": "lt",
        "threshold": None,
        "use_target": True,
        "window_days": 30,
        "severity": "info",
    },
]


def load(apps, schema_editor):
    AlertRule = apps.get_model("ioc", "AlertRule")
    for rule in DEFAULTS:
        if not AlertRule.objects.filter(name=rule["name"]).exists():
            AlertRule.objects.create(scope_id=None, **rule)


def unload(apps, schema_editor):
    AlertRule = apps.get_model("ioc", "AlertRule")
    names = [rule["name"] for rule in DEFAULTS]
    AlertRule.objects.filter(name__in=names, alerts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("ioc", "0004_alert_events_append_only")]

    operations = [migrations.RunPython(load, unload)]
