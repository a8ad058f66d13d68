-- Second factors: TOTP (RFC 6238) and single-use recovery codes.
--
-- A user has at most one TOTP factor. It is pending (confirmed_at null) from
-- enrolment until the user proves the authenticator app works by entering a
-- code; a pending factor never authenticates, and a new enrolment replaces it.
-- The shared secret (RFC 4226 §4 R6: the verifier must keep it confidential)
-- is sealed with AES-256-GCM under the platform master key named by
-- master_key_id; the associated data binds it to (tenant_id, user_id), so a
-- sealed secret copied into another row or tenant does not open.
-- last_step is the RFC 6238 time step of the last accepted code: a code for
-- that step or an earlier one is refused (RFC 6238 §5.2, one-time use).
create table totp_factors (
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_id uuid not null,
    master_key_id text not null,
    sealed_secret bytea not null,
    confirmed_at timestamptz,
    last_step bigint,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, user_id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    constraint totp_factors_confirmed_has_step check (confirmed_at is null or last_step is not null)
);

alter table totp_factors enable row level security;
alter table totp_factors force row level security;
create policy tenant_isolation on totp_factors
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

-- Recovery codes: ten per user, each usable once (used_at set), shown to the
-- user only when generated. Stored as SHA-256 of the normalised code bound to
-- tenant and user; the codes carry about 59 bits of entropy each.
create table recovery_codes (
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_id uuid not null,
    code_hash text not null,
    used_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant_id, user_id, code_hash),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);

alter table recovery_codes enable row level security;
alter table recovery_codes force row level security;
create policy tenant_isolation on recovery_codes
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
