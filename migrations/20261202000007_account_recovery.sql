-- Signup, email verification and password reset.

-- A browser session records the user's session epoch when it begins; a
-- password change or reset increments it, which ends every earlier session.
alter table users add column session_epoch integer not null default 0;

-- Single-use links sent by email: email verification (24 h) and password
-- reset (1 h). Only a SHA-256 hash of the 256-bit token is stored.
create table user_tokens (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    user_id uuid not null,
    purpose text not null,
    token_hash text not null,
    -- verify_email: the address the link proves (it may change meanwhile)
    email text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    primary key (tenant_id, id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    constraint user_tokens_purpose check (purpose in ('verify_email', 'reset_password'))
);
create unique index user_tokens_hash on user_tokens (tenant_id, token_hash);
create index user_tokens_user on user_tokens (tenant_id, user_id, purpose);

alter table user_tokens enable row level security;
alter table user_tokens force row level security;
create policy tenant_isolation on user_tokens
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
