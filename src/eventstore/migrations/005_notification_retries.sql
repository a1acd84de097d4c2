-- Delivery retries (issue 11 item 3): a failed send is recorded and retried later, so one undeliverable notification
-- never blocks the others. Additive: existing rows keep null in both columns, i.e. due at once and not dead.
-- next_attempt_at: when the row may be tried again (null: never tried, due at once).
-- dead_lettered_at: set when the last allowed attempt fails; the row is never tried again (SecurityNotificationDeadLettered).
alter table notification_outbox add column if not exists next_attempt_at timestamptz;
alter table notification_outbox add column if not exists dead_lettered_at timestamptz;

-- The worker's claim: pending rows by due time, the never-tried ones first.
create index if not exists notification_outbox_due on notification_outbox (next_attempt_at nulls first, id)
  where sent_at is null and dead_lettered_at is null;
