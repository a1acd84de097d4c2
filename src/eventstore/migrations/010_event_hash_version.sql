-- Issue 14: each event's hash covers its global position too. Events written before carry hash version 1 (their hash
-- does not cover the position) and still verify as they were written; new events are written at version 2.
alter table events add column if not exists hash_version smallint not null default 1;
