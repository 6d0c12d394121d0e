//! The Hive Router configuration Meshwork generates: the user's router
//! config file (if any), with Meshwork's listen address and supergraph
//! source on top. YAML is a superset of JSON, so the result is written as
//! JSON.

use serde_json::{json, Map, Value};

use crate::{GatewayError, GatewayOptions, SupergraphSource};

fn humantime(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `internal_jwks`: when Meshwork authenticates callers itself, the JWKS
/// file of its internal tokens, the only ones the engine then trusts.
pub(crate) fn router_config_text(
    options: &GatewayOptions,
    internal_jwks: Option<(&std::path::Path, &crate::AccessOptions)>,
) -> Result<String, GatewayError> {
    let mut root = match &options.router_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| GatewayError::Config(format!("reading {}: {e}", path.display())))?;
            let value: Value = serde_norway::from_str(&text)
                .map_err(|e| GatewayError::Config(format!("{}: {e}", path.display())))?;
            match value {
                Value::Object(map) => map,
                Value::Null => Map::new(),
                _ => {
                    return Err(GatewayError::Config(format!(
                        "{} must hold a YAML mapping",
                        path.display()
                    )))
                }
            }
        }
        None => Map::new(),
    };
    let address = options
        .listener
        .local_addr()
        .map_err(|e| GatewayError::Config(format!("listener address: {e}")))?;
    let http = root.entry("http").or_insert_with(|| json!({}));
    if let Value::Object(http) = http {
        http.insert("host".into(), json!(address.ip().to_string()));
        http.insert("port".into(), json!(address.port()));
        http.entry("graphql_endpoint").or_insert(json!("/graphql"));
    }
    let supergraph = match &options.supergraph {
        SupergraphSource::File {
            path,
            poll_interval,
        } => {
            let path = std::path::absolute(path).map_err(|e| {
                GatewayError::Config(format!("supergraph path {}: {e}", path.display()))
            })?;
            let mut source = json!({ "source": "file", "path": path.to_string_lossy() });
            if let Some(interval) = poll_interval {
                source["poll_interval"] = json!(humantime(*interval));
            }
            source
        }
        SupergraphSource::ControlPlane {
            endpoint,
            key,
            poll_interval,
        } => json!({
            "source": "hive",
            "endpoint": endpoint,
            "key": key,
            "poll_interval": humantime(*poll_interval),
        }),
    };
    root.insert("supergraph".into(), supergraph);
    // The engine's limits, on by default; a router config file may change
    // each one.
    if let Value::Object(limits) = root.entry("limits").or_insert_with(|| json!({})) {
        limits
            .entry("max_depth")
            .or_insert(json!({ "n": 15, "ignore_introspection": true }));
        limits.entry("max_aliases").or_insert(json!({ "n": 30 }));
        limits.entry("max_directives").or_insert(json!({ "n": 50 }));
        limits.entry("max_tokens").or_insert(json!({ "n": 5_000 }));
        limits
            .entry("max_request_body_size")
            .or_insert(json!("2MB"));
    }
    if let Some((jwks, access)) = internal_jwks {
        // Plan limits only the engine can check (cost, per-domain plans).
        if let Value::Object(plugins) = root.entry("plugins").or_insert_with(|| json!({})) {
            plugins.insert(
                crate::engine_plugin::PLUGIN_NAME.into(),
                json!({ "enabled": true, "config": {} }),
            );
        }
        if root.contains_key("jwt") {
            return Err(GatewayError::Config(
                "the router config sets `jwt`, but this gateway authenticates callers from the catalog's issuers and API keys; remove the `jwt` section (register the issuer in the catalog instead)".into(),
            ));
        }
        root.insert(
            "jwt".into(),
            json!({
                "enabled": true,
                "require_authentication": false,
                "issuers": [crate::authn::INTERNAL_ISSUER],
                "allowed_algorithms": ["HS256"],
                "jwks_providers": [{ "source": "file", "path": jwks.to_string_lossy() }],
                "scopes_claim": "scope",
            }),
        );
        if let Value::Object(authz) = root.entry("authorization").or_insert_with(|| json!({})) {
            let directives = authz.entry("directives").or_insert_with(|| json!({}));
            if let Value::Object(directives) = directives {
                directives.entry("enabled").or_insert(json!(true));
                directives.entry("unauthorized").or_insert(json!({
                    "mode": if access.reject_unauthorized { "reject" } else { "filter" }
                }));
            }
        }
        // Introspection follows the consumer's setting (anonymous callers
        // and tokens of no registered consumer keep it).
        root.entry("introspection").or_insert(json!({
            "expression": ".request.jwt.claims.introspection != false"
        }));
        // Domains learn who is asking; the engine's request deduplication
        // keys on these headers, so no response is shared across callers.
        let headers = root.entry("headers").or_insert_with(|| json!({}));
        if let Value::Object(headers) = headers {
            let all = headers.entry("all").or_insert_with(|| json!({}));
            if let Value::Object(all) = all {
                let request = all.entry("request").or_insert_with(|| json!([]));
                if let Value::Array(rules) = request {
                    rules.push(json!({ "propagate": { "named": crate::authn::CONSUMER_HEADER } }));
                    rules.push(json!({ "propagate": { "named": crate::authn::SUBJECT_HEADER } }));
                    rules.push(json!({ "propagate": { "named": crate::authn::SCOPES_HEADER } }));
                }
            }
        }
    }
    // A cost limit on by default: the engine's demand control estimates an
    // operation's cost from `@cost`/`@listSize` (lists without `@listSize`
    // count as 10 items) and refuses it above 100,000 before any subgraph
    // is called. The gateways benchmark query is estimated at 24,480.
    root.entry("demand_control").or_insert(json!({
        "enabled": true,
        "default_list_size": { "all": 10 },
        "subgraphs_budget": { "mode": "measure" },
        "operation_cost": { "max": 100_000, "mode": "enforce" },
    }));
    // CSRF prevention on by default: a request a browser could send
    // cross-site without a preflight (GET, or a form/text content type)
    // must carry one of these headers.
    root.entry("csrf").or_insert(json!({
        "enabled": true,
        "required_headers": ["x-meshwork-csrf", "apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight"],
    }));
    if let Value::Object(log) = root.entry("log").or_insert_with(|| json!({})) {
        log.entry("level").or_insert(json!(options.log_level));
    }
    serde_json::to_string_pretty(&Value::Object(root))
        .map_err(|e| GatewayError::Config(e.to_string()))
}
