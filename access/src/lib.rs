//! Meshwork's access model, shared by the catalog (which owns the records
//! and publishes them) and the gateway (which enforces them).
//!
//! - [`AccessSnapshot`]: everything a gateway needs to authenticate a caller
//!   and to know what it may read: JWT issuers, API-key hashes, consumers
//!   with their grants and plans. The catalog builds it from its tables; a
//!   gateway gets it in-process or from the control plane
//!   (`GET /control/access`), never from the database.
//! - [`Verifier`]: turns a request's credential (a JWT or an API key) into
//!   an [`Identity`]: who is calling, which consumer, which scopes.
//! - [`scopes`]: the names of the scopes grants and admins carry, which
//!   composition writes into the supergraph as `@requiresScopes`.
//!
//! This crate knows nothing of SQL, HTTP servers or the federation engine.

pub mod control;
pub mod scopes;
mod snapshot;
mod verify;

pub use snapshot::{
    AccessSnapshot, ApiKeyRecord, CachePurgeRecord, ConsumerRecord, GrantRecord, IssuerRecord,
    PlanRecord, ProductRecord, SavedQueryRecord, CACHE_PURGE_WINDOW,
};
pub use verify::{
    api_key_hash, check_issuer, Credential, Identity, Refusal, Verifier, VerifyError,
};

/// `bytes` random bytes as lower-case hex: keys, secrets, instance ids.
pub fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness: {e}"))?;
    Ok(hex::encode(buf))
}
