//! Meshwork's checks before the engine, in one ntex middleware:
//! authentication (`crate::authn`: the caller marked, identity headers set
//! from the verified credential), then rate limits and quotas
//! (`crate::rate_limit`, which read that identity), then, on a gateway
//! without access control (the engine verifies tokens there), the `nbf`
//! check of bearer tokens (`crate::jwt_time`). The first to refuse answers; the
//! request reaches the engine only when all admit it.
//!
//! One layer rather than one per check: every ntex layer costs each request
//! its own readiness and call machinery (measured with callgrind: about
//! 5,000 instructions per layer and request, bench/RESULTS.md).

use hive_router::ntex::service::{Service, ServiceCtx};
use hive_router::ntex::web::{self, DefaultError};
use hive_router::ntex::{Middleware, SharedCfg};

/// The checks, in the order they run.
#[derive(Clone)]
pub(crate) struct Admission {
    pub authn: crate::authn::Authn,
    pub limits: crate::rate_limit::RateLimiter,
    pub not_before: crate::jwt_time::JwtNotBefore,
}

impl Admission {
    async fn admit(
        &self,
        req: web::WebRequest<DefaultError>,
    ) -> Result<web::WebRequest<DefaultError>, web::WebResponse> {
        let req = self.authn.admit(req).await?;
        let req = self.limits.admit(req).await?;
        // With access control on, `authn` verified the caller's token
        // (`nbf` included) and put Meshwork's own, minted now, in its
        // place: reading it again costs each request a base64 and JSON
        // decode (callgrind: 17,000 instructions) for nothing.
        if self.authn.shared.is_some() {
            return Ok(req);
        }
        self.not_before.admit(req)
    }
}

impl<S> Middleware<S, SharedCfg> for Admission {
    type Service = AdmissionService<S>;

    fn create(&self, service: S, _cfg: SharedCfg) -> Self::Service {
        AdmissionService {
            service,
            admission: self.clone(),
        }
    }
}

pub(crate) struct AdmissionService<S> {
    service: S,
    admission: Admission,
}

impl<S> Service<web::WebRequest<DefaultError>> for AdmissionService<S>
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
        match self.admission.admit(req).await {
            Ok(req) => ctx.call(&self.service, req).await,
            Err(refusal) => Ok(refusal),
        }
    }
}
