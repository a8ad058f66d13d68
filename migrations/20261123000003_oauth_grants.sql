-- OpenID Connect core: client metadata for token signing, refresh tokens and
-- remembered consent.

alter table clients
    add column id_token_signed_response_alg text not null default 'RS256',
    -- the scopes a client may request with client_credentials
    add column scopes text[] not null default '{}',
    add constraint clients_id_token_alg check (id_token_signed_response_alg in ('RS256', 'ES256', 'EdDSA'));

-- Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): opaque, stored as a SHA-256
-- hash, rotated on every use. Every token issued from one authorization
-- belongs to one family; presenting a token that was already rotated
-- (used_at set) revokes the whole family.
create table refresh_tokens (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    family_id uuid not null,
    token_hash text not null,
    client_id text not null,
    user_id uuid not null,
    scope text not null,
    sid text,
    auth_time timestamptz not null,
    acr text,
    amr text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz,
    revoked_at timestamptz,
    primary key (tenant_id, id)
);
create unique index refresh_tokens_hash on refresh_tokens (tenant_id, token_hash);
create index refresh_tokens_family on refresh_tokens (tenant_id, family_id);
create index refresh_tokens_user on refresh_tokens (tenant_id, user_id);

alter table refresh_tokens enable row level security;
alter table refresh_tokens force row level security;
create policy tenant_isolation on refresh_tokens
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

-- Consent remembered per user, client and scopes (OpenID Connect Core §3.1.2.4).
create table consents (
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_id uuid not null,
    client_id text not null,
    scopes text[] not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, user_id, client_id)
);

alter table consents enable row level security;
alter table consents force row level security;
create policy tenant_isolation on consents
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
