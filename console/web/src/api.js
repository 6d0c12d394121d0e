// The console talks to the catalog's discovery API only, with the
// credential the user signed in with; the server checks every call.

const KEY = 'meshwork.credential';

export function credential() {
  return sessionStorage.getItem(KEY) || '';
}

export function setCredential(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

// API keys are sent as `ApiKey mk_…`; tokens (JWTs, the admin token) as
// `Bearer …`, the way the catalog and the gateway read them.
export function authorization(value) {
  const v = (value || '').trim();
  if (!v) return null;
  return v.startsWith('mk_') ? `ApiKey ${v}` : `Bearer ${v}`;
}

export class ApiError extends Error {
  constructor(message, errors) {
    super(message);
    this.errors = errors || [];
  }
}

export async function gql(query, variables = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const auth = authorization(credential());
  if (auth) headers.authorization = auth;
  let response;
  try {
    response = await fetch('/catalog/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(`cannot reach Meshwork: ${e.message}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the catalog answered HTTP ${response.status} without a GraphQL response`);
  }
  if (body.errors && body.errors.length) {
    throw new ApiError(body.errors.map((e) => e.message).join('; '), body.errors);
  }
  return body.data;
}

// Every domain (100 per page, the API's largest), with `fields`.
export async function allDomains(fields) {
  const nodes = [];
  let after = null;
  for (let i = 0; i < 100; i += 1) {
    const data = await gql(`query($after: String) { domains(first: 100, after: $after) { nodes { ${fields} } pageInfo { hasNextPage endCursor } } }`, { after });
    nodes.push(...data.domains.nodes);
    if (!data.domains.pageInfo.hasNextPage) break;
    after = data.domains.pageInfo.endCursor;
  }
  return nodes;
}
