from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0006_micro_credential_feed_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="bulkissuejob",
            name="progressed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
