"""Periodic jobs for `rq cron wiring/cron.py` (started by `make run`)."""
from rq import cron

from wiring.worker import check_waiting_escalations, dispatch_due, drain_inbox, purge_inbox, scan_delays

cron.register(dispatch_due, queue_name="orderline", interval=30)
# The webhook queues a drain for every burst of events; this one catches any it could not
# (Redis briefly down, a worker killed mid-drain).
cron.register(drain_inbox, queue_name="orderline", interval=30)
cron.register(scan_delays, queue_name="orderline", interval=600)
cron.register(purge_inbox, queue_name="orderline", interval=3600)
cron.register(check_waiting_escalations, queue_name="orderline", interval=60)
