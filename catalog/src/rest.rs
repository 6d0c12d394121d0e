//! REST domains in the graph: each REST domain's OpenAPI document derives a
//! federation subgraph (`openapi::derive`, at every pull; stored with the
//! version), which the control plane serves at `/rest/{domain}/graphql`
//! (`openapi::serve`) and the supergraph points to. Only callers with the
//! REST key (gateways of this mesh) are answered there: the route reaches
//! domain data without the gateway's access checks.

use axum::http::HeaderMap;
use entity::{domain, schema_version};
use serde_json::Value;

use crate::error::CatalogError;
use crate::Catalog;

/// Headers passed on from the gateway to a REST domain's API.
pub const FORWARDED_HEADERS: [&str; 3] = access::control::IDENTITY_HEADERS;

/// How long a REST subgraph is served from memory before the database is
/// asked again.
const REST_CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// The header gateways send REST subgraphs the key in.
pub const REST_KEY_HEADER: &str = access::control::REST_KEY_HEADER;

/// Where REST subgraphs are served.
#[derive(Clone, Debug)]
pub struct RestServing {
    /// The control plane's URL as gateways reach it, e.g. `http://10.0.0.5:4000`.
    pub base: String,
}

impl Catalog {
    /// Serves REST domains' derived subgraphs under `base` (the control
    /// router's `/rest/{domain}/graphql`, opened by the control key in
    /// [`REST_KEY_HEADER`]). Until called, REST domains stay out of the
    /// composition.
    pub fn serve_rest(&self, serving: RestServing) {
        if let Ok(mut rest) = self.rest.write() {
            *rest = Some(serving);
        }
    }

    /// The URL the supergraph gives a REST domain's subgraph.
    pub(crate) fn rest_url(&self, domain: &str) -> Option<String> {
        let rest = self.rest.read().ok()?;
        let base = rest.as_ref()?.base.trim_end_matches('/').to_string();
        Some(format!("{base}/rest/{domain}/graphql"))
    }

    /// Answers a GraphQL request to REST domain `name`'s derived subgraph
    /// (its latest version that derived).
    pub async fn answer_rest(
        &self,
        name: &str,
        headers: &HeaderMap,
        request: async_graphql::Request,
    ) -> Result<Value, CatalogError> {
        if name == crate::graph::BUILTIN {
            return Ok(self.answer_builtin(request).await);
        }
        // Hot path: the subgraph served a moment ago, without asking the
        // database (dropped on every recomposition, and after a few
        // seconds in case another control plane changed it).
        if let Some(subgraph) = self.hot_rest_subgraph(name) {
            return Ok(subgraph.answer(headers, request).await);
        }
        let domain = self.get_active(name).await?;
        if domain.kind != domain::ApiKind::Rest {
            return Err(CatalogError::NotFound {
                what: "REST domain",
                name: name.to_string(),
            });
        }
        let version = self
            .served_schema_of(&[domain.id])
            .await?
            .remove(&domain.id)
            .ok_or_else(|| CatalogError::NotFound {
                what: "derived schema of REST domain",
                name: name.to_string(),
            })?;
        let subgraph = self.rest_subgraph(&domain, &version).await?;
        if let Ok(mut m) = self.rest_by_name.write() {
            m.insert(
                name.to_string(),
                (std::time::Instant::now(), subgraph.clone()),
            );
        }
        Ok(subgraph.answer(headers, request).await)
    }

    /// Whether `name` is a REST domain of the served composition (no
    /// database lookup).
    pub fn is_rest_member(&self, name: &str) -> bool {
        self.rest_members
            .read()
            .map(|m| m.contains(name))
            .unwrap_or(false)
    }

    /// Answers a GraphQL request body (JSON) to REST domain `name`, as the
    /// control plane's route does, for a gateway in this process.
    pub async fn answer_rest_body(
        &self,
        name: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Value {
        let (map, request) = match parse_body(headers, body) {
            Ok(parsed) => parsed,
            Err(answer) => return answer,
        };
        match self.answer_rest(name, &map, request).await {
            Ok(v) => v,
            Err(e) => crate::error::graphql_error(e.to_string(), e.code()),
        }
    }

    /// [`Self::answer_rest_body`] when domain `name`'s subgraph was served a
    /// moment ago: no database access, so it may run on any runtime (the
    /// engine's own); `None` otherwise.
    pub async fn answer_rest_body_hot(
        &self,
        name: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Option<Value> {
        let subgraph = self.hot_rest_subgraph(name)?;
        Some(match parse_body(headers, body) {
            Ok((map, request)) => subgraph.answer(&map, request).await,
            Err(answer) => answer,
        })
    }

    fn hot_rest_subgraph(&self, name: &str) -> Option<openapi::serve::Subgraph> {
        self.rest_by_name.read().ok().and_then(|m| {
            m.get(name)
                .filter(|(at, _)| at.elapsed() < REST_CACHE_FOR)
                .map(|(_, s)| s.clone())
        })
    }

    /// Forgets the served subgraphs by name (a recomposition may have
    /// changed any of them).
    pub(crate) fn forget_rest_subgraphs(&self) {
        if let Ok(mut m) = self.rest_by_name.write() {
            m.clear();
        }
    }

    async fn rest_subgraph(
        &self,
        domain: &domain::Model,
        version: &schema_version::Model,
    ) -> Result<openapi::serve::Subgraph, CatalogError> {
        // Keyed by the derivation itself: a version is derived again when
        // the domain's settings change.
        let stamp = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            version.id.hash(&mut h);
            version.derived.hash(&mut h);
            h.finish()
        };
        let mut served = self.rest_subgraphs.lock().await;
        if let Some((cached, s)) = served.get(&domain.id) {
            if *cached == stamp {
                return Ok(s.clone());
            }
        }
        let derived = derived_of(version).ok_or_else(|| CatalogError::NotFound {
            what: "derived schema of REST domain",
            name: domain.name.clone(),
        })?;
        let subgraph = openapi::serve::Subgraph::new(
            &derived,
            openapi::serve::Upstream {
                domain: domain.name.clone(),
                base_url: domain.api_url.clone(),
                timeout: std::time::Duration::from_secs(10),
                forward_headers: FORWARDED_HEADERS.iter().map(|h| h.to_string()).collect(),
            },
        )
        .map_err(|e| CatalogError::Internal(format!("serving `{}`: {e}", domain.name)))?;
        // One subgraph per domain, of its latest version.
        served.insert(domain.id, (stamp, subgraph.clone()));
        Ok(subgraph)
    }
}

/// The derived subgraph stored with a version, if it has one.
pub(crate) fn derived_of(version: &schema_version::Model) -> Option<openapi::Derived> {
    version
        .derived
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
}

/// A domain's derivation settings, as stored.
pub(crate) fn settings_of(domain: &domain::Model) -> openapi::Settings {
    domain
        .rest_settings
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The settings column of a registration: none unless it sets any.
pub(crate) fn settings_json(spec: &crate::spec::DomainSpec) -> Option<Value> {
    let settings = openapi::Settings {
        rest_mutations: spec.rest_mutations.unwrap_or(false),
        entities: spec.entities.iter().map(Into::into).collect(),
        extends: spec.extends.iter().map(Into::into).collect(),
    };
    (settings != openapi::Settings::default())
        .then(|| serde_json::to_value(&settings).ok())
        .flatten()
}

/// Headers and a JSON body as the subgraph takes them; else the error answer.
fn parse_body(
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(HeaderMap, async_graphql::Request), Value> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            axum::http::HeaderValue::from_str(v),
        ) {
            map.insert(k, v);
        }
    }
    match serde_json::from_slice(body) {
        Ok(request) => Ok((map, request)),
        Err(e) => Err(crate::error::graphql_error(
            format!("not a GraphQL request: {e}"),
            "BAD_REQUEST",
        )),
    }
}
