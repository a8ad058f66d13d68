-- private_key_jwt client authentication (OpenID Connect Core §9, RFC 7523):
-- the client's public keys, registered inline as a JWK Set.
alter table clients
    add column jwks jsonb,
    add constraint clients_jwks_object check (jwks is null or jsonb_typeof(jwks -> 'keys') = 'array'),
    add constraint clients_private_key_jwt_has_keys check (auth_method <> 'private_key_jwt' or jwks is not null);
