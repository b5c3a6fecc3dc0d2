"""The national service index of Quyết định 766/QĐ-TTg as configuration rows: groups, points,
thresholds and the formula each row uses (docs/indicators.md explains every one). A province
edits them in the admin; this migration only loads the defaults once."""

from decimal import Decimal

from django.db import migrations

SOURCE = (
    "Quyết định 766/QĐ-TTg (23 June 2022), with the per-indicator methodology published with "
    "the national public-service portal's dashboards (“Mô tả công thức tính chỉ số 766”)."
)

# (group code, name, max points, [(code, name, points, threshold %, formula, rule)])
GROUPS = [
    (
        "1",
        "Publicity and transparency",
        18,
        [
            (
                "1.1",
                "Procedures published on time",
                6,
                None,
                "published_on_time",
                "Published on time ÷ published in the period; for a province on time means the "
                "publishing decision is dated at least 5 working days before the legal text "
                "takes effect; a procedure in several decisions counts once, and one late "
                "publication makes it late for the period.",
            ),
            (
                "1.2",
                "Procedures updated and made public on time",
                4,
                None,
                "updated_on_time",
                "Made public within 5 working days after the publishing decision.",
            ),
            (
                "1.3",
                "Procedures complete in their parts",
                2,
                None,
                "procedures_complete",
                "Has all seven parts: name, sequence, method, documents and quantities, time "
                "limit, subjects, implementing agency.",
            ),
            (
                "1.4",
                "Dossiers synchronised to the national portal",
                6,
                None,
                "dossiers_synchronised",
                "Dossiers synchronised with a reception date in the period ÷ dossiers received "
                "in the period.",
            ),
        ],
    ),
    (
        "2",
        "Progress and results of processing",
        20,
        [
            (
                "2.1",
                "Dossiers processed early or on time",
                20,
                None,
                "on_time_766",
                "(Done on time + open within deadline) ÷ dossiers received or processed in the "
                "period, by the index's on-time rules.",
            ),
            (
                "2.2",
                "Average processing time",
                0,
                None,
                "avg_processing_hours",
                "Σ processing time ÷ done dossiers (monitored).",
            ),
        ],
    ),
    (
        "3",
        "Online services",
        12,
        [
            (
                "3.1",
                "Procedures with an online service (full or partial)",
                0,
                Decimal("80"),
                "procedures_online",
                "Monitored.",
            ),
            (
                "3.2",
                "Full-online dossiers",
                12,
                None,
                "full_online_dossiers",
                "Dossiers submitted online for full-online procedures ÷ dossiers of procedures "
                "eligible for full-online service.",
            ),
            (
                "3.3",
                "Dossiers submitted online",
                0,
                Decimal("50"),
                "online_dossiers_electronic",
                "Online dossiers (with an electronic result where a result is issued) ÷ all "
                "dossiers; monitored.",
            ),
        ],
    ),
    (
        "3P",
        "Online payment",
        10,
        [
            (
                "3.5a",
                "Fee-bearing procedures integrated with online payment",
                2,
                Decimal("80"),
                "fee_procedures_online",
                "",
            ),
            (
                "3.5b",
                "Fee-bearing procedures with at least one online payment",
                2,
                Decimal("80"),
                "fee_procedures_paid_online",
                "",
            ),
            (
                "3.6",
                "Dossiers paid online",
                6,
                None,
                "online_payment_share",
                "Dossiers paid online ÷ (dossiers of fee-bearing procedures − dossiers whose "
                "every fee is 0).",
            ),
        ],
    ),
    (
        "4",
        "Digitisation of dossiers",
        22,
        [
            (
                "4.1",
                "Dossiers with an electronic result",
                6,
                None,
                "results_digitised_share",
                "Among procedures that issue a result document; the result file must be "
                "attached.",
            ),
            (
                "4.2",
                "Dossiers with digitised input documents",
                4,
                Decimal("80"),
                "dossiers_fully_digitised",
                "A file attached to the components and an electronic result.",
            ),
            (
                "4.2b",
                "Electronic certified copies from originals",
                2,
                None,
                "certified_copies",
                "",
            ),
            (
                "4.3",
                "Dossiers reusing digitised data",
                2,
                Decimal("80"),
                "reuse_share",
                "At least one component taken from earlier digitised data.",
            ),
            (
                "4.4",
                "Dossiers connected to the personal data store",
                4,
                None,
                "data_store_share",
                "A component taken from the citizen's store, or the result pushed to it.",
            ),
            (
                "4.5a",
                "Procedures connected to the population database",
                2,
                None,
                "population_procedures",
                "Among procedures whose applicants are people.",
            ),
            (
                "4.5b",
                "Dossiers using the population database",
                2,
                None,
                "population_dossiers",
                "Applicant authenticated by e-ID or data taken from the population database.",
            ),
        ],
    ),
    (
        "5",
        "Satisfaction",
        18,
        [
            (
                "5.1",
                "Feedback by category",
                0,
                None,
                "feedback_by_category",
                "Monitored.",
            ),
            (
                "5.2",
                "Feedback handled on time",
                6,
                None,
                "feedback_on_time",
                "Refuse within 2 working days; ask for more within 5; handle within 15; "
                "publish within 2.",
            ),
            (
                "5.3",
                "Satisfaction with feedback handling",
                6,
                None,
                "feedback_satisfaction",
                "(Feedback − unsatisfied, overdue or re-raised) ÷ feedback.",
            ),
            (
                "5.4",
                "Satisfaction with dossier handling",
                6,
                Decimal("90"),
                "dossier_handling_satisfaction",
                "100 % − (share of overdue dossiers + share of dossiers with a complaint or a "
                "negative rating).",
            ),
        ],
    ),
]


def load(apps, schema_editor):
    ServiceIndex = apps.get_model("ioc", "ServiceIndex")
    IndexGroup = apps.get_model("ioc", "IndexGroup")
    IndexIndicator = apps.get_model("ioc", "IndexIndicator")
    index, _created = ServiceIndex.objects.get_or_create(
        code="766",
        defaults={"name": "Bộ chỉ số phục vụ người dân, doanh nghiệp (QĐ 766/QĐ-TTg)", "source": SOURCE},
    )
    for group_position, (code, name, max_points, rows) in enumerate(GROUPS, start=1):
        group, _created = IndexGroup.objects.get_or_create(
            index=index,
            code=code,
            defaults={"name": name, "max_points": Decimal(max_points), "position": group_position},
        )
        for position, (row_code, row_name, points, threshold, formula, rule) in enumerate(
            rows, start=1
        ):
            IndexIndicator.objects.get_or_create(
                group=group,
                code=row_code,
                defaults={
                    "name": row_name,
                    "points": Decimal(points),
                    "threshold": threshold,
                    "formula": formula,
                    "rule": rule,
                    "position": position,
                },
            )


def unload(apps, schema_editor):
    ServiceIndex = apps.get_model("ioc", "ServiceIndex")
    ServiceIndex.objects.filter(code="766").delete()


class Migration(migrations.Migration):
    dependencies = [("ioc", "0001_rollups_index_targets")]

    operations = [migrations.RunPython(load, unload)]
