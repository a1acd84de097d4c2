-- The append-only event log. Everything else in Tessera is a projection of this table.
create table events (
  position    bigint generated always as identity primary key,
  stream_id   text        not null,
  version     integer     not null,
  type        text        not null,
  data        jsonb       not null,
  metadata    jsonb       not null,
  recorded_at timestamptz not null,
  -- The writing transaction: readers of "all after P" stay below the oldest running transaction (DESIGN.md §3).
  tx_id       xid8        not null default pg_current_xact_id(),
  prev_hash   text        not null,
  hash        text        not null,
  constraint events_stream_version unique (stream_id, version)
);
create index events_tx_position on events (tx_id, position);

-- The head of each stream: lets the chain verifier notice a truncated tail, and makes "does it exist" one lookup.
create table streams (
  stream_id  text primary key,
  version    integer not null,
  head_hash  text    not null
);

-- Command idempotency: the first result of a key is returned again, a different payload under the key is a conflict.
create table idempotency_keys (
  key          text primary key,
  request_hash text        not null,
  result       jsonb,
  created_at   timestamptz not null default now()
);

-- Checkpoints of the runners that read the log (rebuild, asynchronous projectors). Inline projections have none.
create table projection_checkpoints (
  name        text primary key,
  tx_id       xid8   not null,
  position    bigint not null,
  updated_at  timestamptz not null default now()
);

-- Which version of each projector's code built the live tables; a new version triggers a rebuild at start-up.
create table projection_versions (
  name    text primary key,
  version integer not null
);
