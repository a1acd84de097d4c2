-- A stream held at the version a decision read, checked inside the statement of the append that rests on it
-- (EventStore.holdAtVersion): the append and the hold then go out in one round trip with the COMMIT. The head row is
-- locked FOR SHARE until the transaction ends (a writer to that stream waits for it), and a head that has moved since
-- fails the statement with SQLSTATE TS409, which the store reads as a lost race (the transaction is run again).
-- Additive: nothing else calls it.
create or replace function tessera_hold_stream(p_stream_id text, p_version int) returns boolean language plpgsql volatile as $$
begin
  perform 1 from streams where stream_id = p_stream_id and version = p_version for share;
  if not found then
    raise exception 'stream % is no longer at version %', p_stream_id, p_version using errcode = 'TS409';
  end if;
  return true;
end
$$;
