"""The default preset: on 0 BOOTSTRAP, per-device management credentials and a 5-minute inform interval.

Without it a device keeps its factory (bootstrap) login and the ACS never learns its
connection-request password, so nothing could reach it "now". Operators edit or disable it.
"""

from django.db import migrations

NAME = "default-bootstrap"


def add(apps, schema_editor):
    Preset = apps.get_model("cpe", "Preset")
    Preset.objects.get_or_create(
        name=NAME,
        defaults={
            "events": ["0 BOOTSTRAP"],
            "actions": [{"set": {"management.inform_interval": 300}}, {"credentials": "generate"}],
            "enabled": True,
            "precedence": 10,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("cpe", "Preset").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("cpe", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
