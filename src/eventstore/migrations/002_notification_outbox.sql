-- Security notifications waiting for delivery. Each row is written in the transaction of the SecurityNotificationRequested
-- event it delivers (the event is the record; this is delivery state, so it is not a projection and no rebuild touches it).
create table if not exists notification_outbox (
  id              bigint generated always as identity primary key,
  notification_id text        not null unique,
  user_id         text        not null,
  kind            text        not null,
  recipient       text,
  created_at      timestamptz not null,
  attempts        integer     not null default 0,
  last_error      text,
  sent_at         timestamptz
);

create index if not exists notification_outbox_unsent on notification_outbox (id) where sent_at is null;

-- Devices a user has started a session from, so a session from a new one can be told apart.
create table if not exists known_devices (
  user_id       text        not null,
  device_key    text        not null,
  first_seen_at timestamptz not null,
  primary key (user_id, device_key)
);
