//! The control-plane contract between a catalog and its gateways beyond
//! the access snapshot: how a served supergraph carries its composition's
//! hash, and what a gateway reports about itself.

use serde::{Deserialize, Serialize};

/// The header a gateway sends the control key in (Hive CDN's name, so the
/// engine's own CDN poller can follow a Meshwork control plane).
pub const CDN_KEY_HEADER: &str = "x-hive-cdn-key";
/// The header gateways send the control key in to REST domains' derived
/// subgraphs (served by the control plane).
pub const REST_KEY_HEADER: &str = "x-meshwork-rest-key";
/// Identity headers a gateway sets for domains (whatever a client sent in
/// them is dropped first): the consumer, the subject, the scopes.
pub const CONSUMER_HEADER: &str = "x-meshwork-consumer";
pub const SUBJECT_HEADER: &str = "x-meshwork-subject";
pub const SCOPES_HEADER: &str = "x-meshwork-scopes";
pub const IDENTITY_HEADERS: [&str; 3] = [CONSUMER_HEADER, SUBJECT_HEADER, SCOPES_HEADER];

/// The control plane's routes for gateways (behind the control key).
pub const SUPERGRAPH_PATH: &str = "/control/supergraph";
pub const ACCESS_PATH: &str = "/control/access";
pub const CONTRACTS_PATH: &str = "/control/contracts";
pub const USAGE_PATH: &str = "/control/usage";
pub const METRICS_PATH: &str = "/control/metrics";

/// Starts the description the control plane gives the supergraph's
/// `join__Graph` enum: `meshwork composition <hash>`.
const MARK: &str = "meshwork composition ";

/// The supergraph as served to gateways: `sdl` with its composition's
/// `hash` in the description of `enum join__Graph` (descriptions change
/// neither the API schema nor the plans), so a gateway can say which
/// composition it loaded. A supergraph without that enum, or whose enum
/// already has a description, is served as it is.
pub fn mark_supergraph(sdl: &str, hash: &str) -> String {
    let Some(at) = sdl.find("\nenum join__Graph") else {
        return sdl.to_string();
    };
    if sdl[..at].trim_end().ends_with('"') {
        return sdl.to_string();
    }
    let mut marked = String::with_capacity(sdl.len() + MARK.len() + hash.len() + 8);
    marked.push_str(&sdl[..=at]);
    marked.push_str(&format!("\"{MARK}{hash}\"\n"));
    marked.push_str(&sdl[at + 1..]);
    marked
}

/// The composition hash in a `join__Graph` description, if it is one.
pub fn composition_hash(description: &str) -> Option<&str> {
    description
        .trim()
        .strip_prefix(MARK)
        .map(str::trim)
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// What a gateway says about itself with each report to its control plane
/// (`/control/contracts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayReport {
    /// Random per process: tells replicas apart.
    pub instance: String,
    /// `in-process` (the control plane's own) or `replica`.
    pub role: String,
    /// Where it listens, for people.
    #[serde(default)]
    pub address: String,
    /// The composition hash of the supergraph it serves, once one loaded.
    #[serde(default)]
    pub served_hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_read_back_and_changes_nothing_else() {
        let sdl = "schema { query: Query }\n\nenum join__Graph {\n  A @join__graph(name: \"a\", url: \"http://a\")\n}\ntype Query { a: Int }\n";
        let marked = mark_supergraph(sdl, "abc123");
        assert_eq!(marked.replace("\"meshwork composition abc123\"\n", ""), sdl);
        assert!(marked.contains("\n\"meshwork composition abc123\"\nenum join__Graph"));
        assert_eq!(
            composition_hash("meshwork composition abc123"),
            Some("abc123")
        );
        assert_eq!(composition_hash("something else"), None);
        assert_eq!(
            mark_supergraph("type Query { a: Int }", "x"),
            "type Query { a: Int }"
        );
        assert_eq!(mark_supergraph(&marked, "other"), marked);
    }
}
