-- Run once by the postgres image on an empty data directory, as the
-- superuser (docker-entrypoint-initdb.d, psql with ON_ERROR_STOP).
--
-- Creates the schema owner `gatehouse_owner` and the database `gatehouse`
-- it owns. The server's own role (gatehouse_app) is NOT made here:
-- `gatehouse migrate` creates it, with the password in
-- GATEHOUSE_DATABASE_URL, and grants it exactly what it needs.
--
-- The owner's password comes from the container's environment
-- (GATEHOUSE_OWNER_DB_PASSWORD), read with psql's \getenv (psql 15+).

\getenv owner_password GATEHOUSE_OWNER_DB_PASSWORD
\if :{?owner_password}
\else
  do $$ begin raise exception 'GATEHOUSE_OWNER_DB_PASSWORD is not set in the postgres container'; end $$;
\endif

-- Owns the schema; can create the server's role; cannot bypass row-level
-- security.
create role gatehouse_owner login createrole nosuperuser nobypassrls nocreatedb
  password :'owner_password';

create database gatehouse owner gatehouse_owner;

-- Nobody but the owner connects until `gatehouse migrate` grants the
-- server's role CONNECT.
revoke all on database gatehouse from public;
