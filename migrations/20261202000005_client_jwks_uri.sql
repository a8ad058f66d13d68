-- private_key_jwt with keys published by the client at a URL (OpenID
-- Connect Dynamic Client Registration §2: jwks_uri; "The jwks_uri and jwks
-- parameters MUST NOT both be present in the same request or response").
alter table clients
    add column jwks_uri text,
    drop constraint clients_private_key_jwt_has_keys,
    add constraint clients_private_key_jwt_has_keys
        check (auth_method <> 'private_key_jwt' or jwks is not null or jwks_uri is not null),
    add constraint clients_one_key_source check (jwks is null or jwks_uri is null);
