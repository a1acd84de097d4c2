-- Issue 14: the log is append-only in the database as well. Only the table owner (or a superuser) can drop or disable
-- these triggers; run the app under a role that does not own the tables (README: MIGRATION_DATABASE_URL) and it cannot.
-- TRUNCATE is left to the owner (tests reset their log with it); the signed checkpoints are what catch a superuser.
create or replace function tessera_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'the % table is append-only: % refused', tg_table_name, tg_op using errcode = 'insufficient_privilege';
end
$$;

drop trigger if exists events_append_only on events;
create trigger events_append_only before update or delete on events for each row execute function tessera_refuse_change();
drop trigger if exists audit_leaves_append_only on audit_leaves;
create trigger audit_leaves_append_only before update or delete on audit_leaves for each row execute function tessera_refuse_change();
drop trigger if exists audit_checkpoints_append_only on audit_checkpoints;
create trigger audit_checkpoints_append_only before update or delete on audit_checkpoints for each row execute function tessera_refuse_change();
