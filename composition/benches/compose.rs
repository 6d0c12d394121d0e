//! Composition of a mesh of N domains (domain i owns entity `E<i>` and
//! extends `E<i-1>` and `E<i-2>`; the shape `bench/composition-reference.mjs`
//! times for The Guild's composition), access rules included.
//! `cargo bench -p composition --bench compose`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn domains(n: usize) -> Vec<composition::Subgraph> {
    (0..n)
        .map(|i| {
            let extends: String = [i.checked_sub(1), i.checked_sub(2)]
                .into_iter()
                .flatten()
                .map(|j| format!("type E{j} @key(fields: \"id\") {{ id: ID! from{i}: String }}\n"))
                .collect();
            composition::Subgraph {
                name: format!("d{i}"),
                url: format!("http://d{i}/graphql"),
                sdl: format!(
                    "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])\n\
                     type Query {{ e{i}(id: ID!): E{i} list{i}(first: Int = 10): [E{i}!]! }}\n\
                     type E{i} @key(fields: \"id\") {{ id: ID! name: String! price: Float tags: [String!]! kind: Kind{i} }}\n\
                     enum Kind{i} {{ A B C }}\n{extends}"
                ),
            }
        })
        .collect()
}

fn compose(c: &mut Criterion) {
    let mut group = c.benchmark_group("compose");
    group.sample_size(10);
    for n in [50, 200] {
        let input = domains(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, input| {
            b.iter(|| {
                let supergraph = composition::compose(input).unwrap_or_else(|e| panic!("{e}"));
                composition::apply_access(&supergraph.sdl, &composition::AccessRules::default())
                    .unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, compose);
criterion_main!(benches);
