-- Administration: who administers a tenant (role assignments), the roles
-- applications receive in tokens (custom roles), and what happened in the
-- tenant (the audit log).
--
-- Built-in administrative roles are not rows: owner, admin, member and
-- readonly exist in every tenant, platform_admin and platform_viewer only
-- in `_platforms`; the server checks a role name against them and against
-- `roles` before assigning it. Custom roles are rows of `roles`; deleting
-- one deletes its assignments (in the same transaction, by the server).

create table roles (
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null,
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, name),
    constraint roles_name_format check (name ~ '^[a-z][a-z0-9_.:-]{0,63}$'),
    constraint roles_description_length check (char_length(description) <= 500)
);

create table user_roles (
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_id uuid not null,
    role text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, user_id, role),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    constraint user_roles_role_format check (role ~ '^[a-z][a-z0-9_.:-]{0,63}$')
);
create index user_roles_role on user_roles (tenant_id, role);

-- One row per administrative change or security event. Rows are only ever
-- inserted: the server role may read and insert, never update or delete
-- (the grants below), so an administrator who can act cannot also erase
-- the record of it. Deleting the tenant removes its log with it.
--
-- actor_kind: user (someone signed in at this tenant), operator (a platform
-- operator who entered the tenant), client (an API client's token),
-- system (the server itself: scheduled rotation, bootstrap), anonymous (an
-- unauthenticated request, e.g. a failed sign-in).
-- details: what changed, with secrets masked by the writer.
create table audit_events (
    tenant_id uuid not null references tenants (id) on delete cascade,
    id uuid not null,
    at timestamptz not null default clock_timestamp(),
    actor_kind text not null,
    actor_id text,
    actor_name text,
    action text not null,
    target_kind text,
    target_id text,
    ip inet,
    details jsonb not null default '{}',
    primary key (tenant_id, id),
    constraint audit_events_actor_kind check (actor_kind in ('user', 'operator', 'client', 'system', 'anonymous')),
    constraint audit_events_action_format check (action ~ '^[a-z][a-z0-9_.]{0,63}$')
);
-- Newest first, keyset-paginated on (at, id); filters by action and actor.
create index audit_events_at on audit_events (tenant_id, at desc, id desc);
create index audit_events_action on audit_events (tenant_id, action, at desc);
create index audit_events_actor on audit_events (tenant_id, actor_id, at desc);

alter table roles enable row level security;
alter table roles force row level security;
create policy tenant_isolation on roles
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

alter table user_roles enable row level security;
alter table user_roles force row level security;
create policy tenant_isolation on user_roles
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

alter table audit_events enable row level security;
alter table audit_events force row level security;
create policy tenant_isolation on audit_events
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
