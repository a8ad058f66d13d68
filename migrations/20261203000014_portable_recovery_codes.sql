-- Recovery codes carried by a tenant export. A code's hash is bound to the
-- tenant and the user that issued it; an imported tenant has a new id, and
-- the codes cannot be hashed again (only their hashes are kept). So an
-- imported code keeps the id of the tenant it was hashed for, and a code
-- presented at sign-in is hashed for that tenant id. Null: this row's own
-- tenant, as for every code issued here. The hash stays bound to the user,
-- whose id an import keeps.
alter table recovery_codes add column hash_tenant_id uuid;
