//! The first platform administrator. On a new deployment nobody can sign
//! in at `/platform`, so `gatehouse serve` creates a user of `_platforms`
//! with the `platform_admin` role from `GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL` and
//! `GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD` when no user with that address
//! exists there. An existing user is left exactly as it is: the variables
//! never reset a password or give back a role that was taken away.

use gatehouse_core::audit::{self, action, Actor, Entry};
use gatehouse_core::crypto::PasswordHasher;
use gatehouse_core::password_policy::PasswordPolicy;
use gatehouse_core::{Db, TenantId};
use gatehouse_oidc::users::{self, NewUser};
use uuid::Uuid;

use crate::roles;
use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The administrator was created, with this user id.
    Created(Uuid),
    /// A user with that email already exists at `_platforms`.
    Exists(Uuid),
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL: {0}")]
    Email(String),
    #[error(
        "GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD does not meet the platform's password policy: {0}"
    )]
    WeakPassword(String),
    #[error("password hashing failed")]
    Hash,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates the bootstrap administrator in `platforms` (the `_platforms`
/// tenant) unless a user with `email` exists there. Safe to run on every
/// start and on several nodes at once: a node that loses the race to
/// create the user finds it on its second look.
pub async fn ensure_admin(
    db: &Db,
    platforms: TenantId,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    email: &str,
    password: &str,
) -> Result<Outcome, BootstrapError> {
    let email = email.trim();
    if let Some(id) = existing(db, platforms, email).await? {
        return Ok(Outcome::Exists(id));
    }
    if let Err(violations) = policy.check(password, &[email]) {
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        return Err(BootstrapError::WeakPassword(list.join("; ")));
    }
    let hash = hasher
        .hash(password.to_owned())
        .await
        .map_err(|_| BootstrapError::Hash)?;
    let mut tx = db.tenant_tx(platforms).await.map_err(StoreError::from)?;
    let created = users::create(
        &mut tx,
        NewUser {
            username: email.to_owned(),
            email: Some(email.to_owned()),
            name: Some("Platform administrator".to_owned()),
            password_hash: Some(hash),
        },
    )
    .await;
    let user = match created {
        Ok(user) => user,
        Err(StoreError::Duplicate) => {
            drop(tx);
            return match existing(db, platforms, email).await? {
                Some(id) => Ok(Outcome::Exists(id)),
                None => Err(BootstrapError::Email(
                    "a user of _platforms already has this address as username".into(),
                )),
            };
        }
        Err(StoreError::Invalid(msg)) => return Err(BootstrapError::Email(msg)),
        Err(e) => return Err(e.into()),
    };
    users::mark_email_verified(&mut tx, user.id, email).await?;
    roles::assign(&mut tx, true, user.id, roles::PLATFORM_ADMIN).await?;
    audit::record(
        &mut tx,
        &Entry::new(Actor::system(), action::ADMIN_BOOTSTRAPPED)
            .target("user", user.id)
            .details(serde_json::json!({ "email": email, "roles": [roles::PLATFORM_ADMIN] })),
    )
    .await
    .map_err(StoreError::from)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Outcome::Created(user.id))
}

async fn existing(db: &Db, platforms: TenantId, email: &str) -> Result<Option<Uuid>, StoreError> {
    let mut tx = db.tenant_tx(platforms).await?;
    let user = users::find_by_email(&mut tx, email).await?;
    tx.commit().await?;
    Ok(user.map(|u| u.id))
}
