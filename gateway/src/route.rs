//! Which requests may reach the engine's GraphQL handler.
//!
//! Meshwork's middlewares (authentication, rate limits) run before the
//! engine's router, which matches the percent-decoded path. Deciding "is
//! this a GraphQL request" on the raw path would let `/%67raphql` walk past
//! them. So the decision is made the safe way round: a path made only of
//! characters the router takes literally (no escapes, no empty or dot
//! segments, no parameters) is compared exactly, as the router will; any
//! other path counts as a GraphQL request and goes through every check.
//! Behind this, the engine plugin refuses any operation whose request was
//! not seen by the authentication middleware (`engine_plugin.rs`), so a
//! path this function misjudged is refused, never served unauthenticated.

/// Whether a request with this raw path (as sent, before any decoding)
/// may be routed to the handler mounted at `graphql_path` (the GraphQL
/// endpoint; the readiness path for the drain, the same way).
pub(crate) fn may_reach(raw_path: &str, graphql_path: &str) -> bool {
    if !is_literal(raw_path) {
        return true;
    }
    if graphql_path == "/" {
        return true;
    }
    match raw_path.strip_prefix(graphql_path) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// A path the router matches byte for byte: unreserved characters and
/// single slashes only, no `.` or `..` segments.
fn is_literal(path: &str) -> bool {
    path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~'))
        && !path[1..].split('/').any(|s| s == "." || s == "..")
        && !path.contains("//")
}

#[cfg(test)]
mod tests {
    use super::may_reach;

    #[test]
    fn graphql_path_and_every_disguise_of_it_are_checked() {
        for path in [
            "/graphql",
            "/graphql/",
            "/graphql/sha256:abc",
            "/%67raphql",
            "/%67RAPHQL",
            "/graph%71l",
            "/graph%71L",
            "//graphql",
            "/./graphql",
            "/x/../graphql",
            "/graphql;x",
            "/graphql%2F",
            "/%2Fgraphql",
            "/graphql%00",
            "/graphql?",
            "/GRAPHQL%20",
        ] {
            assert!(may_reach(path, "/graphql"), "{path}");
        }
    }

    #[test]
    fn literal_other_paths_are_not() {
        for path in [
            "/",
            "/catalog/graphql",
            "/control/supergraph",
            "/ide/assets/graphiql.js.gz",
            "/health",
            "/graphqlx",
            "/GRAPHQL",
        ] {
            assert!(!may_reach(path, "/graphql"), "{path}");
        }
        assert!(may_reach("/anything", "/"));
    }
}
