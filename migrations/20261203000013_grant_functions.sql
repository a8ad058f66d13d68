-- The token grants' database work in one round trip each.
--
-- A refresh grant used to be BEGIN + set_config, one statement, COMMIT: three
-- round trips, with the transaction held open while the server signed the
-- RS256 ID token. These functions do the same work in one call made outside
-- any explicit transaction: PostgreSQL runs the call as one transaction, so
-- it is still all or nothing, and the connection is free again before the
-- server signs anything.
--
-- Row-level security is unchanged: both functions are SECURITY INVOKER (they
-- run as the server's role, under every policy), and their first act is
-- set_config('app.tenant_id', p_tenant, true), exactly what Db::tenant_tx
-- does; the setting is local to the call's transaction, so it never outlives
-- the call on a pooled connection. They are the only other way server code
-- reaches tenant-owned tables (crates/core/src/db.rs, Db::tenant_call).

-- RFC 6749 §6 with RFC 9700 §4.14.2: finds the presented refresh token (by
-- its hash) and locks it, then, in this order:
--   no such token                          -> no row
--   issued to another client               -> 'wrong_client', nothing changed
--   already rotated (a copy came back)     -> 'replayed', its whole family revoked
--   revoked or expired                     -> 'inactive'
--   a requested scope beyond the grant     -> 'invalid_scope', nothing changed
--   user deleted, disabled or locked       -> 'inactive_user', nothing changed
--   otherwise                              -> 'rotated': the token is marked used and
--                                             the next token of its family inserted
--                                             (with the family's full scope)
-- The grant's fields come back with every row; when rotated and the scope
-- that will be issued (the requested one, else the grant's) holds `roles`,
-- the user's custom roles too (the `roles` claim).
create function refresh_rotate(
    p_tenant uuid,
    p_token_hash text,
    p_client_id text,
    p_requested text[],
    p_next_id uuid,
    p_next_hash text,
    p_ttl_secs bigint
) returns table (
    status text,
    family_id uuid,
    user_id uuid,
    scope text,
    sid text,
    auth_time timestamptz,
    acr text,
    amr text[],
    roles text[]
)
language plpgsql volatile security invoker
as $$
#variable_conflict use_column
declare
    t refresh_tokens%rowtype;
    active boolean;
begin
    perform set_config('app.tenant_id', p_tenant::text, true);
    select * into t from refresh_tokens r where r.token_hash = p_token_hash for update;
    if not found then
        return;
    end if;
    family_id := t.family_id;
    user_id := t.user_id;
    scope := t.scope;
    sid := t.sid;
    auth_time := t.auth_time;
    acr := t.acr;
    amr := t.amr;
    if t.client_id <> p_client_id then
        status := 'wrong_client';
    elsif t.used_at is not null then
        update refresh_tokens set revoked_at = now(), updated_at = now()
         where family_id = t.family_id and revoked_at is null;
        status := 'replayed';
    elsif t.revoked_at is not null or t.expires_at <= now() then
        status := 'inactive';
    elsif p_requested is not null
          and not (p_requested <@ string_to_array(t.scope, ' ')) then
        status := 'invalid_scope';
    else
        select not u.disabled and u.locked_at is null into active
          from users u where u.id = t.user_id;
        if not coalesce(active, false) then
            status := 'inactive_user';
        else
            update refresh_tokens set used_at = now(), updated_at = now()
             where tenant_id = t.tenant_id and id = t.id;
            insert into refresh_tokens (tenant_id, id, family_id, token_hash, client_id, user_id,
                                        scope, sid, auth_time, acr, amr, expires_at)
            values (t.tenant_id, p_next_id, t.family_id, p_next_hash, t.client_id, t.user_id,
                    t.scope, t.sid, t.auth_time, t.acr, t.amr,
                    now() + make_interval(secs => p_ttl_secs));
            status := 'rotated';
            if 'roles' = any(coalesce(p_requested, string_to_array(t.scope, ' '))) then
                roles := array(
                    select ur.role from user_roles ur
                      join roles ro on ro.tenant_id = ur.tenant_id and ro.name = ur.role
                     where ur.user_id = t.user_id order by ur.role);
            end if;
        end if;
    end if;
    return next;
end;
$$;

-- The authorization_code grant's database work: whether the user is still
-- active (exists, not disabled, not locked) and, when p_token_hash is given
-- and the user is active, the first refresh token of the grant's family.
-- With p_with_roles, the user's custom roles.
create function grant_for_user(
    p_tenant uuid,
    p_user_id uuid,
    p_with_roles boolean,
    p_token_id uuid,
    p_token_hash text,
    p_family_id uuid,
    p_client_id text,
    p_scope text,
    p_sid text,
    p_auth_time timestamptz,
    p_acr text,
    p_amr text[],
    p_ttl_secs bigint
) returns table (
    active boolean,
    roles text[]
)
language plpgsql volatile security invoker
as $$
#variable_conflict use_column
begin
    perform set_config('app.tenant_id', p_tenant::text, true);
    select not u.disabled and u.locked_at is null into active
      from users u where u.id = p_user_id;
    active := coalesce(active, false);
    if active and p_token_hash is not null then
        insert into refresh_tokens (tenant_id, id, family_id, token_hash, client_id, user_id,
                                    scope, sid, auth_time, acr, amr, expires_at)
        values (p_tenant, p_token_id, p_family_id, p_token_hash, p_client_id, p_user_id,
                p_scope, p_sid, p_auth_time, p_acr, p_amr,
                now() + make_interval(secs => p_ttl_secs));
    end if;
    if active and p_with_roles then
        roles := array(
            select ur.role from user_roles ur
              join roles ro on ro.tenant_id = ur.tenant_id and ro.name = ur.role
             where ur.user_id = p_user_id order by ur.role);
    end if;
    return next;
end;
$$;
