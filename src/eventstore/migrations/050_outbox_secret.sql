-- Email one-time codes (issue 18) go out through the notification outbox. The code travels sealed (AES-256-GCM under
-- the server's secret keys, bound to the notification id) in this column only, never in an event, and the column is
-- cleared when the row is sent or dead-lettered. Additive: existing rows keep null (nothing secret to deliver).
alter table notification_outbox add column if not exists secret_ciphertext text;
