"""An Atom feed of publications: each new report, and each new version of one, newest first."""

from __future__ import annotations

import datetime as dt

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from apps.reports.models import Publication

from . import selectors

FEED_ITEMS = 20


class PublicationFeed(Feed):
    feed_type = Atom1Feed
    title = "Child protection inspection reports"
    subtitle = (
        "New and updated reports of child protection inspections of police forces in England "
        "and Wales."
    )
    author_name = "The police child protection inspection programme"

    def link(self) -> str:
        return reverse("portal:report-list")

    def feed_url(self) -> str:
        return reverse("portal:report-feed")

    def items(self) -> list[Publication]:
        return selectors.feed_publications(FEED_ITEMS)

    def item_title(self, item: Publication) -> str:
        if item.version > 1:
            return f"{item.title} (version {item.version})"
        return item.title

    def item_description(self, item: Publication) -> str:
        if item.version > 1 and item.change_note:
            return f"{item.summary}\n\nWhat changed: {item.change_note}"
        return item.summary

    def item_link(self, item: Publication) -> str:
        return selectors.report_url(item.slug, item.language)

    def item_guid(self, item: Publication) -> str:
        # Each version is its own entry, so a republished report appears again in readers.
        day = f"{item.published_on:%Y-%m-%d}"
        return f"tag:inspectorate,{day}:{item.slug}/{item.language}/v{item.version}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Publication) -> dt.datetime:
        return item.published_at or timezone.make_aware(
            dt.datetime.combine(item.published_on, dt.time(9))
        )

    def item_updateddate(self, item: Publication) -> dt.datetime:
        return self.item_pubdate(item)

    def item_categories(self, item: Publication) -> list[str]:
        return [selectors.programme_type_label(item.programme_type)]
