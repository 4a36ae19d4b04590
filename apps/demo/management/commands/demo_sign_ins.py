from typing import Any

from django.core.management.base import BaseCommand

from apps.demo.catalogue import DEMO_PASSWORD
from apps.demo.selectors import demo_programme_current, demo_sign_ins


class Command(BaseCommand):
    help = "Print the demo sign-ins (user name, role, organisation, what each can see)."

    def handle(self, *args: Any, **options: Any) -> None:
        programme = demo_programme_current()
        if programme is None:
            self.stdout.write(
                "There is no demo data in this database. Create it with\n"
                "  python manage.py generate_programme --scale demo\n"
                "(after `migrate`, `load_reference` and `load_methodologies`; "
                "`make run` does all of it)."
            )
            return
        rows = demo_sign_ins()
        self.stdout.write(f"Demo sign-ins ({programme}). Everything in it is fictional.")
        self.stdout.write(f"Every one signs in with the password: {DEMO_PASSWORD}\n")
        width = max(len(r.username) for r in rows)
        for row in rows:
            self.stdout.write(f"  {row.username:<{width}}  {row.role}, {row.organisation}")
            self.stdout.write(f"  {'':<{width}}  {row.sees}")
        if not rows:
            self.stdout.write("  (the demo sign-ins have been removed)")
