//! Graceful shutdown without cutting anyone off. On SIGTERM (or SIGINT)
//! the gateway first drains: readiness answers 503 so load balancers stop
//! sending new traffic, every answer closes its connection
//! (`Connection: close`), so no client sends another request on a
//! keep-alive connection the server is about to close, and requests keep
//! being served. After the drain time, the listener stops accepting and
//! requests still running finish (bounded by the router's shutdown
//! timeout); then the process exits 0.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hive_router::ntex::http::ConnectionType;
use hive_router::ntex::web::{self, DefaultError, HttpResponse};

/// Set once a stop signal arrived.
static DRAINING: AtomicBool = AtomicBool::new(false);

pub(crate) fn draining() -> bool {
    DRAINING.load(Ordering::Relaxed)
}

/// Waits for SIGTERM or SIGINT on `runtime`, drains for `drain`, then
/// stops `server` gracefully.
pub(crate) fn on_stop_signal(
    runtime: &tokio::runtime::Handle,
    server: hive_router::ntex::server::Server,
    drain: Duration,
) {
    runtime.spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("stop signals cannot be watched; the gateway stops only when killed");
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        DRAINING.store(true, Ordering::Relaxed);
        tracing::info!(
            drain_ms = drain.as_millis() as u64,
            "stopping: readiness is 503 and connections close after their answer; the listener stops after the drain"
        );
        tokio::select! {
            () = tokio::time::sleep(drain) => {}
            // A second signal stops at once (drained or not).
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        server.stop(true).await;
    });
}

/// While draining: the readiness answer (503) for a request that may
/// reach the readiness path; every spelling of that path answers so (the
/// router decodes `/%72eadiness` to it), and while draining any path that
/// is not plainly another one is taken for it. Run by `crate::export`'s
/// layer, the outermost of Meshwork's.
pub(crate) fn readiness_refusal(
    req: web::WebRequest<DefaultError>,
    readiness_path: &str,
) -> Result<web::WebRequest<DefaultError>, web::WebResponse> {
    if !crate::route::may_reach(req.path(), readiness_path) {
        return Ok(req);
    }
    Err(req.into_response(
        HttpResponse::ServiceUnavailable()
            .header("retry-after", "5")
            .content_type("application/json")
            .body(r#"{"status":"draining: this gateway is stopping"}"#),
    ))
}

/// While draining, every answer closes its connection.
pub(crate) fn close(response: &mut web::WebResponse) {
    response
        .response_mut()
        .head_mut()
        .set_connection_type(ConnectionType::Close);
}
