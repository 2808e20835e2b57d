from django import template

from agreements.models import Agreement

register = template.Library()


@register.simple_tag
def awaiting_review_count():
    """How many agreements await a publisher's review (the admin's home page)."""
    return Agreement.objects.filter(status=Agreement.Status.REVIEW).count()
