-- Account recovery (issue 17): what the mail worker needs to write a code, a link or a "this wasn't me" link into a
-- mail: the nonce and server key id the code or key is derived from (never the code or key itself), the account id a
-- reset link names. Additive: earlier rows keep null (plain notices).
alter table notification_outbox add column if not exists payload jsonb;
