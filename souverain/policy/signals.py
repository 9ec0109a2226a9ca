from django.dispatch import Signal

#: Sent after an operator policy version was activated or deactivated (the active policy set changed).
policy_activated = Signal()
