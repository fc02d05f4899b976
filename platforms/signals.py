"""What platforms tells the rest of the project without importing it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by services.connect_accounts when an account that needed reconnecting is connected again,
# with `account` and `reason` (why it had needed reconnecting). Publishing listens: the dates that
# failed for that reason are ready to retry.
account_reconnected = Signal()
