//! Scope names with a meaning to Meshwork itself.
//!
//! A consumer's grant on a domain becomes the scope `grant:<domain>` (or
//! `grant:<domain>:<Type.field>` for a grant on some fields); composition
//! requires one of them (or [`ADMIN`]) on every field only restricted
//! domains serve. Tokens may carry [`ADMIN`] to administer the mesh.

/// Platform administration: changes access records, reads everything.
pub const ADMIN: &str = "mesh:admin";

/// The scope of a grant on a whole domain.
pub fn domain(domain: &str) -> String {
    format!("grant:{domain}")
}

/// The scope of a grant on one field (`Type.field`) of a domain.
pub fn field(domain: &str, coordinate: &str) -> String {
    format!("grant:{domain}:{coordinate}")
}
