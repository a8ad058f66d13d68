-- A production-shaped database for bench/oidc.sh: the tables the measured
-- requests read hold many rows of other users and other tenants, and have
-- statistics, as autovacuum keeps them in production.
--
-- Without this the bench starts on near-empty, never-analysed tables, and
-- PostgreSQL cannot tell an index on (tenant_id, token_hash) from one on
-- (tenant_id, user_id): every index leads with tenant_id for row-level
-- security, both estimate one row, and a generic plan cached while a table
-- is tiny may pick the wrong one and keep it (a prepared statement is only
-- re-planned when the table's statistics change). The refresh grant then
-- scans every refresh token of the tenant, more each second. A real
-- deployment with autovacuum on (PostgreSQL's default) analyses a table as
-- it grows, which re-plans every cached statement that reads it.
--
-- Run by bench/oidc.sh as the schema owner after the tenants, clients and
-- users are created; app.tenant_id is set for each tenant in turn, since the
-- owner is subject to row-level security like the server.

select set_config('app.tenant_id', id::text, false) from tenants where slug = 'beta';
insert into users (tenant_id, id, username, email, name)
select current_setting('app.tenant_id')::uuid, gen_random_uuid(), 'seed' || g,
       'seed' || g || '@example.com', 'Seed user ' || g
from generate_series(1, 20000) g;
insert into refresh_tokens (tenant_id, id, family_id, token_hash, client_id, user_id, scope,
                            sid, auth_time, amr, expires_at, used_at)
select current_setting('app.tenant_id')::uuid, gen_random_uuid(), gen_random_uuid(),
       encode(sha256(('seed-beta-' || g)::bytea), 'hex'), 'seed-client', gen_random_uuid(),
       'openid offline_access', null, now() - interval '1 day', '{pwd}',
       now() + interval '29 days', case when g % 4 = 0 then null else now() - interval '1 hour' end
from generate_series(1, 100000) g;

select set_config('app.tenant_id', id::text, false) from tenants where slug = 'acme';
insert into users (tenant_id, id, username, email, name)
select current_setting('app.tenant_id')::uuid, gen_random_uuid(), 'seed' || g,
       'seed' || g || '@example.com', 'Seed user ' || g
from generate_series(1, 2000) g;
insert into refresh_tokens (tenant_id, id, family_id, token_hash, client_id, user_id, scope,
                            sid, auth_time, amr, expires_at, used_at)
select current_setting('app.tenant_id')::uuid, gen_random_uuid(), gen_random_uuid(),
       encode(sha256(('seed-acme-' || g)::bytea), 'hex'), 'seed-client', gen_random_uuid(),
       'openid offline_access', null, now() - interval '1 day', '{pwd}',
       now() + interval '29 days', case when g % 4 = 0 then null else now() - interval '1 hour' end
from generate_series(1, 10000) g;

-- What autovacuum would have done by now: statistics for every table.
do $$
declare t text;
begin
    for t in select tablename from pg_tables where schemaname = 'public' loop
        execute format('analyze %I', t);
    end loop;
end $$;
