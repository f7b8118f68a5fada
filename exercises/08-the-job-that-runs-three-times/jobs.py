# The host runs this file in ONE process of its own for the whole deployment (on the first
# machine, however many machines there are), beside the web workers, as `python jobs.py`, with
# the same settings (DATABASE_URL, SHOP_DB) and the same clock: the place for scheduled tasks,
# like the "clock" process of many hosts, or a cron job. It serves no requests.
#
# Start a schedule here, at module level: `from app import every_day_at, send_daily_deals`
# works (this folder is on the import path). The process stays up as long as the host runs.
#
# Nothing is scheduled here yet.
