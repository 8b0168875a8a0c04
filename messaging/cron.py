"""Periodic jobs for `rq cron messaging/cron.py` (started by `make run`)."""
from rq import cron

from messaging.jobs import dispatch_due, scan_delays

cron.register(dispatch_due, queue_name="orderline", interval=30)
cron.register(scan_delays, queue_name="orderline", interval=600)
