//! The access-management part of the discovery API: consumers, keys,
//! issuers, plans, field policies, access requests and grants.

use std::collections::HashMap;

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::access_request::RequestStatus;
use entity::{access_grant, access_request, api_key, consumer, field_policy, jwt_issuer, plan};

use super::{catalog, fail};
use crate::access::{
    AccessRequestSpec, Caller, ConsumerPatch, ConsumerSpec, FieldPolicySpec, GrantSpec, IssuerSpec,
    PlanSpec,
};
use crate::{Catalog, CatalogError};

fn caller(ctx: &Context<'_>) -> Caller {
    ctx.data_opt::<Caller>()
        .cloned()
        .unwrap_or_else(|| Caller::anonymous("anonymous"))
}

/// Reading access records needs an authenticated caller; secrets never leave.
fn require_known(ctx: &Context<'_>) -> Result<Caller> {
    let caller = caller(ctx);
    if caller.admin || caller.consumer.is_some() || !caller.teams.is_empty() {
        Ok(caller)
    } else {
        Err(fail(CatalogError::Forbidden(
            "reading access records needs a token or API key".into(),
        )))
    }
}

/// A traffic plan.
#[derive(SimpleObject)]
pub struct Plan {
    pub name: String,
    pub requests_per_minute: i32,
    pub burst: i32,
    pub daily_quota: Option<i64>,
    pub max_cost: Option<i32>,
}

impl From<plan::Model> for Plan {
    fn from(p: plan::Model) -> Self {
        Self {
            name: p.name,
            requests_per_minute: p.requests_per_minute,
            burst: p.burst,
            daily_quota: p.daily_quota,
            max_cost: p.max_cost,
        }
    }
}

/// A consumer of the mesh's data.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Consumer {
    pub name: String,
    pub description: String,
    pub owner_team: String,
    pub contact: String,
    pub introspection: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    id: i32,
    #[graphql(skip)]
    plan_id: Option<i32>,
}

impl From<consumer::Model> for Consumer {
    fn from(c: consumer::Model) -> Self {
        Self {
            name: c.name,
            description: c.description,
            owner_team: c.owner_team,
            contact: c.contact,
            introspection: c.introspection,
            disabled: c.disabled_at.is_some(),
            created_at: c.created_at,
            id: c.id,
            plan_id: c.plan_id,
        }
    }
}

#[ComplexObject]
impl Consumer {
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<Plan>> {
        let Some(id) = self.plan_id else {
            return Ok(None);
        };
        let plans = ctx.data::<DataLoader<super::loaders::PlanById>>()?;
        Ok(plans
            .load_one(id)
            .await
            .map_err(super::fail_shared)?
            .map(Plan::from))
    }

    /// The consumer's API keys (never the keys themselves).
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let keys = ctx.data::<DataLoader<super::loaders::ApiKeysOf>>()?;
        Ok(keys
            .load_one(self.id)
            .await
            .map_err(super::fail_shared)?
            .unwrap_or_default()
            .into_iter()
            .map(ApiKey::from)
            .collect())
    }
}

/// An API key's record.
#[derive(SimpleObject)]
pub struct ApiKey {
    pub name: String,
    /// Identifies the key (`mk_<prefix>_…`) for revocation.
    pub prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<api_key::Model> for ApiKey {
    fn from(k: api_key::Model) -> Self {
        Self {
            name: k.name,
            prefix: k.prefix,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            created_by: k.created_by,
            created_at: k.created_at,
        }
    }
}

/// A new API key: `key` is shown this once and never stored.
#[derive(SimpleObject)]
pub struct CreatedKey {
    pub key: String,
    pub api_key: ApiKey,
}

/// A trusted JWT issuer (its secret is never shown).
#[derive(SimpleObject)]
pub struct JwtIssuer {
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub algorithm: String,
    pub has_secret: bool,
    pub public_keys: Option<String>,
    pub jwks_url: Option<String>,
    pub subject_claim: String,
    pub consumer_claim: String,
    pub scopes_claim: String,
    pub teams_claim: String,
}

impl From<jwt_issuer::Model> for JwtIssuer {
    fn from(i: jwt_issuer::Model) -> Self {
        Self {
            name: i.name,
            issuer: i.issuer,
            audiences: serde_json::from_value(i.audiences).unwrap_or_default(),
            algorithm: i.algorithm,
            has_secret: i.secret.is_some(),
            public_keys: i.public_keys,
            jwks_url: i.jwks_url,
            subject_claim: i.subject_claim,
            consumer_claim: i.consumer_claim,
            scopes_claim: i.scopes_claim,
            teams_claim: i.teams_claim,
        }
    }
}

/// A catalog rule on one field.
#[derive(SimpleObject)]
pub struct FieldPolicy {
    pub coordinate: String,
    /// OR of AND-lists; `[]`: any authenticated caller.
    pub scopes: Vec<Vec<String>>,
    pub description: String,
    pub updated_at: DateTime<Utc>,
}

impl From<field_policy::Model> for FieldPolicy {
    fn from(p: field_policy::Model) -> Self {
        Self {
            coordinate: p.coordinate,
            scopes: serde_json::from_value(p.scopes).unwrap_or_default(),
            description: p.description,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::access_request::RequestStatus")]
pub enum AccessRequestStatus {
    Pending,
    Approved,
    Denied,
}

/// A consumer's request for access to a domain.
#[derive(SimpleObject)]
pub struct AccessRequest {
    pub id: i32,
    pub consumer: String,
    pub domain: String,
    pub fields: Vec<String>,
    pub reason: String,
    pub duration_days: Option<i32>,
    pub status: AccessRequestStatus,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: String,
}

/// A consumer's right to read a domain (or some of its fields).
#[derive(SimpleObject)]
pub struct Grant {
    pub id: i32,
    pub consumer: String,
    pub domain: String,
    pub fields: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// False once revoked or expired.
    pub active: bool,
    pub request_id: Option<i32>,
    pub granted_by: String,
    pub created_at: DateTime<Utc>,
}

/// Names (and owner teams) of the consumers and domains the rows refer to.
struct Names {
    consumers: HashMap<i32, (String, String)>,
    domains: HashMap<i32, (String, String)>,
}

async fn names(catalog: &Catalog, consumer_ids: Vec<i32>, domain_ids: Vec<i32>) -> Result<Names> {
    let consumers = catalog
        .consumers_by_id(&consumer_ids)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|(id, c)| (id, (c.name, c.owner_team)))
        .collect();
    let domains = catalog
        .domains_by_id(&domain_ids)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|(id, d)| (id, (d.name, d.owner_team)))
        .collect();
    Ok(Names { consumers, domains })
}

/// Whether `caller` may see a consumer: admins see every one, others their
/// own consumer and those their teams own.
fn sees_consumer(caller: &Caller, name: &str, owner_team: &str) -> bool {
    caller.admin
        || caller.consumer.as_deref() == Some(name)
        || caller.teams.iter().any(|t| t == owner_team)
}

impl Names {
    fn consumer(&self, id: i32) -> String {
        self.consumers
            .get(&id)
            .map(|c| c.0.clone())
            .unwrap_or_default()
    }
    fn domain(&self, id: i32) -> String {
        self.domains
            .get(&id)
            .map(|d| d.0.clone())
            .unwrap_or_default()
    }
    /// A request or grant is seen by admins, by its consumer (and the
    /// consumer's team) and by the domain's owner team.
    fn visible(&self, caller: &Caller, consumer_id: i32, domain_id: i32) -> bool {
        let consumer = self
            .consumers
            .get(&consumer_id)
            .is_some_and(|(name, team)| sees_consumer(caller, name, team));
        let domain = self
            .domains
            .get(&domain_id)
            .is_some_and(|(_, team)| caller.teams.iter().any(|t| t == team));
        caller.admin || consumer || domain
    }
    fn request(&self, r: access_request::Model) -> AccessRequest {
        AccessRequest {
            id: r.id,
            consumer: self.consumer(r.consumer_id),
            domain: self.domain(r.domain_id),
            fields: serde_json::from_value(r.fields).unwrap_or_default(),
            reason: r.reason,
            duration_days: r.duration_days,
            status: r.status.into(),
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_note: r.decision_note,
        }
    }
    fn grant(&self, g: access_grant::Model) -> Grant {
        let now = Utc::now();
        Grant {
            id: g.id,
            consumer: self.consumer(g.consumer_id),
            domain: self.domain(g.domain_id),
            fields: serde_json::from_value(g.fields).unwrap_or_default(),
            active: g.revoked_at.is_none() && g.expires_at.is_none_or(|at| at > now),
            expires_at: g.expires_at,
            revoked_at: g.revoked_at,
            request_id: g.request_id,
            granted_by: g.granted_by,
            created_at: g.created_at,
        }
    }
}

/// Who the catalog takes the caller for.
#[derive(SimpleObject)]
pub struct Me {
    pub name: String,
    pub admin: bool,
    pub teams: Vec<String>,
    pub consumer: Option<String>,
}

#[derive(Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// The caller as the catalog sees it.
    async fn me(&self, ctx: &Context<'_>) -> Me {
        let c = caller(ctx);
        Me {
            name: c.name,
            admin: c.admin,
            teams: c.teams,
            consumer: c.consumer,
        }
    }

    async fn plans(&self, ctx: &Context<'_>) -> Result<Vec<Plan>> {
        require_known(ctx)?;
        Ok(catalog(ctx)?
            .plans()
            .await
            .map_err(fail)?
            .into_iter()
            .map(Plan::from)
            .collect())
    }

    /// Consumers: every one for admins, else the caller's own and those
    /// of the caller's teams.
    async fn consumers(&self, ctx: &Context<'_>) -> Result<Vec<Consumer>> {
        let caller = require_known(ctx)?;
        Ok(catalog(ctx)?
            .consumers()
            .await
            .map_err(fail)?
            .into_iter()
            .filter(|c| sees_consumer(&caller, &c.name, &c.owner_team))
            .map(Consumer::from)
            .collect())
    }

    async fn consumer(&self, ctx: &Context<'_>, name: String) -> Result<Option<Consumer>> {
        let caller = require_known(ctx)?;
        Ok(catalog(ctx)?
            .consumer_named(&name)
            .await
            .map_err(fail)?
            .filter(|c| sees_consumer(&caller, &c.name, &c.owner_team))
            .map(Consumer::from))
    }

    /// The issuers the mesh trusts (platform admins only).
    async fn jwt_issuers(&self, ctx: &Context<'_>) -> Result<Vec<JwtIssuer>> {
        if !caller(ctx).admin {
            return Err(fail(CatalogError::Forbidden(format!(
                "listing JWT issuers needs the platform-admin scope `{}`",
                access::scopes::ADMIN
            ))));
        }
        Ok(catalog(ctx)?
            .jwt_issuers()
            .await
            .map_err(fail)?
            .into_iter()
            .map(JwtIssuer::from)
            .collect())
    }

    async fn field_policies(&self, ctx: &Context<'_>) -> Result<Vec<FieldPolicy>> {
        require_known(ctx)?;
        Ok(catalog(ctx)?
            .field_policies()
            .await
            .map_err(fail)?
            .into_iter()
            .map(FieldPolicy::from)
            .collect())
    }

    /// Access requests, newest first.
    async fn access_requests(
        &self,
        ctx: &Context<'_>,
        status: Option<AccessRequestStatus>,
    ) -> Result<Vec<AccessRequest>> {
        let caller = require_known(ctx)?;
        let catalog = catalog(ctx)?;
        let rows = catalog
            .access_requests(status.map(RequestStatus::from))
            .await
            .map_err(fail)?;
        let names = names(
            catalog,
            rows.iter().map(|r| r.consumer_id).collect(),
            rows.iter().map(|r| r.domain_id).collect(),
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter(|r| names.visible(&caller, r.consumer_id, r.domain_id))
            .map(|r| names.request(r))
            .collect())
    }

    /// Grants, newest first (revoked and expired ones too).
    async fn grants(&self, ctx: &Context<'_>) -> Result<Vec<Grant>> {
        let caller = require_known(ctx)?;
        let catalog = catalog(ctx)?;
        let rows = catalog.grants().await.map_err(fail)?;
        let names = names(
            catalog,
            rows.iter().map(|r| r.consumer_id).collect(),
            rows.iter().map(|r| r.domain_id).collect(),
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter(|g| names.visible(&caller, g.consumer_id, g.domain_id))
            .map(|g| names.grant(g))
            .collect())
    }
}

#[derive(Default)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    async fn create_plan(&self, ctx: &Context<'_>, spec: PlanSpec) -> Result<Plan> {
        Ok(catalog(ctx)?
            .create_plan(&caller(ctx), spec)
            .await
            .map_err(fail)?
            .into())
    }

    async fn create_consumer(&self, ctx: &Context<'_>, spec: ConsumerSpec) -> Result<Consumer> {
        Ok(catalog(ctx)?
            .create_consumer(&caller(ctx), spec)
            .await
            .map_err(fail)?
            .into())
    }

    async fn update_consumer(
        &self,
        ctx: &Context<'_>,
        name: String,
        patch: ConsumerPatch,
    ) -> Result<Consumer> {
        Ok(catalog(ctx)?
            .update_consumer(&caller(ctx), &name, patch)
            .await
            .map_err(fail)?
            .into())
    }

    /// Creates an API key; the answer's `key` is the only time it is shown.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        consumer: String,
        name: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedKey> {
        let created = catalog(ctx)?
            .create_api_key(&caller(ctx), &consumer, &name, expires_at)
            .await
            .map_err(fail)?;
        Ok(CreatedKey {
            key: created.key,
            api_key: created.record.into(),
        })
    }

    async fn revoke_api_key(&self, ctx: &Context<'_>, prefix: String) -> Result<ApiKey> {
        Ok(catalog(ctx)?
            .revoke_api_key(&caller(ctx), &prefix)
            .await
            .map_err(fail)?
            .into())
    }

    async fn register_jwt_issuer(&self, ctx: &Context<'_>, spec: IssuerSpec) -> Result<JwtIssuer> {
        Ok(catalog(ctx)?
            .register_issuer(&caller(ctx), spec)
            .await
            .map_err(fail)?
            .into())
    }

    /// Replaces an issuer's settings (a rotated secret or key, audiences,
    /// claim paths); the name stays.
    async fn update_jwt_issuer(
        &self,
        ctx: &Context<'_>,
        name: String,
        spec: IssuerSpec,
    ) -> Result<JwtIssuer> {
        Ok(catalog(ctx)?
            .update_issuer(&caller(ctx), &name, spec)
            .await
            .map_err(fail)?
            .into())
    }

    async fn remove_jwt_issuer(&self, ctx: &Context<'_>, name: String) -> Result<bool> {
        catalog(ctx)?
            .remove_issuer(&caller(ctx), &name)
            .await
            .map_err(fail)?;
        Ok(true)
    }

    /// Sets a field's policy; the supergraph is composed again with it.
    async fn set_field_policy(
        &self,
        ctx: &Context<'_>,
        spec: FieldPolicySpec,
    ) -> Result<FieldPolicy> {
        Ok(catalog(ctx)?
            .set_field_policy(&caller(ctx), spec)
            .await
            .map_err(fail)?
            .into())
    }

    async fn remove_field_policy(&self, ctx: &Context<'_>, coordinate: String) -> Result<bool> {
        catalog(ctx)?
            .remove_field_policy(&caller(ctx), &coordinate)
            .await
            .map_err(fail)?;
        Ok(true)
    }

    /// A consumer (or its team) asks a domain's owner team for access.
    async fn request_access(
        &self,
        ctx: &Context<'_>,
        spec: AccessRequestSpec,
    ) -> Result<AccessRequest> {
        let catalog = catalog(ctx)?;
        let row = catalog
            .request_access(&caller(ctx), spec)
            .await
            .map_err(fail)?;
        let names = names(catalog, vec![row.consumer_id], vec![row.domain_id]).await?;
        Ok(names.request(row))
    }

    /// The domain's owner team approves (creating the grant) or denies.
    async fn decide_access_request(
        &self,
        ctx: &Context<'_>,
        id: i32,
        approve: bool,
        #[graphql(default)] note: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<AccessRequest> {
        let catalog = catalog(ctx)?;
        let (row, _) = catalog
            .decide_access_request(&caller(ctx), id, approve, &note, expires_at)
            .await
            .map_err(fail)?;
        let names = names(catalog, vec![row.consumer_id], vec![row.domain_id]).await?;
        Ok(names.request(row))
    }

    async fn grant_access(&self, ctx: &Context<'_>, spec: GrantSpec) -> Result<Grant> {
        let catalog = catalog(ctx)?;
        let row = catalog
            .grant_access(&caller(ctx), spec)
            .await
            .map_err(fail)?;
        let names = names(catalog, vec![row.consumer_id], vec![row.domain_id]).await?;
        Ok(names.grant(row))
    }

    async fn revoke_grant(&self, ctx: &Context<'_>, id: i32) -> Result<Grant> {
        let catalog = catalog(ctx)?;
        let row = catalog.revoke_grant(&caller(ctx), id).await.map_err(fail)?;
        let names = names(catalog, vec![row.consumer_id], vec![row.domain_id]).await?;
        Ok(names.grant(row))
    }
}
