//! End users of a tenant. Every function takes a [`TenantTx`], so a user is
//! only ever read or written inside its tenant's row-level-security context.
//! Passwords arrive here already hashed (argon2id, see
//! `gatehouse_core::crypto::PasswordHasher`).

use gatehouse_core::TenantTx;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When an administrator locked the account; None when not locked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_at: Option<OffsetDateTime>,
}

impl User {
    /// Neither disabled nor locked: may sign in and use its grants.
    pub fn active(&self) -> bool {
        !self.disabled && self.locked_at.is_none()
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub password_hash: Option<String>,
}

impl NewUser {
    fn validate(&self) -> Result<(), StoreError> {
        let u = self.username.trim();
        if u.is_empty() || u.chars().count() > 255 || u.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "username must be 1 to 255 printable characters".into(),
            ));
        }
        if let Some(e) = &self.email {
            check_email(e)?;
        }
        Ok(())
    }
}

fn check_email(e: &str) -> Result<(), StoreError> {
    let valid = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid("email is not a valid address".into()))
    }
}

/// An administrator's edit of a user's name and email address (None
/// clears either). Another account's address is [`StoreError::Duplicate`].
pub async fn set_contact(
    tx: &mut TenantTx,
    id: Uuid,
    name: Option<&str>,
    email: Option<&str>,
    email_verified: bool,
) -> Result<(), StoreError> {
    if let Some(n) = name {
        if n.chars().count() > 200 || n.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "name must be at most 200 printable characters".into(),
            ));
        }
    }
    if let Some(e) = email {
        check_email(e)?;
    }
    let n = sqlx::query!(
        "update users set name = $2, email = $3, email_verified = $4 and $3::text is not null,
                updated_at = now()
         where id = $1",
        id,
        name,
        email,
        email_verified,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn create(tx: &mut TenantTx, new: NewUser) -> Result<User, StoreError> {
    new.validate()?;
    let tenant = tx.tenant().as_uuid();
    let user = sqlx::query_as!(
        User,
        "insert into users (tenant_id, id, username, email, name, password_hash)
         values ($1, $2, $3, $4, $5, $6)
         returning id, username, email, email_verified, name, disabled, created_at, updated_at, locked_at",
        tenant,
        Uuid::new_v4(),
        new.username.trim(),
        new.email.as_deref(),
        new.name.as_deref(),
        new.password_hash.as_deref(),
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(user)
}

/// Case-insensitive, as the unique index.
pub async fn find_by_username(
    tx: &mut TenantTx,
    username: &str,
) -> Result<Option<User>, StoreError> {
    Ok(sqlx::query_as!(
        User,
        "select id, username, email, email_verified, name, disabled, created_at, updated_at, locked_at
         from users where lower(username) = lower($1)",
        username,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Case-insensitive, as the unique index.
pub async fn find_by_email(tx: &mut TenantTx, email: &str) -> Result<Option<User>, StoreError> {
    Ok(sqlx::query_as!(
        User,
        "select id, username, email, email_verified, name, disabled, created_at, updated_at, locked_at
         from users where lower(email) = lower($1)",
        email.trim(),
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// The user a sign-in or reset form names: by username, else by email.
/// Both lookups run for an address, found or not, so the time taken does
/// not tell which exists.
pub async fn find_by_login(tx: &mut TenantTx, login: &str) -> Result<Option<User>, StoreError> {
    let by_name = find_by_username(tx, login).await?;
    let by_email = if login.contains('@') {
        find_by_email(tx, login).await?
    } else {
        None
    };
    Ok(by_name.or(by_email))
}

/// Marks `email` verified, if it is still the user's address (it may have
/// changed since the link was sent). Returns whether it was.
pub async fn mark_email_verified(
    tx: &mut TenantTx,
    id: Uuid,
    email: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query!(
        "update users set email_verified = true, updated_at = now()
         where id = $1 and lower(email) = lower($2)",
        id,
        email,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// What a user may change about themselves on the account page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub locale: Option<String>,
}

/// Replaces the user's profile claims (each at most 200 characters).
pub async fn update_profile(tx: &mut TenantTx, id: Uuid, p: &Profile) -> Result<(), StoreError> {
    for v in [&p.name, &p.given_name, &p.family_name, &p.locale]
        .into_iter()
        .flatten()
    {
        if v.chars().count() > 200 || v.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "profile values are at most 200 printable characters".into(),
            ));
        }
    }
    sqlx::query!(
        "update users set name = $2, given_name = $3, family_name = $4, locale = $5, updated_at = now()
         where id = $1",
        id,
        p.name,
        p.given_name,
        p.family_name,
        p.locale,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the user's email address with `email`, verified (the user
/// opened a link sent to it). Another account's address is
/// [`StoreError::Duplicate`].
pub async fn change_email(tx: &mut TenantTx, id: Uuid, email: &str) -> Result<(), StoreError> {
    sqlx::query!(
        "update users set email = $2, email_verified = true, updated_at = now() where id = $1",
        id,
        email,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets the user's preferred language (BCP 47), released as `locale`.
pub async fn set_locale(tx: &mut TenantTx, id: Uuid, locale: &str) -> Result<(), StoreError> {
    sqlx::query!(
        "update users set locale = $2, updated_at = now() where id = $1",
        id,
        locale
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends every browser session of the user: sessions carry the epoch they
/// began in, and this moves to the next one.
pub async fn end_sessions(tx: &mut TenantTx, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!(
        "update users set session_epoch = session_epoch + 1, updated_at = now() where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The user's current session epoch (for a session that begins now).
pub async fn session_epoch(tx: &mut TenantTx, id: Uuid) -> Result<i32, StoreError> {
    Ok(
        sqlx::query_scalar!("select session_epoch from users where id = $1", id)
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or_default(),
    )
}

/// Of the users `ids` that exist: each one's id, username and current
/// session epoch (the tenant's list of sessions names their users and
/// leaves out sessions an epoch change ended).
pub async fn epochs(
    tx: &mut TenantTx,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String, i32)>, StoreError> {
    Ok(sqlx::query!(
        "select id, username, session_epoch from users where id = any($1)",
        ids
    )
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|r| (r.id, r.username, r.session_epoch))
    .collect())
}

pub async fn set_password_hash(tx: &mut TenantTx, id: Uuid, hash: &str) -> Result<(), StoreError> {
    let n = sqlx::query!(
        "update users set password_hash = $2, updated_at = now() where id = $1",
        id,
        hash
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<User>, StoreError> {
    Ok(sqlx::query_as!(
        User,
        "select id, username, email, email_verified, name, disabled, created_at, updated_at, locked_at
         from users where id = $1",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Disables or enables the user. Disabling also ends their sessions: a
/// disabled user cannot sign in, and was signed out everywhere.
pub async fn set_disabled(tx: &mut TenantTx, id: Uuid, disabled: bool) -> Result<(), StoreError> {
    let n = sqlx::query!(
        "update users set disabled = $2,
                session_epoch = session_epoch + (case when $2 then 1 else 0 end),
                updated_at = now()
         where id = $1",
        id,
        disabled
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Locks or unlocks the account (an administrator's hold). Locking moves
/// the session epoch on, so the user is signed out everywhere; a locked
/// user cannot sign in or redeem refresh tokens until unlocked.
pub async fn set_locked(tx: &mut TenantTx, id: Uuid, locked: bool) -> Result<(), StoreError> {
    let n = sqlx::query!(
        "update users set locked_at = case when $2 then coalesce(locked_at, now()) end,
                session_epoch = session_epoch + (case when $2 and locked_at is null then 1 else 0 end),
                updated_at = now()
         where id = $1",
        id,
        locked
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes the user with everything of theirs in the tenant: factors,
/// passkeys, links and roles by cascade; refresh tokens and consents here.
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!("delete from refresh_tokens where user_id = $1", id)
        .execute(&mut **tx)
        .await?;
    sqlx::query!("delete from consents where user_id = $1", id)
        .execute(&mut **tx)
        .await?;
    let n = sqlx::query!("delete from users where id = $1", id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The stored password hash, for verification.
pub async fn password_hash(tx: &mut TenantTx, id: Uuid) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar!("select password_hash from users where id = $1", id)
            .fetch_optional(&mut **tx)
            .await?
            .flatten(),
    )
}

/// Keyset pagination by username.
pub async fn list(
    tx: &mut TenantTx,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, StoreError> {
    Ok(sqlx::query_as!(
        User,
        "select id, username, email, email_verified, name, disabled, created_at, updated_at, locked_at
         from users where lower(username) > lower($1) order by lower(username) limit $2",
        after.unwrap_or(""),
        limit.clamp(1, 1000),
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Keyset pagination by username over the users whose username or email
/// address starts with `query` (case-insensitive); every user without one.
pub async fn search(
    tx: &mut TenantTx,
    query: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, StoreError> {
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    Ok(sqlx::query_as!(
        User,
        "select id, username, email, email_verified, name, disabled, created_at, updated_at, locked_at
         from users
         where lower(username) > lower($1)
           and ($3::text is null
                or starts_with(lower(username), lower($3))
                or starts_with(lower(coalesce(email, '')), lower($3)))
         order by lower(username) limit $2",
        after.unwrap_or(""),
        limit.clamp(1, 1000),
        query,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// A user as a tenant export carries it: the account and its claims, and
/// the password's argon2id hash (PHC string), so that the user signs in
/// with the same password after an import. Second factors travel apart
/// from it, and only when asked for (see `mfa` and `passkeys`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PortableUser {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub address: Option<serde_json::Value>,
    pub locale: Option<String>,
    pub disabled: bool,
    pub password_hash: Option<String>,
}

/// Every user of the tenant, by username.
pub async fn export_all(tx: &mut TenantTx) -> Result<Vec<PortableUser>, StoreError> {
    Ok(sqlx::query_as!(
        PortableUser,
        "select id, username, email, email_verified, name, given_name, family_name, phone_number,
                phone_number_verified, address, locale, disabled, password_hash
         from users order by lower(username)",
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Creates an exported user under its own id (so `sub` stays the same),
/// after the checks of [`create`] and of its password hash (an argon2id
/// PHC string, or none).
pub async fn import(tx: &mut TenantTx, u: &PortableUser) -> Result<(), StoreError> {
    NewUser {
        username: u.username.clone(),
        email: u.email.clone(),
        name: u.name.clone(),
        password_hash: None,
    }
    .validate()?;
    if let Some(h) = &u.password_hash {
        if !h.starts_with("$argon2id$") || h.len() > 512 {
            return Err(StoreError::Invalid(format!(
                "user {:?}: password_hash must be an argon2id PHC string",
                u.username
            )));
        }
    }
    if u.address.as_ref().is_some_and(|a| !a.is_object()) {
        return Err(StoreError::Invalid(format!(
            "user {:?}: address must be an object",
            u.username
        )));
    }
    sqlx::query!(
        "insert into users (tenant_id, id, username, email, email_verified, name, given_name, family_name,
                            phone_number, phone_number_verified, address, locale, disabled, password_hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        tx.tenant().as_uuid(),
        u.id,
        u.username.trim(),
        u.email.as_deref(),
        u.email_verified,
        u.name.as_deref(),
        u.given_name.as_deref(),
        u.family_name.as_deref(),
        u.phone_number.as_deref(),
        u.phone_number_verified,
        u.address.as_ref(),
        u.locale.as_deref(),
        u.disabled,
        u.password_hash.as_deref(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Everything OpenID Connect can release about a user (Core §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClaims {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub address: Option<serde_json::Value>,
    pub locale: Option<String>,
    pub disabled: bool,
    pub updated_at: OffsetDateTime,
    /// Browser sessions that began under another epoch are over.
    pub session_epoch: i32,
    /// Locked by an administrator.
    pub locked: bool,
}

impl UserClaims {
    /// Neither disabled nor locked: may sign in and use its grants.
    pub fn active(&self) -> bool {
        !self.disabled && !self.locked
    }
}

pub async fn claims(tx: &mut TenantTx, id: Uuid) -> Result<Option<UserClaims>, StoreError> {
    Ok(sqlx::query_as!(
        UserClaims,
        "select id, username, email, email_verified, name, given_name, family_name, phone_number,
                phone_number_verified, address, locale, disabled, updated_at, session_epoch,
                locked_at is not null as \"locked!\"
         from users where id = $1",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// The tenant's custom roles (rows of `roles`) that `id` holds, by name:
/// the `roles` claim. Administrative roles are never released to
/// applications.
pub async fn custom_roles(tx: &mut TenantTx, id: Uuid) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        "select ur.role from user_roles ur
         join roles r on r.tenant_id = ur.tenant_id and r.name = ur.role
         where ur.user_id = $1 order by ur.role",
        id,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// The claims released for `scopes` (OpenID Connect Core §5.4): `sub`
/// always; profile, email, phone and address by their scope.
pub fn released(u: &UserClaims, scopes: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let mut out = serde_json::Map::new();
    out.insert("sub".into(), json!(u.id.to_string()));
    let mut put = |k: &str, v: serde_json::Value| {
        if !v.is_null() {
            out.insert(k.into(), v);
        }
    };
    if scopes.contains(&"profile") {
        put("name", json!(u.name));
        put("given_name", json!(u.given_name));
        put("family_name", json!(u.family_name));
        put("preferred_username", json!(u.username));
        put("locale", json!(u.locale));
        put("updated_at", json!(u.updated_at.unix_timestamp()));
    }
    if scopes.contains(&"email") && u.email.is_some() {
        put("email", json!(u.email));
        put("email_verified", json!(u.email_verified));
    }
    if scopes.contains(&"phone") && u.phone_number.is_some() {
        put("phone_number", json!(u.phone_number));
        put("phone_number_verified", json!(u.phone_number_verified));
    }
    if scopes.contains(&"address") {
        put(
            "address",
            u.address.clone().unwrap_or(serde_json::Value::Null),
        );
    }
    out
}
