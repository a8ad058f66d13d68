//! Roles. Administrative roles are built in: `owner`, `admin`, `member`
//! and `readonly` in every tenant, and `platform_admin` and
//! `platform_viewer` in `_platforms` only. Custom roles are defined per
//! tenant (rows of `roles`) and are what applications receive in tokens.
//! Assignments of both kinds are rows of `user_roles`, read and written
//! only inside the tenant's row-level-security context.

use gatehouse_core::TenantTx;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

/// Administrative roles of every tenant, strongest first.
pub const TENANT_ROLES: [&str; 4] = ["owner", "admin", "member", "readonly"];
/// Roles that exist only in `_platforms`.
pub const PLATFORM_ROLES: [&str; 2] = ["platform_admin", "platform_viewer"];

pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";
pub const READONLY: &str = "readonly";
pub const PLATFORM_ADMIN: &str = "platform_admin";
pub const PLATFORM_VIEWER: &str = "platform_viewer";

/// Whether `name` is a built-in role (of any tenant kind).
pub fn is_builtin(name: &str) -> bool {
    TENANT_ROLES.contains(&name) || PLATFORM_ROLES.contains(&name)
}

/// The same rule as the `roles_name_format` check constraint: lower case,
/// starting with a letter, at most 64 characters of `a-z0-9_.:-`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && chars.all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | ':' | '-')
        })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomRole {
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Defines a custom role.
pub async fn create(
    tx: &mut TenantTx,
    name: &str,
    description: &str,
) -> Result<CustomRole, StoreError> {
    if !valid_name(name) {
        return Err(StoreError::Invalid(
            "a role name is 1 to 64 characters: a lower-case letter, then a-z, 0-9, _ . : -".into(),
        ));
    }
    if is_builtin(name) {
        return Err(StoreError::Invalid(format!("{name:?} is a built-in role")));
    }
    if description.chars().count() > 500 {
        return Err(StoreError::Invalid(
            "a role description is at most 500 characters".into(),
        ));
    }
    Ok(sqlx::query_as!(
        CustomRole,
        "insert into roles (tenant_id, name, description) values ($1, $2, $3)
         returning name, description, created_at",
        tx.tenant().as_uuid(),
        name,
        description,
    )
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<CustomRole>, StoreError> {
    Ok(sqlx::query_as!(
        CustomRole,
        "select name, description, created_at from roles order by name"
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Deletes a custom role and every assignment of it.
pub async fn delete(tx: &mut TenantTx, name: &str) -> Result<(), StoreError> {
    sqlx::query!("delete from user_roles where role = $1", name)
        .execute(&mut **tx)
        .await?;
    let n = sqlx::query!("delete from roles where name = $1", name)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Gives `user` the role `role`: a built-in role of this kind of tenant
/// (`platforms` says whether the transaction's tenant is `_platforms`) or
/// one of its custom roles. Returns false when the user already had it.
pub async fn assign(
    tx: &mut TenantTx,
    platforms: bool,
    user: Uuid,
    role: &str,
) -> Result<bool, StoreError> {
    let allowed = if platforms {
        PLATFORM_ROLES.contains(&role)
    } else {
        TENANT_ROLES.contains(&role)
    };
    if !allowed {
        if is_builtin(role) {
            return Err(StoreError::Invalid(format!(
                "{role:?} is not a role of this tenant"
            )));
        }
        let exists = sqlx::query_scalar!(
            "select exists (select 1 from roles where name = $1) as \"exists!\"",
            role
        )
        .fetch_one(&mut **tx)
        .await?;
        if !exists {
            return Err(StoreError::Invalid(format!("no role named {role:?}")));
        }
    }
    let n = sqlx::query!(
        "insert into user_roles (tenant_id, user_id, role) values ($1, $2, $3)
         on conflict do nothing",
        tx.tenant().as_uuid(),
        user,
        role,
    )
    .execute(&mut **tx)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
        other => other.into(),
    })?
    .rows_affected();
    Ok(n == 1)
}

/// Takes `role` from `user`. Refuses to take the last owner's `owner`
/// role, or the last platform administrator's, so a tenant (or the
/// platform) always keeps someone who can administer it.
pub async fn remove(tx: &mut TenantTx, user: Uuid, role: &str) -> Result<(), StoreError> {
    if role == OWNER || role == PLATFORM_ADMIN {
        // Lock the role's assignments so two concurrent removals cannot
        // each see the other's holder as the one who remains.
        let holders = sqlx::query_scalar!(
            "select user_id from user_roles where role = $1 for update",
            role
        )
        .fetch_all(&mut **tx)
        .await?;
        if holders == [user] {
            return Err(StoreError::Invalid(format!(
                "the last {role} cannot lose the role; give it to someone else first"
            )));
        }
    }
    let n = sqlx::query!(
        "delete from user_roles where user_id = $1 and role = $2",
        user,
        role
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The roles of `user`, built-in and custom, sorted.
pub async fn of_user(tx: &mut TenantTx, user: Uuid) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        "select role from user_roles where user_id = $1 order by role",
        user
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// The custom roles of `user`: what a `roles` claim carries.
pub async fn custom_of_user(tx: &mut TenantTx, user: Uuid) -> Result<Vec<String>, StoreError> {
    Ok(of_user(tx, user)
        .await?
        .into_iter()
        .filter(|r| !is_builtin(r))
        .collect())
}

/// The users holding `role`.
pub async fn holders(tx: &mut TenantTx, role: &str) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar!(
        "select user_id from user_roles where role = $1 order by created_at, user_id",
        role
    )
    .fetch_all(&mut **tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_constraint() {
        for ok in ["editor", "billing:read", "a", "team.lead-2"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "Editor", "1st", "has space", "ü", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(is_builtin("owner") && is_builtin("platform_viewer") && !is_builtin("editor"));
    }
}
