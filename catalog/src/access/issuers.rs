//! Trusted JWT issuers: their keys or secrets and the claims that name
//! the caller, its consumer, scopes and teams.

use access::IssuerRecord;
use async_graphql::InputObject;
use chrono::Utc;
use entity::jwt_issuer;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{invalid, unique_violation, Then};
use crate::audit::AuditEntry;
use crate::error::{CatalogError, ProblemCode};
use crate::validate::{self, Problems};
use crate::{Caller, Catalog};

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

const ALGORITHMS: [&str; 3] = ["HS256", "RS256", "ES256"];

impl Catalog {
    pub async fn jwt_issuers(&self) -> Result<Vec<jwt_issuer::Model>, CatalogError> {
        Ok(jwt_issuer::Entity::find()
            .order_by_asc(jwt_issuer::Column::Name)
            .all(&self.db)
            .await?)
    }

    async fn issuer_required(&self, name: &str) -> Result<jwt_issuer::Model, CatalogError> {
        jwt_issuer::Entity::find()
            .filter(jwt_issuer::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .ok_or_else(|| CatalogError::NotFound {
                what: "JWT issuer",
                name: name.to_string(),
            })
    }

    pub async fn register_issuer(
        &self,
        caller: &Caller,
        spec: IssuerSpec,
    ) -> Result<jwt_issuer::Model, CatalogError> {
        caller.require_admin("registering a JWT issuer")?;
        let record = checked_issuer(&spec)?;
        let now = Utc::now();
        let change = self.change().await?;
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
        .insert(change.txn())
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
        change
            .commit(
                AuditEntry::on(
                    &caller.name,
                    "jwt_issuer.register",
                    format!("jwt_issuer:{}", spec.name),
                )
                .after(Some(shown)),
                Then::Publish,
            )
            .await?;
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
        let existing = self.issuer_required(name).await?;
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
        let change = self.change().await?;
        let model = row
            .update(change.txn())
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
        change
            .commit(
                AuditEntry::on(
                    &caller.name,
                    "jwt_issuer.update",
                    format!("jwt_issuer:{name}"),
                )
                .before(Some(before))
                .after(Some(shown)),
                Then::Publish,
            )
            .await?;
        Ok(model)
    }

    pub async fn remove_issuer(&self, caller: &Caller, name: &str) -> Result<(), CatalogError> {
        caller.require_admin("removing a JWT issuer")?;
        let existing = self.issuer_required(name).await?;
        let change = self.change().await?;
        jwt_issuer::Entity::delete_by_id(existing.id)
            .exec(change.txn())
            .await?;
        change
            .commit(
                AuditEntry::on(
                    &caller.name,
                    "jwt_issuer.remove",
                    format!("jwt_issuer:{name}"),
                )
                .before(Some(
                    json!({ "issuer": existing.issuer, "algorithm": existing.algorithm }),
                )),
                Then::Publish,
            )
            .await?;
        Ok(())
    }
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
