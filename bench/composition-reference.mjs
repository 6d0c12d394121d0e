// Times The Guild's federation composition (the test oracle's package) on
// N generated domains: domain i owns entity E<i> and extends E<i-1> and
// E<i-2>. Why Meshwork does not embed a JavaScript composition: this is
// V8 with its JIT; an embeddable interpreter (QuickJS, Boa) runs such code
// tens of times slower.
// Usage: (cd tests/composition-oracle && npm ci) && node bench/composition-reference.mjs 50 200
import { createRequire } from "node:module";
const require = createRequire(new URL("../tests/composition-oracle/", import.meta.url));
const { composeServices } = require("@theguild/federation-composition");
const { parse } = require("graphql");

function domains(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const ext = [i - 1, i - 2]
      .filter((j) => j >= 0)
      .map((j) => `type E${j} @key(fields: "id") { id: ID! from${i}: String }`)
      .join("\n");
    out.push({
      name: `d${i}`,
      url: `http://d${i}/graphql`,
      typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { e${i}(id: ID!): E${i} list${i}(first: Int = 10): [E${i}!]! }
type E${i} @key(fields: "id") { id: ID! name: String! price: Float tags: [String!]! kind: Kind${i} }
enum Kind${i} { A B C }
${ext}`),
    });
  }
  return out;
}

for (const n of process.argv.slice(2).map(Number)) {
  const services = domains(n);
  const times = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const result = composeServices(services);
    times.push(performance.now() - started);
    if (result.errors && result.errors.length) throw new Error(result.errors[0].message);
  }
  console.log(`${n} domains: ${times.map((t) => t.toFixed(0)).join(" ms, ")} ms`);
}
