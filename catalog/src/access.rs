//! Access control and API management records: plans, consumers, API keys,
//! JWT issuers, field policies, access requests and grants.
//!
//! Every change is checked against the [`Caller`] (platform admins change
//! everything; a domain's owner team decides requests for its domain; a
//! consumer's team asks for access on its behalf), stored in one
//! transaction with its audit entry, and then published as a new
//! [`access::AccessSnapshot`] to gateways.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use access::{AccessSnapshot, ApiKeyRecord, ConsumerRecord, GrantRecord, IssuerRecord, PlanRecord};
use async_graphql::InputObject;
use chrono::{DateTime, Duration, Utc};
use entity::access_request::RequestStatus;
use entity::{
    access_grant, access_request, api_key, consumer, domain, field_policy, jwt_issuer, plan,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::Catalog;

/// Who is asking, as far as the catalog's permissions go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Recorded in the audit log.
    pub name: String,
    /// Holds the platform-admin scope (`mesh:admin`).
    pub admin: bool,
    pub teams: Vec<String>,
    /// The consumer the caller's credential acts for.
    pub consumer: Option<String>,
}

impl Caller {
    /// A caller without credentials (named by the actor header, if any).
    pub fn anonymous(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            admin: false,
            teams: Vec::new(),
            consumer: None,
        }
    }

    /// A platform administrator.
    pub fn admin(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            admin: true,
            teams: Vec::new(),
            consumer: None,
        }
    }

    pub(crate) fn require_admin(&self, what: &str) -> Result<(), CatalogError> {
        if self.admin {
            Ok(())
        } else {
            Err(CatalogError::Forbidden(format!(
                "{what} needs the platform-admin scope `{}`",
                access::scopes::ADMIN
            )))
        }
    }

    fn in_team(&self, team: &str) -> bool {
        self.teams.iter().any(|t| t == team)
    }
}

/// A traffic plan.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanSpec {
    pub name: String,
    /// Sustained requests per minute (1 to 1,000,000).
    pub requests_per_minute: i32,
    /// Requests allowed at once above the sustained rate (1 to 100,000).
    pub burst: i32,
    /// Requests per UTC day; none for no daily quota.
    #[serde(default)]
    pub daily_quota: Option<i64>,
    /// Largest operation cost accepted; none for no cost limit.
    #[serde(default)]
    pub max_cost: Option<i32>,
}

/// A consumer's registration.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerSpec {
    /// Slug; the value the issuer's consumer claim carries for it.
    pub name: String,
    #[serde(default)]
    #[graphql(default)]
    pub description: String,
    pub owner_team: String,
    pub contact: String,
    /// A plan's name; none: the gateway's default limits.
    #[serde(default)]
    pub plan: Option<String>,
    /// May run introspection queries (default true).
    #[serde(default)]
    pub introspection: Option<bool>,
}

/// A change to a consumer: absent fields stay.
#[derive(InputObject, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerPatch {
    pub description: Option<String>,
    pub owner_team: Option<String>,
    pub contact: Option<String>,
    /// A plan's name, or `""` for none.
    pub plan: Option<String>,
    pub introspection: Option<bool>,
    /// True disables the consumer (its keys and tokens stop working).
    pub disabled: Option<bool>,
}

/// A trusted JWT issuer.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerSpec {
    pub name: String,
    /// The `iss` claim of its tokens.
    pub issuer: String,
    #[serde(default)]
    #[graphql(default)]
    pub audiences: Vec<String>,
    /// `HS256`, `RS256` or `ES256`.
    pub algorithm: String,
    /// HS256 only: the shared secret (at least 32 bytes). Never shown again.
    #[serde(default)]
    pub secret: Option<String>,
    /// RS256/ES256: a PEM public key or a JWKS document.
    #[serde(default)]
    pub public_keys: Option<String>,
    /// RS256/ES256: where to fetch the JWKS (fetched again when a token
    /// names an unknown key).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Claim paths, dot-separated. Defaults: `sub`, `sub`, `scope`, `groups`.
    #[serde(default)]
    pub subject_claim: Option<String>,
    #[serde(default)]
    pub consumer_claim: Option<String>,
    #[serde(default)]
    pub scopes_claim: Option<String>,
    #[serde(default)]
    pub teams_claim: Option<String>,
}

/// Who may read one field of the supergraph.
#[derive(InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldPolicySpec {
    /// `Type.field`.
    pub coordinate: String,
    /// OR of AND-lists of scopes; `[]` means any authenticated caller.
    pub scopes: Vec<Vec<String>>,
    #[serde(default)]
    #[graphql(default)]
    pub description: String,
}

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

/// An API key as created: `key` is shown this once.
#[derive(Clone, Debug)]
pub struct CreatedApiKey {
    pub record: api_key::Model,
    pub key: String,
}

const ALGORITHMS: [&str; 3] = ["HS256", "RS256", "ES256"];
const MAX_SCOPE_GROUPS: usize = 32;

fn coordinate_ok(value: &str) -> bool {
    let name = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    value
        .split_once('.')
        .is_some_and(|(t, f)| name(t) && name(f))
}

fn check_fields(problems: &mut Problems, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if !coordinate_ok(f) {
            problems.push(
                format!("fields[{i}]"),
                ProblemCode::MalformedJson,
                format!("`{f}` is not a `Type.field` coordinate"),
            );
        }
    }
}

fn scope_ok(scope: &str) -> bool {
    !scope.is_empty() && scope.len() <= 200 && !scope.chars().any(char::is_whitespace)
}

fn random_hex(bytes: usize) -> Result<String, CatalogError> {
    access::random_hex(bytes).map_err(CatalogError::Internal)
}

pub(crate) fn invalid(problems: Problems) -> Result<(), CatalogError> {
    if problems.0.is_empty() {
        Ok(())
    } else {
        Err(CatalogError::Invalid(problems.0))
    }
}

fn unique_violation(
    field: &'static str,
    what: String,
) -> impl FnOnce(CatalogError) -> CatalogError {
    move |e| match &e {
        CatalogError::Database(db)
            if matches!(
                db.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            CatalogError::invalid(field, ProblemCode::DuplicateName, what)
        }
        _ => e,
    }
}

impl Catalog {
    // ----- lookups -------------------------------------------------------

    async fn plan_named(&self, name: &str) -> Result<Option<plan::Model>, CatalogError> {
        Ok(plan::Entity::find()
            .filter(plan::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    pub async fn consumer_named(
        &self,
        name: &str,
    ) -> Result<Option<consumer::Model>, CatalogError> {
        Ok(consumer::Entity::find()
            .filter(consumer::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    async fn consumer_required(&self, name: &str) -> Result<consumer::Model, CatalogError> {
        self.consumer_named(name)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "consumer",
                name: name.to_string(),
            })
    }

    async fn active_domain(&self, name: &str) -> Result<domain::Model, CatalogError> {
        let d = self
            .get(name)
            .await?
            .ok_or_else(|| CatalogError::DomainNotFound(name.to_string()))?;
        if d.status != domain::DomainStatus::Active {
            return Err(CatalogError::DomainDeregistered(name.to_string()));
        }
        Ok(d)
    }

    pub async fn plans(&self) -> Result<Vec<plan::Model>, CatalogError> {
        Ok(plan::Entity::find()
            .order_by_asc(plan::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn plans_by_id(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, plan::Model>, CatalogError> {
        Ok(plan::Entity::find()
            .filter(plan::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    }

    pub async fn consumers(&self) -> Result<Vec<consumer::Model>, CatalogError> {
        Ok(consumer::Entity::find()
            .order_by_asc(consumer::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// The API keys of each of these consumers (one query).
    pub async fn api_keys_of_consumers(
        &self,
        consumer_ids: &[i32],
    ) -> Result<HashMap<i32, Vec<api_key::Model>>, CatalogError> {
        let mut by_consumer: HashMap<i32, Vec<api_key::Model>> = HashMap::new();
        for key in api_key::Entity::find()
            .filter(api_key::Column::ConsumerId.is_in(consumer_ids.iter().copied()))
            .order_by_asc(api_key::Column::Id)
            .all(&self.db)
            .await?
        {
            by_consumer.entry(key.consumer_id).or_default().push(key);
        }
        Ok(by_consumer)
    }

    pub async fn api_keys_of(&self, consumer_id: i32) -> Result<Vec<api_key::Model>, CatalogError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::ConsumerId.eq(consumer_id))
            .order_by_asc(api_key::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn jwt_issuers(&self) -> Result<Vec<jwt_issuer::Model>, CatalogError> {
        Ok(jwt_issuer::Entity::find()
            .order_by_asc(jwt_issuer::Column::Name)
            .all(&self.db)
            .await?)
    }

    pub async fn field_policies(&self) -> Result<Vec<field_policy::Model>, CatalogError> {
        Ok(field_policy::Entity::find()
            .order_by_asc(field_policy::Column::Coordinate)
            .all(&self.db)
            .await?)
    }

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

    pub async fn consumers_by_id(
        &self,
        ids: &[i32],
    ) -> Result<HashMap<i32, consumer::Model>, CatalogError> {
        Ok(consumer::Entity::find()
            .filter(consumer::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect())
    }

    // ----- plans -----------------------------------------------------------

    pub async fn create_plan(
        &self,
        caller: &Caller,
        spec: PlanSpec,
    ) -> Result<plan::Model, CatalogError> {
        caller.require_admin("creating a plan")?;
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", &spec.name);
        if !(1..=1_000_000).contains(&spec.requests_per_minute) {
            problems.push(
                "requestsPerMinute",
                ProblemCode::OutOfRange,
                format!("{} is not between 1 and 1000000", spec.requests_per_minute),
            );
        }
        if !(1..=100_000).contains(&spec.burst) {
            problems.push(
                "burst",
                ProblemCode::OutOfRange,
                format!("{} is not between 1 and 100000", spec.burst),
            );
        }
        if spec.daily_quota.is_some_and(|q| q < 1) {
            problems.push("dailyQuota", ProblemCode::OutOfRange, "must be at least 1");
        }
        if spec.max_cost.is_some_and(|c| c < 1) {
            problems.push("maxCost", ProblemCode::OutOfRange, "must be at least 1");
        }
        invalid(problems)?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let model = plan::ActiveModel {
            id: NotSet,
            name: Set(spec.name.clone()),
            requests_per_minute: Set(spec.requests_per_minute),
            burst: Set(spec.burst),
            daily_quota: Set(spec.daily_quota),
            max_cost: Set(spec.max_cost),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(CatalogError::from)
        .map_err(unique_violation(
            "name",
            format!("a plan named `{}` exists", spec.name),
        ))?;
        AuditEntry::on(&caller.name, "plan.create", format!("plan:{}", spec.name))
            .after(serde_json::to_value(&spec).ok())
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    // ----- consumers -------------------------------------------------------

    pub async fn create_consumer(
        &self,
        caller: &Caller,
        spec: ConsumerSpec,
    ) -> Result<consumer::Model, CatalogError> {
        caller.require_admin("registering a consumer")?;
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", &spec.name);
        validate::required_text(&mut problems, "ownerTeam", &spec.owner_team);
        validate::required_text(&mut problems, "contact", &spec.contact);
        validate::description(&mut problems, "description", &spec.description);
        let plan = match &spec.plan {
            Some(name) => match self.plan_named(name).await? {
                Some(p) => Some(p.id),
                None => {
                    problems.push(
                        "plan",
                        ProblemCode::UnknownReference,
                        format!("no plan named `{name}`"),
                    );
                    None
                }
            },
            None => None,
        };
        invalid(problems)?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let model = consumer::ActiveModel {
            id: NotSet,
            name: Set(spec.name.clone()),
            description: Set(spec.description.clone()),
            owner_team: Set(spec.owner_team.trim().to_string()),
            contact: Set(spec.contact.trim().to_string()),
            plan_id: Set(plan),
            introspection: Set(spec.introspection.unwrap_or(true)),
            disabled_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(CatalogError::from)
        .map_err(unique_violation(
            "name",
            format!("a consumer named `{}` exists", spec.name),
        ))?;
        AuditEntry::on(
            &caller.name,
            "consumer.create",
            format!("consumer:{}", spec.name),
        )
        .after(serde_json::to_value(&spec).ok())
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    pub async fn update_consumer(
        &self,
        caller: &Caller,
        name: &str,
        patch: ConsumerPatch,
    ) -> Result<consumer::Model, CatalogError> {
        caller.require_admin("changing a consumer")?;
        let existing = self.consumer_required(name).await?;
        let mut problems = Problems::default();
        if let Some(t) = &patch.owner_team {
            validate::required_text(&mut problems, "ownerTeam", t);
        }
        if let Some(c) = &patch.contact {
            validate::required_text(&mut problems, "contact", c);
        }
        if let Some(d) = &patch.description {
            validate::description(&mut problems, "description", d);
        }
        let plan = match patch.plan.as_deref() {
            None => existing.plan_id,
            Some("") => None,
            Some(p) => match self.plan_named(p).await? {
                Some(p) => Some(p.id),
                None => {
                    problems.push(
                        "plan",
                        ProblemCode::UnknownReference,
                        format!("no plan named `{p}`"),
                    );
                    None
                }
            },
        };
        invalid(problems)?;
        let now = Utc::now();
        let mut row: consumer::ActiveModel = existing.clone().into();
        if let Some(d) = patch.description.clone() {
            row.description = Set(d);
        }
        if let Some(t) = &patch.owner_team {
            row.owner_team = Set(t.trim().to_string());
        }
        if let Some(c) = &patch.contact {
            row.contact = Set(c.trim().to_string());
        }
        row.plan_id = Set(plan);
        if let Some(i) = patch.introspection {
            row.introspection = Set(i);
        }
        if let Some(disabled) = patch.disabled {
            row.disabled_at = Set(match (disabled, existing.disabled_at) {
                (true, Some(at)) => Some(at),
                (true, None) => Some(now),
                (false, _) => None,
            });
        }
        row.updated_at = Set(now);
        let txn = self.db.begin().await?;
        let model = row.update(&txn).await?;
        AuditEntry::on(&caller.name, "consumer.update", format!("consumer:{name}"))
            .before(serde_json::to_value(&existing).ok())
            .after(serde_json::to_value(&model).ok())
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    // ----- API keys --------------------------------------------------------

    /// Creates an API key for a consumer; the key is returned this once.
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        consumer: &str,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedApiKey, CatalogError> {
        caller.require_admin("creating an API key")?;
        let owner = self.consumer_required(consumer).await?;
        let mut problems = Problems::default();
        validate::slug(&mut problems, "name", name);
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            problems.push("expiresAt", ProblemCode::OutOfRange, "lies in the past");
        }
        invalid(problems)?;
        let prefix = random_hex(6)?;
        let key = format!("mk_{prefix}_{}", random_hex(24)?);
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let record = api_key::ActiveModel {
            id: NotSet,
            consumer_id: Set(owner.id),
            name: Set(name.to_string()),
            prefix: Set(prefix.clone()),
            hash: Set(access::api_key_hash(&key)),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
            created_by: Set(caller.name.clone()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(CatalogError::from)
        .map_err(unique_violation(
            "name",
            format!("consumer `{consumer}` already has a key named `{name}`"),
        ))?;
        AuditEntry::on(
            &caller.name,
            "api_key.create",
            format!("consumer:{consumer}"),
        )
        .after(Some(
            json!({ "name": name, "prefix": prefix, "expiresAt": expires_at }),
        ))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(CreatedApiKey { record, key })
    }

    /// Revokes an API key by its prefix; the next request with it is refused.
    pub async fn revoke_api_key(
        &self,
        caller: &Caller,
        prefix: &str,
    ) -> Result<api_key::Model, CatalogError> {
        caller.require_admin("revoking an API key")?;
        let existing = api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(prefix))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "API key",
                name: prefix.to_string(),
            })?;
        if existing.revoked_at.is_some() {
            return Ok(existing);
        }
        let mut row: api_key::ActiveModel = existing.into();
        row.revoked_at = Set(Some(Utc::now()));
        let txn = self.db.begin().await?;
        let model = row.update(&txn).await?;
        AuditEntry::on(&caller.name, "api_key.revoke", format!("api_key:{prefix}"))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    // ----- JWT issuers -----------------------------------------------------

    pub async fn register_issuer(
        &self,
        caller: &Caller,
        spec: IssuerSpec,
    ) -> Result<jwt_issuer::Model, CatalogError> {
        caller.require_admin("registering a JWT issuer")?;
        let record = checked_issuer(&spec)?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let model = jwt_issuer::ActiveModel {
            id: NotSet,
            name: Set(record.name.clone()),
            issuer: Set(record.issuer.clone()),
            audiences: Set(json!(record.audiences)),
            algorithm: Set(record.algorithm.clone()),
            secret: Set(record.secret.clone()),
            public_keys: Set(record.public_keys.clone()),
            jwks_url: Set(record.jwks_url.clone()),
            subject_claim: Set(record.subject_claim.clone()),
            consumer_claim: Set(record.consumer_claim.clone()),
            scopes_claim: Set(record.scopes_claim.clone()),
            teams_claim: Set(record.teams_claim.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(CatalogError::from)
        .map_err(unique_violation(
            "name",
            format!(
                "an issuer named `{}` or with `iss` `{}` exists",
                spec.name, spec.issuer
            ),
        ))?;
        let mut shown = serde_json::to_value(&record).unwrap_or_default();
        if let Some(map) = shown.as_object_mut() {
            map.remove("secret");
        }
        AuditEntry::on(
            &caller.name,
            "jwt_issuer.register",
            format!("jwt_issuer:{}", spec.name),
        )
        .after(Some(shown))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    /// Replaces an issuer's settings (e.g. a rotated secret or key); tokens
    /// are verified with the new ones from the next request.
    pub async fn update_issuer(
        &self,
        caller: &Caller,
        name: &str,
        spec: IssuerSpec,
    ) -> Result<jwt_issuer::Model, CatalogError> {
        caller.require_admin("changing a JWT issuer")?;
        let existing = jwt_issuer::Entity::find()
            .filter(jwt_issuer::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "JWT issuer",
                name: name.to_string(),
            })?;
        if spec.name != name {
            return Err(CatalogError::invalid(
                "name",
                ProblemCode::BadState,
                format!(
                    "an issuer keeps its name; register `{}` as a new issuer",
                    spec.name
                ),
            ));
        }
        let record = checked_issuer(&spec)?;
        let before = json!({ "issuer": existing.issuer, "algorithm": existing.algorithm,
                             "audiences": existing.audiences, "jwksUrl": existing.jwks_url });
        let mut row: jwt_issuer::ActiveModel = existing.into();
        row.issuer = Set(record.issuer.clone());
        row.audiences = Set(json!(record.audiences));
        row.algorithm = Set(record.algorithm.clone());
        row.secret = Set(record.secret.clone());
        row.public_keys = Set(record.public_keys.clone());
        row.jwks_url = Set(record.jwks_url.clone());
        row.subject_claim = Set(record.subject_claim.clone());
        row.consumer_claim = Set(record.consumer_claim.clone());
        row.scopes_claim = Set(record.scopes_claim.clone());
        row.teams_claim = Set(record.teams_claim.clone());
        row.updated_at = Set(Utc::now());
        let txn = self.db.begin().await?;
        let model =
            row.update(&txn)
                .await
                .map_err(CatalogError::from)
                .map_err(unique_violation(
                    "issuer",
                    format!("another issuer has `iss` `{}`", spec.issuer),
                ))?;
        let mut shown = serde_json::to_value(&record).unwrap_or_default();
        if let Some(map) = shown.as_object_mut() {
            map.remove("secret");
        }
        AuditEntry::on(
            &caller.name,
            "jwt_issuer.update",
            format!("jwt_issuer:{name}"),
        )
        .before(Some(before))
        .after(Some(shown))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    pub async fn remove_issuer(&self, caller: &Caller, name: &str) -> Result<(), CatalogError> {
        caller.require_admin("removing a JWT issuer")?;
        let existing = jwt_issuer::Entity::find()
            .filter(jwt_issuer::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "JWT issuer",
                name: name.to_string(),
            })?;
        let txn = self.db.begin().await?;
        jwt_issuer::Entity::delete_by_id(existing.id)
            .exec(&txn)
            .await?;
        AuditEntry::on(
            &caller.name,
            "jwt_issuer.remove",
            format!("jwt_issuer:{name}"),
        )
        .before(Some(
            json!({ "issuer": existing.issuer, "algorithm": existing.algorithm }),
        ))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(())
    }

    // ----- field policies --------------------------------------------------

    /// Sets (or replaces) the policy of one field; the supergraph is composed
    /// again so gateways enforce it.
    pub async fn set_field_policy(
        &self,
        caller: &Caller,
        spec: FieldPolicySpec,
    ) -> Result<field_policy::Model, CatalogError> {
        caller.require_admin("setting a field policy")?;
        let mut problems = Problems::default();
        if !coordinate_ok(&spec.coordinate) {
            problems.push(
                "coordinate",
                ProblemCode::MalformedJson,
                format!("`{}` is not a `Type.field` coordinate", spec.coordinate),
            );
        }
        if spec.scopes.len() > MAX_SCOPE_GROUPS {
            problems.push(
                "scopes",
                ProblemCode::TooLong,
                format!("at most {MAX_SCOPE_GROUPS} alternatives"),
            );
        }
        for (i, group) in spec.scopes.iter().enumerate() {
            if group.is_empty() {
                problems.push(
                    format!("scopes[{i}]"),
                    ProblemCode::Required,
                    "an alternative needs at least one scope",
                );
            }
            for (j, s) in group.iter().enumerate() {
                if !scope_ok(s) {
                    problems.push(
                        format!("scopes[{i}][{j}]"),
                        ProblemCode::MalformedJson,
                        format!("`{s}` is not a scope (1 to 200 characters, no spaces)"),
                    );
                }
            }
        }
        validate::description(&mut problems, "description", &spec.description);
        invalid(problems)?;
        let existing = field_policy::Entity::find()
            .filter(field_policy::Column::Coordinate.eq(&spec.coordinate))
            .one(&self.db)
            .await?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let model = match existing.clone() {
            Some(old) => {
                let mut row: field_policy::ActiveModel = old.into();
                row.scopes = Set(json!(spec.scopes));
                row.description = Set(spec.description.clone());
                row.updated_at = Set(now);
                row.update(&txn).await?
            }
            None => {
                field_policy::ActiveModel {
                    id: NotSet,
                    coordinate: Set(spec.coordinate.clone()),
                    scopes: Set(json!(spec.scopes)),
                    description: Set(spec.description.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?
            }
        };
        AuditEntry::on(
            &caller.name,
            "field_policy.set",
            format!("field:{}", spec.coordinate),
        )
        .before(existing.map(|e| e.scopes))
        .after(Some(json!(spec.scopes)))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.recompose_after_change(&caller.name).await;
        Ok(model)
    }

    pub async fn remove_field_policy(
        &self,
        caller: &Caller,
        coordinate: &str,
    ) -> Result<(), CatalogError> {
        caller.require_admin("removing a field policy")?;
        let existing = field_policy::Entity::find()
            .filter(field_policy::Column::Coordinate.eq(coordinate))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "field policy",
                name: coordinate.to_string(),
            })?;
        let txn = self.db.begin().await?;
        field_policy::Entity::delete_by_id(existing.id)
            .exec(&txn)
            .await?;
        AuditEntry::on(
            &caller.name,
            "field_policy.remove",
            format!("field:{coordinate}"),
        )
        .before(Some(existing.scopes))
        .insert(&txn)
        .await?;
        txn.commit().await?;
        self.recompose_after_change(&caller.name).await;
        Ok(())
    }

    // ----- access requests and grants --------------------------------------

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
        let txn = self.db.begin().await?;
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
        .insert(&txn)
        .await?;
        AuditEntry::new(&caller.name, "access.request", &domain.name)
            .after(Some(json!({ "request": model.id, "consumer": consumer.name, "fields": spec.fields, "reason": spec.reason })))
            .insert(&txn)
            .await?;
        txn.commit().await?;
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
        let txn = self.db.begin().await?;
        let mut row: access_request::ActiveModel = request.clone().into();
        row.status = Set(if approve {
            RequestStatus::Approved
        } else {
            RequestStatus::Denied
        });
        row.decided_by = Set(Some(caller.name.clone()));
        row.decided_at = Set(Some(now));
        row.decision_note = Set(note.trim().to_string());
        let decided = row.update(&txn).await?;
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
                .insert(&txn)
                .await?,
            )
        } else {
            None
        };
        AuditEntry::new(&caller.name, if approve { "access.approve" } else { "access.deny" }, &domain.name)
            .after(Some(json!({ "request": id, "note": note, "grant": grant.as_ref().map(|g| g.id), "expiresAt": grant.as_ref().and_then(|g| g.expires_at) })))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.publish_after_change().await;
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
        let txn = self.db.begin().await?;
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
        .insert(&txn)
        .await?;
        AuditEntry::new(&caller.name, "access.grant", &domain.name)
            .after(Some(json!({ "grant": grant.id, "consumer": consumer.name, "fields": spec.fields, "expiresAt": spec.expires_at })))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.publish_after_change().await;
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
        let txn = self.db.begin().await?;
        let model = row.update(&txn).await?;
        AuditEntry::new(&caller.name, "access.revoke", &domain.name)
            .after(Some(json!({ "grant": id })))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        self.publish_after_change().await;
        Ok(model)
    }

    // ----- the snapshot gateways enforce -----------------------------------

    /// Builds the access snapshot from the tables.
    pub async fn access_snapshot(&self) -> Result<AccessSnapshot, CatalogError> {
        let now = Utc::now();
        let plans: HashMap<i32, PlanRecord> = plan::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    PlanRecord {
                        name: p.name,
                        requests_per_minute: p.requests_per_minute.max(1) as u32,
                        burst: p.burst.max(1) as u32,
                        daily_quota: p.daily_quota.map(|q| q.max(0) as u64),
                        max_cost: p.max_cost.map(|c| c.max(0) as u32),
                    },
                )
            })
            .collect();
        let consumers: Vec<consumer::Model> = consumer::Entity::find()
            .filter(consumer::Column::DisabledAt.is_null())
            .order_by_asc(consumer::Column::Name)
            .all(&self.db)
            .await?;
        let names: HashMap<i32, String> =
            consumers.iter().map(|c| (c.id, c.name.clone())).collect();
        // Only the columns the snapshot needs: a domain's row also holds its
        // search text (every field name), read for every write otherwise.
        let active: Vec<SnapshotDomain> = domain::Entity::find()
            .select_only()
            .columns([
                domain::Column::Id,
                domain::Column::Name,
                domain::Column::PlanId,
                domain::Column::Model,
            ])
            .column_as(domain::Column::Datasets.is_not_null(), "has_datasets")
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .into_model()
            .all(&self.db)
            .await?;
        let domain_plans = active
            .iter()
            .filter_map(|d| Some((d.name.clone(), plans.get(&d.plan_id?)?.clone())))
            .collect();
        let strict_domains = active
            .iter()
            .filter(|d| d.model == domain::GovernanceModel::Strict)
            .map(|d| d.name.clone())
            .collect();
        let active_ids: HashSet<i32> = active.iter().map(|d| d.id).collect();
        let mut served = self.served_version_ids().await?;
        served.retain(|domain, _| active_ids.contains(domain));
        let mesh_empty = served.is_empty();
        let products = self.product_records(&active, &served).await?;
        let saved_queries = self.saved_query_records().await?;
        let domains: HashMap<i32, String> = active.into_iter().map(|d| (d.id, d.name)).collect();
        let mut grants: HashMap<i32, Vec<GrantRecord>> = HashMap::new();
        for g in access_grant::Entity::find()
            .filter(access_grant::Column::RevokedAt.is_null())
            .order_by_asc(access_grant::Column::Id)
            .all(&self.db)
            .await?
        {
            if g.expires_at.is_some_and(|at| at <= now) {
                continue;
            }
            let Some(domain) = domains.get(&g.domain_id) else {
                continue;
            };
            // A grant whose stored fields do not read is left out (the
            // consumer loses it) rather than read as "the whole domain".
            let fields: Vec<String> = match serde_json::from_value(g.fields.clone()) {
                Ok(fields) => fields,
                Err(e) => {
                    tracing::error!(grant = g.id, error = %e, "stored grant fields are corrupt; the grant is not enforced as given (refused)");
                    continue;
                }
            };
            let scopes = if fields.is_empty() {
                vec![access::scopes::domain(domain)]
            } else {
                fields
                    .iter()
                    .map(|f| access::scopes::field(domain, f))
                    .collect()
            };
            grants.entry(g.consumer_id).or_default().push(GrantRecord {
                scopes,
                expires_at: g.expires_at,
            });
        }
        let api_keys = api_key::Entity::find()
            .filter(api_key::Column::RevokedAt.is_null())
            .order_by_asc(api_key::Column::Prefix)
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|k| k.expires_at.is_none_or(|at| at > now))
            .filter_map(|k| {
                Some(ApiKeyRecord {
                    consumer: names.get(&k.consumer_id)?.clone(),
                    prefix: k.prefix,
                    hash: k.hash,
                    expires_at: k.expires_at,
                })
            })
            .collect();
        let issuers = self
            .jwt_issuers()
            .await?
            .into_iter()
            .filter_map(|i| {
                // An issuer whose stored audiences do not read is left out
                // (its tokens are refused) rather than trusted for any
                // audience.
                let audiences = match serde_json::from_value(i.audiences) {
                    Ok(audiences) => audiences,
                    Err(e) => {
                        tracing::error!(issuer = %i.name, error = %e, "stored issuer audiences are corrupt; its tokens are refused");
                        return None;
                    }
                };
                Some(IssuerRecord {
                name: i.name,
                issuer: i.issuer,
                audiences,
                algorithm: i.algorithm,
                secret: i.secret,
                secret_sha256: None,
                public_keys: i.public_keys,
                jwks_url: i.jwks_url,
                subject_claim: i.subject_claim,
                consumer_claim: i.consumer_claim,
                scopes_claim: i.scopes_claim,
                teams_claim: i.teams_claim,
                })
            })
            .collect();
        Ok(AccessSnapshot {
            domain_plans,
            strict_domains,
            mesh_empty,
            products,
            saved_queries,
            issuers,
            api_keys,
            consumers: consumers
                .into_iter()
                .map(|c| ConsumerRecord {
                    grants: grants.remove(&c.id).unwrap_or_default(),
                    plan: c.plan_id.and_then(|p| plans.get(&p).cloned()),
                    introspection: c.introspection,
                    name: c.name,
                })
                .collect(),
        })
    }

    /// Rebuilds the snapshot and hands it to subscribers if it changed.
    pub async fn publish_access(&self) -> Result<(), CatalogError> {
        let snapshot = Arc::new(self.access_snapshot().await?);
        self.access.send_if_modified(|current| {
            if **current == *snapshot {
                false
            } else {
                *current = snapshot.clone();
                true
            }
        });
        Ok(())
    }

    /// After a committed change: publish the new snapshot. A failure here
    /// must not report the committed change as failed; it is logged, and
    /// the periodic refresh ([`Catalog::spawn_access_refresher`]) publishes
    /// it later.
    pub(crate) async fn publish_after_change(&self) {
        if let Err(e) = self.publish_access().await {
            tracing::error!(error = %e, "publishing the access snapshot failed; the periodic refresh will retry");
        }
    }

    /// After a committed change: compose again. A failure is logged; the
    /// next change or schema pull composes again.
    pub(crate) async fn recompose_after_change(&self, actor: &str) {
        if let Err(e) = self.recompose(actor).await {
            tracing::error!(error = %e, "recomposition after a catalog change failed");
        }
    }

    /// Rebuilds and publishes the access snapshot every `interval`, so
    /// gateways see changes made by another control-plane instance sharing
    /// the database, and any publication that failed.
    pub fn spawn_access_refresher(
        &self,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let catalog = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                catalog.publish_after_change().await;
            }
        })
    }

    /// Follows the access snapshot: the current one now, and every change.
    pub fn subscribe_access(&self) -> tokio::sync::watch::Receiver<Arc<AccessSnapshot>> {
        self.access.subscribe()
    }

    /// The domains restricted to grant holders, and the catalog's field
    /// policies, as composition writes them into the supergraph.
    pub(crate) async fn access_rules(&self) -> Result<::composition::AccessRules, CatalogError> {
        let restricted: BTreeSet<String> = domain::Entity::find()
            .filter(domain::Column::Status.eq(domain::DomainStatus::Active))
            .filter(domain::Column::Access.eq(domain::DomainAccess::Restricted))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| d.name)
            .collect();
        let mut field_policies = Vec::new();
        for p in self.field_policies().await? {
            let scopes: Vec<Vec<String>> =
                serde_json::from_value(p.scopes.clone()).map_err(|e| CatalogError::Corrupt {
                    domain: p.coordinate.clone(),
                    what: "field policy",
                    reason: e.to_string(),
                })?;
            field_policies.push((p.coordinate, scopes));
        }
        Ok(::composition::AccessRules {
            restricted,
            field_policies,
            admin_scope: access::scopes::ADMIN.to_string(),
        })
    }
}

/// What the access snapshot reads of an active domain.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub(crate) struct SnapshotDomain {
    pub id: i32,
    pub name: String,
    pub plan_id: Option<i32>,
    pub model: domain::GovernanceModel,
    /// It maps OpenLineage datasets, so it has a "last produced" time.
    pub has_datasets: bool,
}

/// An issuer spec checked the way gateways will use it.
fn checked_issuer(spec: &IssuerSpec) -> Result<IssuerRecord, CatalogError> {
    let mut problems = Problems::default();
    validate::slug(&mut problems, "name", &spec.name);
    validate::required_text(&mut problems, "issuer", &spec.issuer);
    if !ALGORITHMS.contains(&spec.algorithm.as_str()) {
        problems.push(
            "algorithm",
            ProblemCode::OutOfRange,
            format!("`{}` is not one of HS256, RS256, ES256", spec.algorithm),
        );
    }
    let hs = spec.algorithm == "HS256";
    match (&spec.secret, hs) {
        (Some(s), true) if s.len() < 32 => problems.push(
            "secret",
            ProblemCode::InvalidKey,
            "an HS256 secret needs at least 32 bytes",
        ),
        (None, true) => problems.push("secret", ProblemCode::Required, "HS256 needs a secret"),
        (Some(_), false) => problems.push(
            "secret",
            ProblemCode::InvalidKey,
            "a secret is only for HS256; give publicKeys or jwksUrl",
        ),
        _ => {}
    }
    if hs && (spec.public_keys.is_some() || spec.jwks_url.is_some()) {
        problems.push(
            "publicKeys",
            ProblemCode::InvalidKey,
            "HS256 takes a secret, not public keys",
        );
    }
    if !hs && spec.public_keys.is_none() && spec.jwks_url.is_none() {
        problems.push(
            "publicKeys",
            ProblemCode::Required,
            "give publicKeys (PEM or JWKS) or jwksUrl",
        );
    }
    if let Some(url) = &spec.jwks_url {
        validate::http_url(&mut problems, "jwksUrl", url);
    }
    let record = issuer_record(spec);
    if problems.0.is_empty() {
        if let Err(e) = access::check_issuer(&record) {
            problems.push("publicKeys", ProblemCode::InvalidKey, e);
        }
    }
    invalid(problems)?;
    Ok(record)
}

fn issuer_record(spec: &IssuerSpec) -> IssuerRecord {
    let claim = |c: &Option<String>, default: &str| {
        c.as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or(default)
            .to_string()
    };
    IssuerRecord {
        name: spec.name.clone(),
        issuer: spec.issuer.trim().to_string(),
        audiences: spec.audiences.clone(),
        algorithm: spec.algorithm.clone(),
        secret: spec.secret.clone(),
        secret_sha256: None,
        public_keys: spec.public_keys.clone(),
        jwks_url: spec.jwks_url.clone(),
        subject_claim: claim(&spec.subject_claim, "sub"),
        consumer_claim: claim(&spec.consumer_claim, "sub"),
        scopes_claim: claim(&spec.scopes_claim, "scope"),
        teams_claim: claim(&spec.teams_claim, "groups"),
    }
}

#[cfg(test)]
mod tests {
    use super::coordinate_ok;

    #[test]
    fn coordinates() {
        assert!(coordinate_ok("Order.total"));
        assert!(coordinate_ok("_T._f1"));
        assert!(!coordinate_ok("Order"));
        assert!(!coordinate_ok("Order.total.x"));
        assert!(!coordinate_ok("1Order.total"));
        assert!(!coordinate_ok(".total"));
    }
}
