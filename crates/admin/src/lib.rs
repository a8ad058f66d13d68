//! Gatehouse administration: the management API under `/api/v1`, the
//! `/platform` pages of the `_platforms` tenant, the per-tenant `/admin`
//! pages, audit queries, usage and quotas. It sits between the protocol
//! crate and the binary (`web → admin → oidc → tenancy → core`) and holds no
//! code yet: the administration issue fills it.
