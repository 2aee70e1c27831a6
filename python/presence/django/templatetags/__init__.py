"""The template tag library of presence.django: {% load presence %}."""
