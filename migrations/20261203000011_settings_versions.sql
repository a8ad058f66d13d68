-- Every version of a tenant's settings section, written in the same
-- transaction as the change to `tenant_settings`: who changed it, when,
-- and the document as it then was (secrets inside stay sealed under the
-- master key). A previous version can be restored, which writes a new
-- version. Rows are only ever inserted: the server role may read and insert
-- (APPEND_ONLY in crates/core/src/db.rs), so the history cannot be edited.

create table tenant_settings_versions (
    tenant_id uuid not null references tenants (id) on delete cascade,
    section text not null,
    version integer not null,
    document jsonb not null,
    at timestamptz not null default clock_timestamp(),
    actor_kind text not null,
    actor_id text,
    actor_name text,
    -- The version this one restored, when it was a restore.
    restored_from integer,
    primary key (tenant_id, section, version),
    constraint tenant_settings_versions_version check (version > 0),
    constraint tenant_settings_versions_document_object check (jsonb_typeof(document) = 'object'),
    constraint tenant_settings_versions_actor_kind check (actor_kind in ('user', 'operator', 'client', 'system', 'anonymous'))
);

alter table tenant_settings_versions enable row level security;
alter table tenant_settings_versions force row level security;
create policy tenant_isolation on tenant_settings_versions
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
