from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Without REDIS_URL, throttle counters live in a database cache table. Creating it here
    # means `migrate` is the only setup step an operator needs.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
