-- Roles granted read access to the analytics views (`tessera analytics grant-role NAME`). Roles are cluster-wide and
-- created outside the migrations; this table only remembers the grants, so a rebuild of the analysis tables, which
-- drops and recreates the views, grants them again.
create table analytics_grants (
  role_name  text primary key,
  granted_at timestamptz not null default now()
);
