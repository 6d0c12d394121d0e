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
use hive_router::ntex::service::{Service, ServiceCtx};
use hive_router::ntex::web::{self, DefaultError, HttpResponse};
use hive_router::ntex::{Middleware, SharedCfg};

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

/// The middleware: while draining, readiness is 503 and every answer
/// closes its connection.
#[derive(Clone)]
pub(crate) struct Drain {
    pub readiness_path: std::sync::Arc<str>,
}

impl<S> Middleware<S, SharedCfg> for Drain {
    type Service = DrainService<S>;

    fn create(&self, service: S, _cfg: SharedCfg) -> Self::Service {
        DrainService {
            service,
            readiness_path: self.readiness_path.clone(),
        }
    }
}

pub(crate) struct DrainService<S> {
    service: S,
    readiness_path: std::sync::Arc<str>,
}

impl<S> Service<web::WebRequest<DefaultError>> for DrainService<S>
where
    S: Service<web::WebRequest<DefaultError>, Response = web::WebResponse, Error = web::Error>,
{
    type Response = web::WebResponse;
    type Error = S::Error;

    hive_router::ntex::forward_ready!(service);

    async fn call(
        &self,
        req: web::WebRequest<DefaultError>,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<Self::Response, Self::Error> {
        if !draining() {
            return ctx.call(&self.service, req).await;
        }
        // Every spelling of the readiness path answers 503 (the router
        // decodes `/%72eadiness` to it); while draining, any path that is
        // not plainly another one is taken for it.
        let mut response = if crate::route::may_reach(req.path(), &self.readiness_path) {
            req.into_response(
                HttpResponse::ServiceUnavailable()
                    .header("retry-after", "5")
                    .content_type("application/json")
                    .body(r#"{"status":"draining: this gateway is stopping"}"#),
            )
        } else {
            ctx.call(&self.service, req).await?
        };
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        Ok(response)
    }
}
