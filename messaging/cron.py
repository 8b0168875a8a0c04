"""Periodic jobs for `rq cron messaging/cron.py` (started by `make run`)."""
from rq import cron

from bot.jobs import check_waiting_escalations
from messaging.jobs import dispatch_due, scan_delays

cron.register(dispatch_due, queue_name="orderline", interval=30)
cron.register(scan_delays, queue_name="orderline", interval=600)
cron.register(check_waiting_escalations, queue_name="orderline", interval=60)
