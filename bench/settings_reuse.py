"""Settings for a benchmark worker that keeps its database connection between tasks.

Not a recommendation by itself, an experiment: `python -m bench burst --reuse-connections` runs the
SoSocial worker with these to show what one new PostgreSQL connection per task costs. By default
Django's `CONN_MAX_AGE` is 0 here and Celery's Django fixup closes every connection after each task
unless `CELERY_DB_REUSE_MAX` is set.
"""

from sosocial.settings import *  # noqa: F403
from sosocial.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 300
CELERY_DB_REUSE_MAX = 1000
