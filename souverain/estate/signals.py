from django.dispatch import Signal

#: Sent once an estate file's changes are committed, with ``report`` (created/updated/removed counts).
estate_applied = Signal()
