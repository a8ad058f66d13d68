-- A user locked by an administrator cannot sign in or redeem refresh tokens
-- until unlocked (distinct from disabled: a hold, not an offboarding; the
-- consoles and the API show it as such). Null: not locked.
alter table users add column locked_at timestamptz;

-- A disabled client authenticates nowhere and its tokens stop verifying,
-- but it keeps its registration, secret hash and grants, so enabling it
-- again restores it as it was.
alter table clients add column disabled boolean not null default false;
