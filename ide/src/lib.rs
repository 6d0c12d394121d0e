//! GraphiQL for Meshwork's GraphQL endpoints, served from the binary itself.
//!
//! Company networks (and CI machines) often cannot reach public CDNs, so the
//! GraphiQL 3 and React 18 browser bundles ship inside the binary, gzipped
//! (`assets/`, licences in `assets/THIRD_PARTY_LICENSES.txt`).
//!
//! ```
//! let html = ide::page("Catalog", "/catalog/graphql");
//! assert!(html.contains("/catalog/graphql"));
//! let routes: axum::Router = ide::router(); // serves /ide/assets/*
//! ```

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Where the bundled assets are served.
pub const ASSETS_PATH: &str = "/ide/assets";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    gzipped: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql.min.js.gz"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql.min.css.gz"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/react.production.min.js.gz"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/react-dom.production.min.js.gz"),
    },
];

/// The GraphiQL page for `endpoint` (a path on the same origin).
pub fn page(title: &str, endpoint: &str) -> String {
    let title = escape(title);
    let endpoint_js = endpoint
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('<', "\\u003c");
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>{title} · Meshwork GraphiQL</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/graphiql.min.css" />
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{ASSETS_PATH}/react.production.min.js"></script>
  <script src="{ASSETS_PATH}/react-dom.production.min.js"></script>
  <script src="{ASSETS_PATH}/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: "{endpoint_js}" }});
    // Opened from the console: `#query=…&variables=…` fills the editors
    // (a fragment never reaches the server), and the credential the
    // console signed in with (this tab only) becomes the request's header.
    const opened = new URLSearchParams(location.hash.slice(1));
    const props = {{ fetcher, defaultEditorToolsVisibility: true }};
    if (opened.get("query")) props.query = opened.get("query");
    if (opened.get("variables")) props.variables = opened.get("variables");
    const credential = (sessionStorage.getItem("meshwork.credential") || "").trim();
    // The mesh takes API keys and JWTs; the admin token is the catalog's only.
    const usable = "{endpoint_js}" === "/catalog/graphql"
      || credential.startsWith("mk_") || credential.split(".").length === 3;
    if (credential && usable) {{
      const value = credential.startsWith("mk_") ? "ApiKey " + credential : "Bearer " + credential;
      props.headers = JSON.stringify({{ Authorization: value }}, null, 2);
    }}
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, props)
    );
  </script>
</body>
</html>
"#
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Routes serving the bundled assets under [`ASSETS_PATH`].
pub fn router() -> Router {
    Router::new().route(&format!("{ASSETS_PATH}/{{name}}"), get(asset))
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CONTENT_ENCODING, "gzip"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            asset.gzipped,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
