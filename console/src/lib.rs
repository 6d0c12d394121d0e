//! Meshwork's web console, served from the binary itself at `/`.
//!
//! The console is one page (Preact and htm, bundled by esbuild into
//! `assets/`, built by `web/build.sh` and committed so `cargo build` never
//! needs npm) that talks to the catalog's discovery API with the caller's
//! own credential; the server checks every call. This crate only serves
//! the page and its assets: it knows no catalog type.
//!
//! ```
//! let routes: axum::Router = console::router(); // `/` and /console/*
//! assert!(console::PAGE.contains("/console/console.js"));
//! ```

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Where the bundled assets are served.
pub const ASSETS_PATH: &str = "/console";

/// Nothing outside this origin: the page, its script and style, and the
/// catalog API it calls.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The console's page: the app renders into `#console`.
pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Meshwork console</title>
  <link rel="stylesheet" href="/console/console.css" />
</head>
<body>
  <div id="console"><noscript>The console needs JavaScript. Without it: the federated endpoint is at <a href="/graphql">/graphql</a> and the catalog at <a href="/catalog/graphql">/catalog/graphql</a>.</noscript></div>
  <script type="module" src="/console/console.js"></script>
</body>
</html>
"#;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    gzipped: bool,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/console.js.gz"),
        gzipped: true,
    },
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/console.css"),
        gzipped: false,
    },
    Asset {
        name: "THIRD_PARTY_LICENSES.txt",
        content_type: "text/plain; charset=utf-8",
        body: include_bytes!("../assets/THIRD_PARTY_LICENSES.txt"),
        gzipped: false,
    },
];

/// `/` (the page) and the assets under [`ASSETS_PATH`].
pub fn router() -> Router {
    Router::new()
        .route("/", get(page))
        .route(&format!("{ASSETS_PATH}/{{name}}"), get(asset))
}

async fn page() -> Response {
    let mut response = axum::response::Html(PAGE).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, asset.content_type),
            // Asked again on every load (a new binary brings new assets).
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.body,
    )
        .into_response();
    if asset.gzipped {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}
