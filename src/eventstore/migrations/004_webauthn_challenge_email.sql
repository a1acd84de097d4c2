-- Passkey signup (MFA_SIGNUP_WEBAUTHN): the pending account's email travels with its ceremony's challenge, so the
-- completion claims exactly the address the ceremony began for. Additive: null for every other purpose.
alter table webauthn_challenges add column if not exists email text;
