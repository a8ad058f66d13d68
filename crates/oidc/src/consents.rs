//! Consent remembered per user, client and scopes (OpenID Connect Core
//! §3.1.2.4): a user is asked again only for scopes not yet granted.

use gatehouse_core::TenantTx;
use uuid::Uuid;

use crate::StoreError;

/// Whether the user already granted every one of `scopes` to the client.
pub async fn covers(
    tx: &mut TenantTx,
    user: Uuid,
    client_id: &str,
    scopes: &[&str],
) -> Result<bool, StoreError> {
    let granted = sqlx::query_scalar!(
        "select scopes from consents where user_id = $1 and client_id = $2",
        user,
        client_id,
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(granted.is_some_and(|g| scopes.iter().all(|s| g.iter().any(|x| x == s))))
}

/// Adds `scopes` to what the user granted the client.
pub async fn grant(
    tx: &mut TenantTx,
    user: Uuid,
    client_id: &str,
    scopes: &[&str],
) -> Result<(), StoreError> {
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    sqlx::query!(
        "insert into consents (tenant_id, user_id, client_id, scopes) values ($1, $2, $3, $4)
         on conflict (tenant_id, user_id, client_id) do update
         set scopes = (select array_agg(distinct s order by s) from unnest(consents.scopes || excluded.scopes) s),
             updated_at = now()",
        tx.tenant().as_uuid(),
        user,
        client_id,
        &scopes,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Withdraws the user's consent for the client.
pub async fn revoke(tx: &mut TenantTx, user: Uuid, client_id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query!(
        "delete from consents where user_id = $1 and client_id = $2",
        user,
        client_id
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0)
}

/// An application the user has granted access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub updated_at: time::OffsetDateTime,
}

/// The applications the user has granted access to, most recent first.
pub async fn list(tx: &mut TenantTx, user: Uuid) -> Result<Vec<Granted>, StoreError> {
    Ok(sqlx::query_as!(
        Granted,
        "select c.client_id, cl.name as client_name, c.scopes, c.updated_at
         from consents c join clients cl on cl.tenant_id = c.tenant_id and cl.client_id = c.client_id
         where c.user_id = $1
         order by c.updated_at desc, c.client_id",
        user,
    )
    .fetch_all(&mut **tx)
    .await?)
}
