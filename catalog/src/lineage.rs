//! Lineage: which domains and external sources feed a domain (upstream),
//! and which domains read from it (downstream), transitively, with a depth
//! limit and safe against cycles in stored history.

use std::collections::{HashMap, HashSet};

use entity::{domain, lineage_input};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::CatalogError;
use crate::Catalog;

/// Deepest lineage walk the API allows.
pub const MAX_DEPTH: u32 = 50;

#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// What the domain reads from.
    Upstream,
    /// What reads from the domain.
    Downstream,
}

/// One "feeds" relation found by a lineage walk.
#[derive(Clone, Debug)]
pub struct LineageEdge {
    /// Steps from the root domain; 1 for direct inputs or readers.
    pub depth: u32,
    pub input: lineage_input::Model,
}

/// The result of a lineage walk.
#[derive(Clone, Debug)]
pub struct Lineage {
    pub root: domain::Model,
    pub direction: Direction,
    /// In walk order: all of depth 1, then depth 2, and so on.
    pub edges: Vec<LineageEdge>,
    /// Every domain an edge touches, by id.
    pub domains: HashMap<i32, domain::Model>,
}

impl Catalog {
    /// Walks lineage from `name` up to `depth` steps (at most [`MAX_DEPTH`]),
    /// one query per step.
    pub async fn lineage(
        &self,
        name: &str,
        direction: Direction,
        depth: u32,
    ) -> Result<Lineage, CatalogError> {
        let root = self
            .get(name)
            .await?
            .ok_or_else(|| CatalogError::DomainNotFound(name.to_string()))?;
        let mut visited = HashSet::from([root.id]);
        let mut frontier = vec![root.id];
        let mut edges = Vec::new();
        for step in 1..=depth.min(MAX_DEPTH) {
            if frontier.is_empty() {
                break;
            }
            let rows = self.edges_touching(&frontier, direction).await?;
            frontier.clear();
            for input in rows {
                let next = match direction {
                    Direction::Upstream => input.upstream_domain_id,
                    Direction::Downstream => Some(input.domain_id),
                };
                if let Some(id) = next {
                    if visited.insert(id) {
                        frontier.push(id);
                    }
                }
                edges.push(LineageEdge { depth: step, input });
            }
        }
        let mut ids: Vec<i32> = edges
            .iter()
            .flat_map(|e| [Some(e.input.domain_id), e.input.upstream_domain_id])
            .flatten()
            .collect();
        ids.push(root.id);
        ids.sort_unstable();
        ids.dedup();
        let domains = self.domains_by_id(&ids).await?;
        Ok(Lineage {
            root,
            direction,
            edges,
            domains,
        })
    }

    async fn edges_touching(
        &self,
        ids: &[i32],
        direction: Direction,
    ) -> Result<Vec<lineage_input::Model>, CatalogError> {
        let column = match direction {
            Direction::Upstream => lineage_input::Column::DomainId,
            Direction::Downstream => lineage_input::Column::UpstreamDomainId,
        };
        Ok(lineage_input::Entity::find()
            .filter(column.is_in(ids.iter().copied()))
            .order_by_asc(lineage_input::Column::DomainId)
            .order_by_asc(lineage_input::Column::Position)
            .all(&self.db)
            .await?)
    }

    /// Every domain downstream of `id`, with the chain of names from `id`
    /// to it; used to refuse inputs that would close a cycle.
    pub(crate) async fn downstream_paths(
        &self,
        id: i32,
    ) -> Result<HashMap<i32, Vec<String>>, CatalogError> {
        let names = |ids: Vec<i32>| async move { self.domains_by_id(&ids).await };
        let mut parent: HashMap<i32, i32> = HashMap::new();
        let mut frontier = vec![id];
        let mut seen = HashSet::from([id]);
        while !frontier.is_empty() {
            let rows = self
                .edges_touching(&frontier, Direction::Downstream)
                .await?;
            frontier.clear();
            for row in rows {
                if seen.insert(row.domain_id) {
                    parent.insert(row.domain_id, row.upstream_domain_id.unwrap_or(id));
                    frontier.push(row.domain_id);
                }
            }
        }
        let by_id = names(seen.iter().copied().collect()).await?;
        let name_of = |i: &i32| {
            by_id
                .get(i)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| format!("#{i}"))
        };
        let mut paths = HashMap::new();
        for &target in parent.keys() {
            let mut chain = vec![name_of(&target)];
            let mut at = target;
            while let Some(&p) = parent.get(&at) {
                chain.push(name_of(&p));
                at = p;
            }
            chain.reverse();
            paths.insert(target, chain);
        }
        Ok(paths)
    }
}
