-- An address change is proved by a link sent to the new address.
alter table user_tokens
    drop constraint user_tokens_purpose,
    add constraint user_tokens_purpose check (purpose in ('verify_email', 'reset_password', 'change_email'));
