"""A partner's widget: a publishable key (unique, so existing partners each get their own
before the constraint), a signing secret for customer tokens, and the allowed origins."""

from django.db import migrations, models

import partners.models


def give_each_partner_keys(apps, schema_editor):
    Partner = apps.get_model("partners", "Partner")
    for partner in Partner.objects.all():
        partner.publishable_key = partners.models.publishable_key_generate()
        partner.widget_secret = partners.models.widget_secret_generate()
        partner.save(update_fields=["publishable_key", "widget_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0004_webhook_secret_rotation"),
    ]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="publishable_key",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="partner",
            name="widget_secret",
            field=models.CharField(max_length=100, null=True),
        ),
        migrations.RunPython(give_each_partner_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="partner",
            name="publishable_key",
            field=models.CharField(
                default=partners.models.publishable_key_generate,
                help_text="Goes in the widget's snippet on the partner's pages: it reads public data and starts the widget, never writes.",
                max_length=64,
                unique=True,
                verbose_name="widget publishable key",
            ),
        ),
        migrations.AlterField(
            model_name="partner",
            name="widget_secret",
            field=models.CharField(
                default=partners.models.widget_secret_generate,
                help_text="The partner's server signs customer tokens with it; it never goes on a page.",
                max_length=100,
                verbose_name="widget signing secret",
            ),
        ),
        migrations.AddField(
            model_name="partner",
            name="widget_origins",
            field=models.TextField(
                blank=True,
                help_text="The partner's sites that may show the widget, one origin a line (https://shop.example.com); no other site gets an answer.",
                validators=[partners.models.validate_origins],
                verbose_name="widget origins",
            ),
        ),
    ]
