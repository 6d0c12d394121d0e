// Runs every graphql-http server audit (the GraphQL over HTTP spec) against
// a Meshwork gateway: `node audit.mjs http://127.0.0.1:4000/graphql`.
// Prints one line per audit and a closing "N passed, N failed" line; exits
// non-zero when any MUST audit fails. SHOULD/MAY audits that warn are listed
// but do not fail the run.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:4000/graphql');
  process.exit(2);
}

// Meshwork's CSRF prevention refuses requests a browser could send
// cross-site without a preflight (GET, form or text bodies) unless they carry
// a preflight header, as real clients do; the audit client sends one.
const withPreflightHeader = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('x-meshwork-csrf', '1');
  return fetch(input, { ...init, headers });
};

let passed = 0;
let failed = 0;
let warned = 0;
for (const audit of serverAudits({ url, fetchFn: withPreflightHeader })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    passed += 1;
    console.log(`ok    ${audit.name}`);
  } else if (result.status === 'warn') {
    warned += 1;
    console.log(`warn  ${audit.name}: ${result.reason}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${audit.name}: ${result.reason}`);
    if (result.response) {
      console.log(`      status ${result.response.status}, body ${(await result.response.text()).slice(0, 300)}`);
    }
  }
}
console.log(`graphql-http audit: ${passed + warned} passed, ${failed} failed (${warned} of the passed only warned)`);
process.exit(failed === 0 ? 0 : 1);
