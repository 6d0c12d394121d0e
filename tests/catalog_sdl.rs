//! The CLI's typed client is generated (at compile time, by
//! `graphql_client`) from `src/graphql/catalog.graphql`, a copy of the
//! discovery API's SDL. This test keeps the copy true: when the catalog's
//! schema changes it rewrites the file and fails once (in the manner of
//! rust-analyzer's generated-file checks), so the change is committed and
//! the client is checked against the schema the server really has.

use std::path::PathBuf;

#[test]
fn the_cli_client_is_generated_from_the_catalogs_current_sdl() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/graphql/catalog.graphql");
    let header = "# Generated from the catalog's discovery API (`catalog::api::sdl()`);\n\
                  # tests/catalog_sdl.rs keeps it true. Do not edit by hand.\n\n";
    let wanted = format!("{header}{}", catalog::api::sdl());
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != wanted {
        std::fs::write(&path, &wanted).expect("writing src/graphql/catalog.graphql");
        panic!(
            "src/graphql/catalog.graphql was not the catalog's current SDL; it is rewritten now: \
             rebuild (the CLI's client is generated from it), run the tests again and commit it"
        );
    }
}
