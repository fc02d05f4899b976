"""What platforms tells the apps above it, without importing them (`platforms` imports no app)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `account=` after an account that needed reconnecting has working tokens again.
account_reconnected = Signal()
