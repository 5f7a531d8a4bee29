"""Signals the case loop sends to the apps above it (dependency rule: cases imports none of them)."""

from django.dispatch import Signal

# Sent by services.case_create inside its transaction, after every row of the new case is written (the
# case, its first steps, audit rows, notifications) and before the transaction ends: `case` and `steps`
# (the steps written with it, saved). Derived counts (the dashboards' rollups) can count a case here, in
# the same transaction, instead of recounting after commit; the steps' post_save is sent after this signal.
case_created = Signal()
