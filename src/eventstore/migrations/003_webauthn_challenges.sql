-- WebAuthn ceremony challenges. Delivery-style state, not a projection: a challenge is consumed by
-- `delete ... returning` (atomic, single-use even under concurrent submissions) before the response is verified,
-- so it is gone whether the verification then succeeds or fails. One outstanding challenge per ceremony binding
-- (a session, a pending login, or an anonymous passkey ceremony token) and purpose; a newer begin replaces it.
create table if not exists webauthn_challenges (
  binding     text        not null,
  purpose     text        not null,
  challenge   text        not null,
  user_id     text,
  passwordless boolean    not null default false,
  expires_at  timestamptz not null,
  primary key (binding, purpose)
);

create index if not exists webauthn_challenges_expiry on webauthn_challenges (expires_at);
