-- Per-tenant signing keys (OpenID Connect core).
--
-- Lifecycle: next (published in the JWKS, not yet signing) -> active (signing)
-- -> retired (published until every token it signed has expired, remove_after)
-- -> removed (deleted). At most one active and one next key per algorithm.
-- The private key is sealed with AES-256-GCM under the platform master key
-- named by master_key_id; the associated data binds it to (tenant_id, kid), so
-- a sealed key copied into another row or tenant does not open.

create table signing_keys (
    tenant_id uuid not null references tenants (id) on delete cascade,
    kid text not null,
    alg text not null,
    state text not null,
    public_jwk jsonb not null,
    master_key_id text not null,
    sealed_private_key bytea not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    activated_at timestamptz,
    retired_at timestamptz,
    remove_after timestamptz,
    primary key (tenant_id, kid),
    constraint signing_keys_alg check (alg in ('RS256', 'ES256', 'EdDSA')),
    constraint signing_keys_state check (state in ('next', 'active', 'retired')),
    constraint signing_keys_retired_has_removal check (state <> 'retired' or remove_after is not null)
);
create unique index signing_keys_one_active on signing_keys (tenant_id, alg) where state = 'active';
create unique index signing_keys_one_next on signing_keys (tenant_id, alg) where state = 'next';

alter table signing_keys enable row level security;
alter table signing_keys force row level security;
create policy tenant_isolation on signing_keys
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

-- When each tenant's keys are next due for rotation. A registry table (no
-- row-level security, no secrets): the scheduler must find due tenants across
-- all tenants, then rotates each inside that tenant's own context.
create table key_rotation_schedule (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    rotate_at timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index key_rotation_schedule_due on key_rotation_schedule (rotate_at);
