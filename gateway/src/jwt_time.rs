//! Closes a gap of the engine's JWT authentication (0.2.19): a token whose
//! `nbf` ("not before") lies in the future is accepted. This middleware
//! refuses such tokens before the engine sees them, with a leeway for clock
//! skew. The engine still verifies signature, algorithm, issuer, audience
//! and expiry; this only reads the `nbf` claim of a bearer token.
//!
//! It runs in `crate::admission` (an ntex middleware) rather than in an
//! engine plugin: any registered
//! plugin makes the engine run its hook machinery at every stage of every
//! request (measured: about 14 % fewer requests/s on the benchmark), and
//! this check needs one header.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hive_router::ntex::web::{self, DefaultError, HttpResponse};

/// Refuses bearer tokens that are not valid yet.
#[derive(Clone, Copy)]
pub(crate) struct JwtNotBefore {
    pub leeway_seconds: u64,
}

/// The claims of a bearer token in an `Authorization` header value, read
/// without verifying it (the engine verifies; callers only use claims to
/// refuse early or to pick a rate-limit bucket).
pub(crate) fn unverified_claims(authorization: &str) -> Option<serde_json::Value> {
    let token = authorization.strip_prefix("Bearer ")?.trim();
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The token's `nbf` when it lies beyond `now + leeway`.
fn not_yet_valid(authorization: &str, now: u64, leeway: u64) -> Option<u64> {
    let nbf = unverified_claims(authorization)?.get("nbf")?.as_u64()?;
    (nbf > now.saturating_add(leeway)).then_some(nbf)
}

impl JwtNotBefore {
    /// The request, or the answer refusing its token as not valid yet.
    pub(crate) fn admit(
        &self,
        req: web::WebRequest<DefaultError>,
    ) -> Result<web::WebRequest<DefaultError>, web::WebResponse> {
        let refused = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                not_yet_valid(v, now, self.leeway_seconds).map(|nbf| (nbf, now))
            });
        match refused {
            None => Ok(req),
            Some((nbf, now)) => {
                let message = format!(
                    "The token is not valid yet (nbf {nbf} is {} s ahead).",
                    nbf.saturating_sub(now)
                );
                Err(req.into_response(
                    HttpResponse::Unauthorized()
                        .content_type("application/graphql-response+json; charset=utf-8")
                        .body(crate::request_id::error_body(&message, "UNAUTHENTICATED")),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::not_yet_valid;
    use base64::Engine;

    fn bearer(claims: serde_json::Value) -> String {
        let encode = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "Bearer {}.{}.sig",
            encode(&serde_json::json!({"alg": "RS256"})),
            encode(&claims)
        )
    }

    #[test]
    fn future_nbf_beyond_the_leeway_is_refused() {
        assert_eq!(
            not_yet_valid(&bearer(serde_json::json!({"nbf": 1_100})), 1_000, 30),
            Some(1_100)
        );
        assert_eq!(
            not_yet_valid(&bearer(serde_json::json!({"nbf": 1_020})), 1_000, 30),
            None
        );
        assert_eq!(
            not_yet_valid(&bearer(serde_json::json!({"sub": "x"})), 1_000, 30),
            None
        );
        assert_eq!(not_yet_valid("Basic abc", 1_000, 30), None);
        assert_eq!(not_yet_valid("Bearer not-a-jwt", 1_000, 30), None);
    }
}
