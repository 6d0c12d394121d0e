//! Schema evolution in the catalog: each new schema version is compared
//! with the domain's accepted ones (classified changes, its compatibility
//! mode, the mesh's governance rules) and, under the strict model, held as
//! `pending` when it breaks either, until an admin approves it or the domain
//! publishes one that passes. Composition and the REST serving use the
//! newest *accepted* version only, so a held version never reaches the
//! gateway.

use chrono::Utc;
use entity::schema_version::{self, VersionStatus};
use entity::{domain, setting};
use evolution::{Change, Compatibility, RuleLevel, RuleViolation, Rules, Schema, Violation};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::audit::AuditEntry;
use crate::error::CatalogError;
use crate::{Caller, Catalog};

/// The settings key of the governance rules.
pub const RULES_KEY: &str = "governance.rules";

/// Uses within this many seconds count (30 days) unless the rules say.
const DEFAULT_USAGE_WINDOW: u64 = 30 * 24 * 3600;

/// A domain's compatibility mode; an unreadable stored value counts as the
/// strictest mode (fail closed), never as none.
pub fn compatibility_of(d: &domain::Model) -> Compatibility {
    serde_json::from_value(serde_json::Value::String(d.compatibility.clone()))
        .unwrap_or(Compatibility::FullTransitive)
}

pub(crate) fn compatibility_text(mode: Compatibility) -> String {
    match serde_json::to_value(mode) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "BACKWARD".into(),
    }
}

/// What the checks of a version found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checks {
    /// The compatibility mode the version was checked against.
    #[serde(default)]
    pub mode: Option<Compatibility>,
    /// Breaking changes the mode refuses, against which earlier version.
    #[serde(default)]
    pub compatibility: Vec<VersionViolation>,
    #[serde(default)]
    pub rules: Vec<RuleViolation>,
    /// Why the version could not be compared (it does not parse).
    #[serde(default)]
    pub error: Option<String>,
    /// Who used what each breaking change removes or narrows.
    #[serde(default)]
    pub usage: Option<UsageBasis>,
}

/// The usage a check looked at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageBasis {
    /// The window: uses since then count.
    pub since: Option<chrono::DateTime<Utc>>,
    /// Whether usage was recorded over the whole window (else no change is
    /// safe by usage: a mesh without usage data never widens).
    pub complete: bool,
    /// Each breaking change with the uses it would break.
    pub affected: Vec<Affected>,
}

/// A breaking change and who used what it breaks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    pub path: String,
    pub uses: Vec<crate::usage::Use>,
    /// No consumer used it within the whole window.
    pub safe_by_usage: bool,
}

/// A compatibility violation naming the earlier version by id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionViolation {
    pub against_version_id: i32,
    #[serde(flatten)]
    pub violation: Violation,
    /// No consumer used what it breaks within the usage window.
    #[serde(default)]
    pub safe_by_usage: bool,
}

impl Checks {
    /// Whether the strict model holds the version.
    pub fn refuses(&self) -> bool {
        self.error.is_some()
            || self.compatibility.iter().any(|v| !v.safe_by_usage)
            || self.rules.iter().any(|r| r.level == RuleLevel::Error)
    }
}

/// The assessment of a candidate version.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assessment {
    pub changes: Vec<Change>,
    pub checks: Checks,
}

/// The SDL a version contributes to the graph: a GraphQL domain's document,
/// a REST domain's derived subgraph.
pub(crate) fn api_sdl(d: &domain::Model, version: &schema_version::Model) -> Option<String> {
    match d.kind {
        domain::ApiKind::Graphql => Some(version.document.clone()),
        domain::ApiKind::Rest => crate::rest::derived_of(version).map(|x| x.sdl),
    }
}

pub(crate) fn changes_of(version: &schema_version::Model) -> Vec<Change> {
    version
        .changes
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

pub(crate) fn checks_of(version: &schema_version::Model) -> Checks {
    version
        .checks
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

impl Catalog {
    /// The mesh's governance rules (none set: no rule).
    pub async fn governance_rules(&self) -> Result<Rules, CatalogError> {
        let Some(row) = setting::Entity::find_by_id(RULES_KEY.to_string())
            .one(&self.db)
            .await?
        else {
            return Ok(Rules::default());
        };
        serde_json::from_value(row.value).map_err(|e| CatalogError::Corrupt {
            domain: "(mesh settings)".into(),
            what: "governance rules",
            reason: e.to_string(),
        })
    }

    /// Replaces the governance rules (platform admins, on a secured
    /// catalog). Applies to versions published from now on.
    pub async fn set_governance_rules(
        &self,
        caller: &Caller,
        rules: Rules,
    ) -> Result<Rules, CatalogError> {
        if self.secured() && !caller.admin {
            return Err(CatalogError::Forbidden(format!(
                "setting governance rules needs the platform-admin scope `{}`",
                access::scopes::ADMIN
            )));
        }
        let before = self.governance_rules().await?;
        let value = serde_json::to_value(&rules)
            .map_err(|e| CatalogError::Internal(format!("rules not serializable: {e}")))?;
        let txn = self.db.begin().await?;
        setting::Entity::delete_by_id(RULES_KEY.to_string())
            .exec(&txn)
            .await?;
        setting::ActiveModel {
            key: Set(RULES_KEY.to_string()),
            value: Set(value.clone()),
            updated_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        AuditEntry::on(&caller.name, "governance.rules", "governance:rules".into())
            .before(serde_json::to_value(&before).ok())
            .after(Some(value))
            .insert(&txn)
            .await?;
        txn.commit().await?;
        Ok(rules)
    }

    /// Accepted versions of a domain, newest first.
    pub(crate) async fn accepted_versions<C: ConnectionTrait>(
        db: &C,
        domain_id: i32,
    ) -> Result<Vec<schema_version::Model>, CatalogError> {
        Ok(schema_version::Entity::find()
            .filter(schema_version::Column::DomainId.eq(domain_id))
            .filter(schema_version::Column::Status.eq(VersionStatus::Accepted))
            .order_by_desc(schema_version::Column::Id)
            .all(db)
            .await?)
    }

    /// Compares `sdl` (a candidate version of `d`'s API) with the domain's
    /// accepted versions: changes from the newest, its compatibility mode
    /// against the accepted history, the governance rules on what it
    /// introduces.
    pub async fn assess(&self, d: &domain::Model, sdl: &str) -> Result<Assessment, CatalogError> {
        let accepted = Self::accepted_versions(&self.db, d.id).await?;
        let earlier: Vec<(i32, String)> = accepted
            .iter()
            .filter_map(|v| api_sdl(d, v).map(|s| (v.id, s)))
            .collect();
        let rules = self.governance_rules().await?;
        let mut assessment = assess(compatibility_of(d), &rules, sdl, &earlier);
        self.add_usage(&rules, &mut assessment).await?;
        Ok(assessment)
    }

    /// Who used what each breaking change breaks, within the usage window;
    /// a compatibility violation nobody used is safe by usage, but only
    /// when usage was recorded over the whole window.
    async fn add_usage(
        &self,
        rules: &Rules,
        assessment: &mut Assessment,
    ) -> Result<(), CatalogError> {
        let window = rules.usage_window_seconds.unwrap_or(DEFAULT_USAGE_WINDOW);
        let since = Utc::now() - chrono::Duration::seconds(window as i64);
        let complete = self
            .usage_recorded_since()
            .await?
            .is_some_and(|first| first <= since);
        let mut affected = Vec::new();
        for change in assessment
            .changes
            .iter()
            .chain(
                assessment
                    .checks
                    .compatibility
                    .iter()
                    .map(|v| &v.violation.change),
            )
            .filter(|c| c.severity == evolution::Severity::Breaking)
        {
            if affected.iter().any(|a: &Affected| a.path == change.path) {
                continue;
            }
            let uses = self.uses_of(&change.path, since).await?;
            affected.push(Affected {
                path: change.path.clone(),
                safe_by_usage: complete && uses.is_empty(),
                uses,
            });
        }
        for v in &mut assessment.checks.compatibility {
            v.safe_by_usage = affected
                .iter()
                .any(|a| a.path == v.violation.change.path && a.safe_by_usage);
        }
        assessment.checks.usage = Some(UsageBasis {
            since: Some(since),
            complete,
            affected,
        });
        Ok(())
    }
}

/// The pure part of [`Catalog::assess`]: `earlier` is (version id, SDL),
/// newest first.
pub fn assess(
    mode: Compatibility,
    rules: &Rules,
    sdl: &str,
    earlier: &[(i32, String)],
) -> Assessment {
    let fail = |e: evolution::EvolutionError| Assessment {
        changes: Vec::new(),
        checks: Checks {
            mode: Some(mode),
            error: Some(e.to_string()),
            ..Default::default()
        },
    };
    let new = match Schema::parse(sdl) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let previous = match earlier.first() {
        Some((_, old)) => match Schema::parse(old) {
            Ok(s) => s,
            Err(e) => return fail(e),
        },
        None => Schema::default(),
    };
    let changes = evolution::diff_schemas(&previous, &new);
    let texts: Vec<&str> = earlier.iter().map(|(_, s)| s.as_str()).collect();
    let compatibility = match evolution::compatibility_violations(mode, sdl, &texts) {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let rules = evolution::evaluate_rules(rules, &changes, &new);
    Assessment {
        changes,
        checks: Checks {
            mode: Some(mode),
            compatibility: compatibility
                .into_iter()
                .map(|violation| VersionViolation {
                    against_version_id: earlier.get(violation.against).map(|e| e.0).unwrap_or(0),
                    violation,
                    safe_by_usage: false,
                })
                .collect(),
            rules,
            error: None,
            usage: None,
        },
    }
}

/// What `meshwork schema check` reports for a candidate document.
#[derive(Clone, Debug)]
pub struct SchemaCheck {
    pub domain: domain::Model,
    /// The candidate's API SDL (derived, for a REST domain), when it has one.
    pub sdl: Option<String>,
    pub assessment: Assessment,
    /// Composition errors with the candidate in place of the served version.
    pub composition_errors: Vec<::composition::CompositionError>,
    /// REST domains: the derivation's choices.
    pub derivation_warnings: Vec<String>,
}

impl SchemaCheck {
    pub fn composes(&self) -> bool {
        self.sdl.is_some() && self.composition_errors.is_empty()
    }

    /// Whether publishing the candidate would be served: it composes and,
    /// under the strict model, passes every check.
    pub fn accepted(&self) -> bool {
        self.composes()
            && (self.domain.model == domain::GovernanceModel::Open
                || !self.assessment.checks.refuses())
    }
}

impl Catalog {
    /// Checks `document` (SDL, or a REST domain's OpenAPI document) as the
    /// next version of domain `name`, without storing anything.
    pub async fn check_schema(
        &self,
        name: &str,
        document: &str,
    ) -> Result<SchemaCheck, CatalogError> {
        let d = self.get_active(name).await?;
        let (sdl, derivation_warnings) = match d.kind {
            domain::ApiKind::Graphql => (Ok(document.to_string()), Vec::new()),
            domain::ApiKind::Rest => {
                match openapi::derive(document, &crate::rest::settings_of(&d)) {
                    Ok(derived) => (Ok(derived.sdl), derived.warnings),
                    Err(e) => (
                        Err(format!("the OpenAPI document does not derive: {e}")),
                        Vec::new(),
                    ),
                }
            }
        };
        let sdl = match sdl {
            Ok(sdl) => sdl,
            Err(error) => {
                return Ok(SchemaCheck {
                    domain: d,
                    sdl: None,
                    assessment: Assessment {
                        changes: Vec::new(),
                        checks: Checks {
                            error: Some(error),
                            ..Default::default()
                        },
                    },
                    composition_errors: Vec::new(),
                    derivation_warnings,
                })
            }
        };
        let assessment = self.assess(&d, &sdl).await?;
        let (_, mut subgraphs, _) = self.served_subgraphs().await?;
        let url = match d.kind {
            domain::ApiKind::Graphql => d.api_url.clone(),
            domain::ApiKind::Rest => self
                .rest_url(&d.name)
                .unwrap_or_else(|| format!("http://meshwork.invalid/rest/{}/graphql", d.name)),
        };
        subgraphs.retain(|s| s.name != d.name);
        subgraphs.push(::composition::Subgraph {
            name: d.name.clone(),
            url,
            sdl: sdl.clone(),
        });
        let composition_errors = match ::composition::compose(&subgraphs) {
            Ok(_) => Vec::new(),
            Err(failed) => failed.0,
        };
        Ok(SchemaCheck {
            domain: d,
            sdl: Some(sdl),
            assessment,
            composition_errors,
            derivation_warnings,
        })
    }
}
