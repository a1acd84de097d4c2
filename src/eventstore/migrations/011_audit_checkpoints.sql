-- Issue 14: signed checkpoints over the whole log (an RFC 6962 Merkle tree over the event hashes in commit order).
-- Each event's leaf index: written by the checkpointer in batches (never per append, so appends share no hot row), in
-- (tx_id, position) order below the visible horizon, so an event committing late never lands inside a signed tree.
create table if not exists audit_leaves (
  leaf_index  bigint primary key,
  position    bigint not null unique,
  stream_id   text   not null
);

-- The checkpoint stream: seq is its version, so two instances appending the same next checkpoint cannot both win.
-- frontier: the right edge of the tree (roots of its perfect subtrees), enough to extend it without rereading leaves.
-- last_tx_id, last_position: the last event the tree covers, where the next checkpoint continues reading.
create table if not exists audit_checkpoints (
  seq            integer     primary key,
  tree_size      bigint      not null,
  root           text        not null,
  frontier       jsonb       not null,
  last_tx_id     xid8        not null,
  last_position  bigint      not null,
  at             timestamptz not null,
  previous       text        not null,
  key_id         text        not null,
  signature      text        not null
);
