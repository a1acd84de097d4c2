-- Snapshots of aggregate state (issue 20): a cache of a fold, never the record. A request folds the snapshot and the
-- events after it instead of the whole stream, so its cost stays flat however long the stream grows. Each row is the
-- state after the event at `version` (whose chain hash is `head_hash`), as JSON sealed with the service's secret box
-- (AES-GCM; the associated data binds it to its kind, stream, version and head hash), so it holds nothing in clear and
-- a corrupt, copied or stale row is detected and ignored: the fold then starts from the log. Safe to truncate at any
-- time. Additive.
create table if not exists snapshots (
  stream_id  text        primary key,
  kind       text        not null,
  version    integer     not null,
  head_hash  text        not null,
  state      text        not null,
  written_at timestamptz not null default now()
);
