-- Passkeys: WebAuthn public key credentials of a tenant's users, used as a
-- second factor and for passwordless sign-in.
--
-- A credential is registered at one tenant and found only inside that
-- tenant's context. Tenants in path mode share one WebAuthn RP ID (the
-- deployment's host), so a browser may offer a passkey of tenant A while
-- signing in at tenant B; what refuses it there is that this table, under
-- row-level security, has no row for its credential id in B.
--
-- credential_id is the raw credential ID (WebAuthn Level 3 §7.1 bounds it
-- to 1023 bytes; it must not be registered twice, here per tenant).
-- passkey is the verified credential as webauthn-rs serialises it (public
-- key, signature counter, backup flags); it holds no secret, but it is what
-- every assertion is verified against, so only the server writes it.
create table passkeys (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    user_id uuid not null,
    credential_id bytea not null,
    passkey jsonb not null,
    name text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_used_at timestamptz,
    primary key (tenant_id, id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    constraint passkeys_credential_id_length check (octet_length(credential_id) between 1 and 1023),
    constraint passkeys_name_length check (char_length(name) between 1 and 64)
);
create unique index passkeys_credential_id on passkeys (tenant_id, credential_id);
create index passkeys_user on passkeys (tenant_id, user_id);

alter table passkeys enable row level security;
alter table passkeys force row level security;
create policy tenant_isolation on passkeys
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
