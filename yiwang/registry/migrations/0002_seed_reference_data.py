from django.db import migrations

from yiwang.registry.seed import load_seed


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(load_seed, migrations.RunPython.noop)]
