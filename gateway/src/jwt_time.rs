//! Closes a gap of the engine's JWT authentication (0.2.19): a token whose
//! `nbf` ("not before") lies in the future is accepted. This plugin refuses
//! such tokens before the engine sees them, with a leeway for clock skew.
//! The engine still verifies signature, algorithm, issuer, audience and
//! expiry; this only reads the `nbf` claim of a bearer token.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hive_router::http::StatusCode;
use hive_router::plugins::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::plugin_trait::{RouterPlugin, StartHookPayload};
use hive_router::GraphQLError;

/// The plugin's name in the router configuration's `plugins` section.
pub(crate) const NAME: &str = "meshwork_jwt_not_before";

#[derive(serde::Deserialize)]
pub(crate) struct Config {
    /// Seconds of clock skew tolerated.
    leeway_seconds: u64,
}

pub(crate) struct JwtNotBefore {
    leeway_seconds: u64,
}

/// Why a token is refused, if it is.
fn not_yet_valid(authorization: &str, now: u64, leeway: u64) -> Option<u64> {
    let token = authorization.strip_prefix("Bearer ")?.trim();
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let nbf = claims.get("nbf")?.as_u64()?;
    (nbf > now.saturating_add(leeway)).then_some(nbf)
}

impl RouterPlugin for JwtNotBefore {
    fn plugin_name() -> &'static str {
        NAME
    }

    type Config = Config;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        Ok(Some(Self {
            leeway_seconds: config.leeway_seconds,
        }))
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let refused = payload
                .router_http_request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| not_yet_valid(v, now, self.leeway_seconds));
            match refused {
                Some(nbf) => payload.end_with_graphql_error(
                    GraphQLError::from_message_and_code(
                        format!(
                            "The token is not valid yet (nbf {nbf} is {} s ahead).",
                            nbf.saturating_sub(now)
                        ),
                        "UNAUTHENTICATED",
                    ),
                    StatusCode::UNAUTHORIZED,
                ),
                None => payload.proceed(),
            }
        })
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
