-- Gatehouse schema, part 1: the tenant registry and the first tenant-owned tables.
--
-- House rules, written once:
-- * lowercase SQL; table names as the product names them (tenants, users, clients).
-- * every table has created_at/updated_at (timestamptz).
-- * registry tables (tenants, tenant_domains) carry no row-level security: a tenant
--   is found by slug or host before any tenant context exists.
-- * every tenant-owned table has `tenant_id uuid not null` leading its primary key
--   and every index, row-level security enabled AND forced, and exactly one policy:
--   `tenant_isolation`, comparing tenant_id to the transaction-local setting
--   app.tenant_id. nullif(...,'') because after a transaction that set it ends, the
--   setting reads as '' on that connection rather than null, and ''::uuid would fail.
-- * usernames and emails are unique per tenant case-insensitively (lower()).

create table tenants (
    id uuid primary key,
    slug text not null unique,
    display_name text not null,
    status text not null default 'active',
    -- built-in tenants (default, _platforms) are created by `gatehouse migrate`
    -- and can never be renamed or deleted.
    builtin boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint tenants_slug_pattern check (slug ~ '^[a-z0-9_][a-z0-9_-]{0,62}$'),
    constraint tenants_slug_not_reserved check (builtin or (slug not like '\_%' and slug <> 'default')),
    constraint tenants_display_name_length check (char_length(display_name) between 1 and 200),
    constraint tenants_status check (status in ('active', 'suspended', 'inactive'))
);

-- Keyset pagination over tenants orders by slug; the unique index serves it.

create function tenants_protect_builtin() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and old.builtin then
        raise exception 'tenant % is reserved and cannot be deleted', old.slug
            using errcode = 'check_violation';
    end if;
    if tg_op = 'UPDATE' and old.builtin and (new.slug <> old.slug or not new.builtin) then
        raise exception 'tenant % is reserved and cannot be renamed', old.slug
            using errcode = 'check_violation';
    end if;
    if tg_op = 'DELETE' then
        return old;
    end if;
    return new;
end;
$$;

create trigger tenants_protect_builtin
    before update or delete on tenants
    for each row execute function tenants_protect_builtin();

create table tenant_domains (
    -- lowercase ASCII (punycode), no port, no trailing dot
    host text primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    verified boolean not null default false,
    is_primary boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint tenant_domains_host_form check (host = lower(host) and host !~ '[:/\s]' and host !~ '\.$')
);
create index tenant_domains_tenant on tenant_domains (tenant_id);
create unique index tenant_domains_one_primary on tenant_domains (tenant_id) where is_primary;

create table tenant_settings (
    tenant_id uuid not null references tenants (id) on delete cascade,
    section text not null,
    document jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, section),
    constraint tenant_settings_section check (section in
        ('application', 'branding', 'security', 'features', 'oidc', 'integrations', 'notifications')),
    constraint tenant_settings_document_object check (jsonb_typeof(document) = 'object')
);

create table users (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    username text not null,
    email text,
    email_verified boolean not null default false,
    name text,
    given_name text,
    family_name text,
    phone_number text,
    phone_number_verified boolean not null default false,
    address jsonb,
    locale text,
    password_hash text,
    disabled boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint users_username_length check (char_length(username) between 1 and 255)
);
create unique index users_username on users (tenant_id, lower(username));
create unique index users_email on users (tenant_id, lower(email)) where email is not null;

create table clients (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    client_id text not null,
    name text not null,
    -- sha-256 of a 256-bit random secret; null for public clients
    secret_hash text,
    public boolean not null default false,
    first_party boolean not null default false,
    auth_method text not null default 'client_secret_basic',
    redirect_uris text[] not null default '{}',
    post_logout_redirect_uris text[] not null default '{}',
    grant_types text[] not null default '{authorization_code,refresh_token}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, id),
    constraint clients_auth_method check (auth_method in
        ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
    constraint clients_public_has_no_secret check (not public or secret_hash is null)
);
create unique index clients_client_id on clients (tenant_id, client_id);

-- Row-level security: enabled and forced (forced so that even the owner is
-- subject to it), one policy per table.
alter table tenant_settings enable row level security;
alter table tenant_settings force row level security;
create policy tenant_isolation on tenant_settings
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

alter table users enable row level security;
alter table users force row level security;
create policy tenant_isolation on users
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

alter table clients enable row level security;
alter table clients force row level security;
create policy tenant_isolation on clients
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
