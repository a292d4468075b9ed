"""`python manage.py create_scanner`: an account for door staff, as `createsuperuser` makes one
for staff.

    python manage.py create_scanner                          # asks for what is missing
    python manage.py create_scanner --email door1@example.com --name "Door 1"
    SCANNER_PASSWORD=... python manage.py create_scanner --noinput --email ... --name ...

A scanner signs in to /admin/ and reaches the check-in desk only, or calls the API's check-in
routes with its token. An existing account is given the role on the admin's user page.
"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import user_create
from core.exceptions import EmailTaken, Invalid

ENV = {"email": "SCANNER_EMAIL", "name": "SCANNER_NAME", "password": "SCANNER_PASSWORD"}


class Command(BaseCommand):
    help = "Create a door staff account (role scanner): the check-in desk and routes only."

    def add_arguments(self, parser):
        parser.add_argument("--email", help=f"Its e-mail, the login (or {ENV['email']}).")
        parser.add_argument("--name", help=f"Its name, shown to staff (or {ENV['name']}).")
        parser.add_argument(
            "--password",
            help=f"Its password (or {ENV['password']}); better left to the prompt or the "
            "environment than on a command line.",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Ask nothing: every value from the flags or the environment.",
        )

    def handle(self, *args, **options):
        values = {key: options[key] or os.environ.get(var, "") for key, var in ENV.items()}
        if options["interactive"]:
            values = self._ask(values)
        missing = [f"--{key} or {ENV[key]}" for key, value in values.items() if not value]
        if missing:
            raise CommandError(f"Missing: {', '.join(missing)}.")
        try:
            scanner = user_create(
                email=values["email"],
                name=values["name"],
                password=values["password"],
                role=User.Role.SCANNER,
                validate=True,
            )
        except EmailTaken:
            raise CommandError(
                f"An account with the e-mail {values['email']} exists: give it the role scanner "
                "on its page in the admin site instead."
            ) from None
        except Invalid as exc:
            raise CommandError(
                "; ".join(m for messages in exc.errors.values() for m in messages)
            ) from None
        self.stdout.write(
            f"create_scanner: {scanner.email} may now sign in to /admin/ for the check-in desk."
        )

    def _ask(self, values: dict) -> dict:
        for key in ("email", "name"):
            while not values[key].strip():
                values[key] = input(f"{key.capitalize()}: ").strip()
        while not values["password"]:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The passwords differ.")
                continue
            values["password"] = password
        return values
