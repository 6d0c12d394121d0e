// Composes each subgraph set named on the command line (a folder of
// NAME.graphql files) with The Guild's federation composition and prints
// one JSON line per set: {set, supergraph} or {set, errors: [...]}.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

for (const dir of process.argv.slice(2)) {
  const set = basename(dir);
  try {
    const services = readdirSync(dir)
      .filter((f) => f.endsWith(".graphql"))
      .sort()
      .map((f) => {
        const name = f.slice(0, -".graphql".length);
        return {
          name,
          url: `http://${name}.local/graphql`,
          typeDefs: parse(readFileSync(join(dir, f), "utf8")),
        };
      });
    const result = composeServices(services);
    if (result.errors && result.errors.length > 0) {
      console.log(JSON.stringify({ set, errors: result.errors.map((e) => e.message) }));
    } else {
      console.log(JSON.stringify({ set, supergraph: result.supergraphSdl }));
    }
  } catch (e) {
    console.log(JSON.stringify({ set, errors: [String(e && e.message ? e.message : e)] }));
  }
}
