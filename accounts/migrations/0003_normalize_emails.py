"""Store every existing address in the normalised form that lookups now use (NFKC, lower case,
IDNA domain). An address whose normalised form another account already holds is left as it
is: merging two accounts is a decision for staff, not a migration."""

from django.db import migrations

import accounts.models


def normalize_existing(apps, schema_editor):
    from accounts.models import normalize_email_address

    User = apps.get_model("accounts", "User")
    taken = set(User.objects.values_list("email", flat=True))
    for user in User.objects.only("id", "email").iterator():
        normalized = normalize_email_address(user.email)
        if normalized != user.email and normalized not in taken:
            taken.discard(user.email)
            taken.add(normalized)
            User.objects.filter(pk=user.pk).update(email=normalized)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_role_scanner")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email",
            field=accounts.models.NormalizedEmailField(max_length=254, unique=True),
        ),
        migrations.RunPython(normalize_existing, migrations.RunPython.noop),
    ]
