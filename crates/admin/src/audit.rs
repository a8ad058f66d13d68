//! Reading the audit log (written by `gatehouse_core::audit`): newest
//! first, filtered by time, actor and action, keyset-paginated on
//! `(at, id)` so a page costs the same however deep it is.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_core::TenantTx;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

/// Page sizes: 25 unless asked, never more than 100.
pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

/// What to read. Every field narrows; none set reads everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Events before this instant.
    pub until: Option<OffsetDateTime>,
    /// The actor's id (a user id, a client id).
    pub actor: Option<String>,
    /// An action name, or a prefix ending in `.` (`login.` matches
    /// `login.succeeded` and `login.failed`).
    pub action: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    pub items: Vec<AuditEvent>,
    /// The cursor of the next page; None on the last one.
    pub next: Option<String>,
}

/// A cursor names the last event of a page: its time (microseconds since
/// the epoch) and id, base64url-encoded.
fn encode_cursor(at: OffsetDateTime, id: Uuid) -> String {
    let micros = at.unix_timestamp_nanos() / 1_000;
    URL_SAFE_NO_PAD.encode(format!("{micros}:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(OffsetDateTime, Uuid), StoreError> {
    let bad = || StoreError::Invalid("the page cursor is not one this server issued".into());
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (micros, id) = raw.split_once(':').ok_or_else(bad)?;
    let micros: i128 = micros.parse().map_err(|_| bad())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| bad())?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

pub async fn list(tx: &mut TenantTx, filter: &Filter) -> Result<Page, StoreError> {
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(StoreError::Invalid(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    let after = filter.after.as_deref().map(decode_cursor).transpose()?;
    let (action_exact, action_prefix) = match filter.action.as_deref() {
        Some(a) if a.ends_with('.') => (None, Some(a)),
        Some(a) => (Some(a), None),
        None => (None, None),
    };
    // One more than the page, to know whether another page follows.
    let mut items = sqlx::query_as!(
        AuditEvent,
        "select id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id,
                host(ip) as ip, details
         from audit_events
         where ($1::timestamptz is null or at >= $1)
           and ($2::timestamptz is null or at < $2)
           and ($3::text is null or actor_id = $3)
           and ($4::text is null or action = $4)
           and ($5::text is null or starts_with(action, $5))
           and ($6::timestamptz is null or (at, id) < ($6, $7::uuid))
         order by at desc, id desc
         limit $8",
        filter.since,
        filter.until,
        filter.actor.as_deref(),
        action_exact,
        action_prefix,
        after.map(|(at, _)| at),
        after.map(|(_, id)| id),
        i64::from(limit) + 1,
    )
    .fetch_all(&mut **tx)
    .await?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|e| encode_cursor(e.at, e.id))
    } else {
        None
    };
    Ok(Page { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_700_000_123_456_000).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode_cursor(&encode_cursor(at, id)).unwrap(), (at, id));
        for bad in [
            "",
            "!!",
            &URL_SAFE_NO_PAD.encode("12:not-a-uuid"),
            &URL_SAFE_NO_PAD.encode("x"),
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
