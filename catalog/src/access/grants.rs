//! Access requests to restricted domains, their decisions, and grants.

use async_graphql::InputObject;
use chrono::{DateTime, Duration, Utc};
use entity::access_request::RequestStatus;
use entity::{access_grant, access_request, domain};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{check_fields, invalid, Then};
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

/// A request for access to a restricted domain.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessRequestSpec {
    pub consumer: String,
    pub domain: String,
    /// `Type.field` coordinates; empty asks for the whole domain.
    #[serde(default)]
    #[graphql(default)]
    pub fields: Vec<String>,
    pub reason: String,
    /// How long the grant should last (1 to 3650 days); none: until revoked.
    #[serde(default)]
    pub duration_days: Option<i32>,
}

/// A direct grant by a platform admin.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantSpec {
    pub consumer: String,
    pub domain: String,
    #[serde(default)]
    #[graphql(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl Catalog {
    /// Access requests, newest first, optionally of one status.
    pub async fn access_requests(
        &self,
        status: Option<RequestStatus>,
    ) -> Result<Vec<access_request::Model>, CatalogError> {
        let mut q = access_request::Entity::find().order_by_desc(access_request::Column::Id);
        if let Some(status) = status {
            q = q.filter(access_request::Column::Status.eq(status));
        }
        Ok(q.all(&self.db).await?)
    }

    /// Grants, newest first (revoked and expired ones included).
    pub async fn grants(&self) -> Result<Vec<access_grant::Model>, CatalogError> {
        Ok(access_grant::Entity::find()
            .order_by_desc(access_grant::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// A consumer asks a domain's owner team for access.
    pub async fn request_access(
        &self,
        caller: &Caller,
        spec: AccessRequestSpec,
    ) -> Result<access_request::Model, CatalogError> {
        let consumer = self.consumer_required(&spec.consumer).await?;
        if !(caller.admin
            || caller.consumer.as_deref() == Some(consumer.name.as_str())
            || caller.in_team(&consumer.owner_team))
        {
            return Err(CatalogError::Forbidden(format!(
                "only consumer `{}` itself, its team `{}` or a platform admin may ask for its access",
                consumer.name, consumer.owner_team
            )));
        }
        let domain = self.active_domain(&spec.domain).await?;
        let mut problems = Problems::default();
        check_fields(&mut problems, &spec.fields);
        validate::required_text(&mut problems, "reason", &spec.reason);
        if spec.duration_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            problems.push(
                "durationDays",
                ProblemCode::OutOfRange,
                "must be between 1 and 3650",
            );
        }
        let pending = access_request::Entity::find()
            .filter(access_request::Column::ConsumerId.eq(consumer.id))
            .filter(access_request::Column::DomainId.eq(domain.id))
            .filter(access_request::Column::Status.eq(RequestStatus::Pending))
            .one(&self.db)
            .await?;
        if let Some(p) = pending {
            problems.push(
                "domain",
                ProblemCode::Duplicate,
                format!(
                    "request {} of `{}` for `{}` is still pending",
                    p.id, consumer.name, domain.name
                ),
            );
        }
        invalid(problems)?;
        let change = self.change().await?;
        let model = access_request::ActiveModel {
            id: NotSet,
            consumer_id: Set(consumer.id),
            domain_id: Set(domain.id),
            fields: Set(json!(spec.fields)),
            reason: Set(spec.reason.trim().to_string()),
            duration_days: Set(spec.duration_days),
            status: Set(RequestStatus::Pending),
            requested_by: Set(caller.name.clone()),
            requested_at: Set(Utc::now()),
            decided_by: Set(None),
            decided_at: Set(None),
            decision_note: Set(String::new()),
        }
        .insert(change.txn())
        .await?;
        change.commit(
AuditEntry::new(&caller.name, "access.request", &domain.name)
            .after(Some(json!({ "request": model.id, "consumer": consumer.name, "fields": spec.fields, "reason": spec.reason }))),
Then::Nothing).await?;
        Ok(model)
    }

    /// The domain's owner team (or a platform admin) approves or denies a
    /// pending request. Approval creates the grant; `expires_at` overrides
    /// the requested duration.
    pub async fn decide_access_request(
        &self,
        caller: &Caller,
        id: i32,
        approve: bool,
        note: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(access_request::Model, Option<access_grant::Model>), CatalogError> {
        let request = access_request::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "access request",
                name: id.to_string(),
            })?;
        let domain = domain::Entity::find_by_id(request.domain_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "domain",
                name: request.domain_id.to_string(),
            })?;
        if !(caller.admin || caller.in_team(&domain.owner_team)) {
            return Err(CatalogError::Forbidden(format!(
                "only the owner team `{}` of domain `{}` or a platform admin may decide this request",
                domain.owner_team, domain.name
            )));
        }
        if request.status != RequestStatus::Pending {
            return Err(CatalogError::invalid(
                "id",
                ProblemCode::BadState,
                format!("request {id} was already decided"),
            ));
        }
        let now = Utc::now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(CatalogError::invalid(
                "expiresAt",
                ProblemCode::OutOfRange,
                "lies in the past",
            ));
        }
        let change = self.change().await?;
        let mut row: access_request::ActiveModel = request.clone().into();
        row.status = Set(if approve {
            RequestStatus::Approved
        } else {
            RequestStatus::Denied
        });
        row.decided_by = Set(Some(caller.name.clone()));
        row.decided_at = Set(Some(now));
        row.decision_note = Set(note.trim().to_string());
        let decided = row.update(change.txn()).await?;
        let grant = if approve {
            let expires = expires_at.or_else(|| {
                request
                    .duration_days
                    .map(|d| now + Duration::days(i64::from(d)))
            });
            Some(
                access_grant::ActiveModel {
                    id: NotSet,
                    consumer_id: Set(request.consumer_id),
                    domain_id: Set(request.domain_id),
                    fields: Set(request.fields.clone()),
                    expires_at: Set(expires),
                    revoked_at: Set(None),
                    request_id: Set(Some(request.id)),
                    granted_by: Set(caller.name.clone()),
                    created_at: Set(now),
                }
                .insert(change.txn())
                .await?,
            )
        } else {
            None
        };
        change.commit(
AuditEntry::new(&caller.name, if approve { "access.approve" } else { "access.deny" }, &domain.name)
            .after(Some(json!({ "request": id, "note": note, "grant": grant.as_ref().map(|g| g.id), "expiresAt": grant.as_ref().and_then(|g| g.expires_at) }))),
Then::Publish).await?;
        Ok((decided, grant))
    }

    /// A platform admin grants access directly.
    pub async fn grant_access(
        &self,
        caller: &Caller,
        spec: GrantSpec,
    ) -> Result<access_grant::Model, CatalogError> {
        caller.require_admin("granting access directly")?;
        let consumer = self.consumer_required(&spec.consumer).await?;
        let domain = self.active_domain(&spec.domain).await?;
        let mut problems = Problems::default();
        check_fields(&mut problems, &spec.fields);
        if spec.expires_at.is_some_and(|at| at <= Utc::now()) {
            problems.push("expiresAt", ProblemCode::OutOfRange, "lies in the past");
        }
        invalid(problems)?;
        let change = self.change().await?;
        let grant = access_grant::ActiveModel {
            id: NotSet,
            consumer_id: Set(consumer.id),
            domain_id: Set(domain.id),
            fields: Set(json!(spec.fields)),
            expires_at: Set(spec.expires_at),
            revoked_at: Set(None),
            request_id: Set(None),
            granted_by: Set(caller.name.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(change.txn())
        .await?;
        change.commit(
AuditEntry::new(&caller.name, "access.grant", &domain.name)
            .after(Some(json!({ "grant": grant.id, "consumer": consumer.name, "fields": spec.fields, "expiresAt": spec.expires_at }))),
Then::Publish).await?;
        Ok(grant)
    }

    /// Revokes a grant (by a platform admin or the domain's owner team).
    pub async fn revoke_grant(
        &self,
        caller: &Caller,
        id: i32,
    ) -> Result<access_grant::Model, CatalogError> {
        let grant = access_grant::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "grant",
                name: id.to_string(),
            })?;
        let domain = domain::Entity::find_by_id(grant.domain_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "domain",
                name: grant.domain_id.to_string(),
            })?;
        if !(caller.admin || caller.in_team(&domain.owner_team)) {
            return Err(CatalogError::Forbidden(format!(
                "only the owner team `{}` of domain `{}` or a platform admin may revoke its grants",
                domain.owner_team, domain.name
            )));
        }
        if grant.revoked_at.is_some() {
            return Ok(grant);
        }
        let mut row: access_grant::ActiveModel = grant.into();
        row.revoked_at = Set(Some(Utc::now()));
        let change = self.change().await?;
        let model = row.update(change.txn()).await?;
        change
            .commit(
                AuditEntry::new(&caller.name, "access.revoke", &domain.name)
                    .after(Some(json!({ "grant": id }))),
                Then::Publish,
            )
            .await?;
        Ok(model)
    }
}
