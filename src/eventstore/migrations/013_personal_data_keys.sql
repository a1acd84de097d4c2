-- Issue 14 item 0: each person's data key, kept outside the events and wrapped by the server keys (TESSERA_SECRET_KEYS).
-- Destroying the key (wrapped_key set to null, erased_at set) erases the person from every event that holds their
-- personal data; the row stays as a tombstone so the person never gets a new key and readers can say "erased".
create table if not exists personal_data_keys (
  subject_id  text primary key,
  wrapped_key text,
  created_at  timestamptz not null,
  erased_at   timestamptz
);

-- Steps of the migration that are code, not SQL (they need the keys): the personal data conversion. Recorded apart from
-- schema_migrations, which lists the SQL files.
create table if not exists code_migrations (
  name       text primary key,
  applied_at timestamptz not null default now()
);
