"""What platforms tells the apps above it, without importing them (`platforms` imports no app)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once by services.connect_accounts when an account that needed reconnecting has working
# tokens again, with `account` and `reason` (why it had needed reconnecting). Publishing listens:
# paused dates resume and dates that failed for that reason are ready to retry.
account_reconnected = Signal()
