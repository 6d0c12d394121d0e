// The console's whole access story in a real browser (Debian's Chromium,
// driven by playwright-core) against `meshwork demo`:
// find a domain by a field name, open its lineage and schema history,
// create a consumer and key, request access as that consumer, approve as
// the owner team, and see the query succeed in GraphiQL.
// Any JavaScript error, console error or request leaving the demo's origin
// fails the test. Screenshots of every page go to $SCREENSHOTS.
//
// Usage: node console.mjs BASE_URL ADMIN_TOKEN SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';

const [base, adminToken, shots] = process.argv.slice(2);
if (!base || !adminToken || !shots) {
  console.error('usage: node console.mjs BASE_URL ADMIN_TOKEN SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const origin = new URL(base).origin;
const problems = [];
let step = 0;

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function api(token, query, variables = {}) {
  const r = await fetch(`${base}/catalog/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors) throw new Error(`catalog: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function hs256(secret, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const message = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${message}.${createHmac('sha256', secret).update(message).digest('base64url')}`;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
const page = await context.newPage();
page.on('pageerror', (e) => problems.push(`JavaScript error on ${page.url()}: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()}`);
});
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
  problems.push(`a page loaded something from outside Meshwork: ${url}`);
  return route.abort();
});

async function shot(name) {
  step += 1;
  const file = `${shots}/${String(step).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot ${file}`);
}

async function signIn(credential) {
  if (await page.getByRole('button', { name: 'Sign out' }).isVisible()) {
    await page.getByRole('button', { name: 'Sign out' }).click();
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('A JWT, an API key').fill(credential);
  await page.locator('.signin-form').getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.signin-form').waitFor({ state: 'detached' });
}

try {
  // 1. Find a domain by a field name.
  console.log('find a domain by a field name');
  await page.goto(`${base}/`);
  await page.getByTestId('domain-results').waitFor();
  check((await page.locator('.card').count()) === 4, 'the home page lists the four demo domains');
  await shot('home');
  await page.getByLabel('Search domains, types and fields').fill('inStock');
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 1);
  check((await page.locator('.card h2').innerText()).includes('inventory'), 'the field inStock finds the inventory domain');
  await shot('search-by-field');
  await page.locator('.card h2 a').click();
  await page.getByRole('heading', { name: /Inventory/ }).waitFor();
  await shot('domain-overview');

  // 2. Its lineage and schema history (and the schema itself).
  console.log('open lineage and schema history');
  await page.getByRole('link', { name: 'lineage' }).click();
  const graph = page.getByTestId('lineage-graph');
  await graph.waitFor();
  const graphText = await graph.textContent();
  check(graphText.includes('warehouse-system') && graphText.includes('orders'), 'the lineage graph shows the upstream source and the downstream domain');
  await shot('domain-lineage');
  await graph.getByText('orders', { exact: true }).click();
  await page.getByRole('heading', { name: /Orders/ }).waitFor();
  await graph.waitFor();
  check((await graph.textContent()).includes('customers'), 'clicking a lineage node opens that domain\'s lineage');
  await page.getByRole('link', { name: 'overview' }).click();
  await page.getByTestId('slos').waitFor();
  check((await page.getByTestId('freshness').innerText()).includes('demo-scheduler/orders.daily_load'), 'the overview says when the data was last written, and by which pipeline');
  check(/fresh[\s\S]*at most 26h old[\s\S]*ok/.test(await page.getByTestId('slos').innerText()), 'the overview shows each SLO with its measured status');
  check((await page.getByTestId('runs').innerText()).includes('demo-scheduler/orders.daily_load'), 'the overview lists the pipeline runs that wrote the product');
  await shot('domain-slos');
  await page.getByRole('link', { name: 'history' }).click();
  await page.getByTestId('schema-history').waitFor();
  check((await page.getByTestId('schema-history').innerText()).includes('Version 1'), 'the schema history lists version 1');
  await shot('domain-history');
  await page.getByRole('link', { name: 'schema' }).click();
  await page.getByTestId('schema-types').waitFor();
  check((await page.getByTestId('schema-types').innerText()).includes('ordersByDate'), 'the schema browser shows the root field');
  await shot('domain-schema');

  // 3. As the platform admin: restrict orders, create a consumer and a key.
  console.log('create a consumer and a key (admin)');
  await signIn(adminToken);
  await page.getByTestId('who').filter({ hasText: 'admin' }).waitFor(); // signed in as admin
  await page.getByRole('link', { name: 'overview' }).click();
  await page.getByLabel('Access').selectOption('RESTRICTED');
  await page.getByRole('button', { name: 'Save access mode' }).click();
  await page.locator('.badge', { hasText: 'restricted' }).first().waitFor();
  await page.getByRole('link', { name: 'Access', exact: true }).click();
  await page.getByRole('button', { name: 'Create consumer' }).waitFor();
  await page.getByLabel('Name', { exact: true }).first().fill('sales-dashboard');
  await page.getByLabel('Owner team').fill('analytics');
  await page.getByLabel('Contact').fill('bi@example.com');
  await page.getByRole('button', { name: 'Create consumer' }).click();
  await page.getByTestId('consumers').getByText('sales-dashboard').waitFor();
  await page.getByLabel('Key name').fill('browser');
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByTestId('new-key').locator('code.secret');
  await shown.waitFor();
  const key = (await shown.innerText()).trim();
  check(key.startsWith('mk_'), 'the new key is shown once');
  await shot('access-new-key');

  // Alerts: a webhook for the platform team (admins only).
  await page.getByRole('link', { name: 'Alerts', exact: true }).click();
  await page.getByRole('button', { name: 'Create webhook' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('ops');
  await page.getByLabel('URL').fill('http://127.0.0.1:9/meshwork-alerts');
  await page.getByLabel('Signing secret').fill('browser-test-webhook-secret-0123');
  await page.getByLabel('composition.failed').check();
  await page.getByRole('button', { name: 'Create webhook' }).click();
  await page.getByTestId('webhooks').getByText('composition.failed').waitFor();
  await shot('alerts');

  // Saved queries: the demo's is listed with its CSV URL, which answers a table.
  await page.getByRole('link', { name: 'Queries', exact: true }).click();
  await page.getByTestId('saved-queries').getByText('orders-by-date').waitFor();
  await page.getByRole('button', { name: 'orders-by-date' }).click();
  const urlText = await page.getByTestId('saved-query').innerText();
  check(urlText.includes('/export/orders-by-date.csv?date=2026-11-24'), 'a saved query shows the one URL a BI tool opens');
  // orders is restricted now: its URL refuses an anonymous caller (JSON, not a table).
  const refusedCsv = await fetch(`${base}/export/orders-by-date.csv?date=2026-11-24`);
  check(refusedCsv.headers.get('content-type').startsWith('application/json') && !!(await refusedCsv.json()).errors, 'the URL of a restricted domain\'s query refuses an anonymous caller');
  await page.getByLabel('Query name').fill('all-products');
  await page.getByLabel('Owner team').fill('platform');
  await page.getByLabel('GraphQL query').fill('{ meshwork { dataProducts { name owner } } }');
  await page.getByLabel('Rows (dotted path, optional)').fill('meshwork.dataProducts');
  await page.getByRole('button', { name: 'Save query' }).click();
  await page.getByTestId('saved-queries').getByText('all-products').waitFor();
  const csv = await (await fetch(`${base}/export/all-products.csv`)).text();
  check(csv.startsWith('name,owner') && csv.trim().split('\n').length === 5, 'a query saved in the console answers a table at its URL');
  await shot('saved-queries');

  // The grant is missing: the gateway refuses the consumer's query.
  const mesh = async (credential) => {
    const r = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': credential },
      body: JSON.stringify({ query: '{ ordersByDate(date: "2026-11-24") { id total } }' }),
    });
    return r.json();
  };
  let refused = false;
  for (let i = 0; i < 100 && !refused; i += 1) {
    const body = await mesh(key);
    refused = !!body.errors && !(body.data?.ordersByDate?.length > 0);
    if (!refused) await new Promise((r) => setTimeout(r, 200));
  }
  check(refused, 'before a grant the restricted domain refuses the consumer');

  // 4. As the consumer: request access.
  console.log('request access as the consumer');
  await signIn(key);
  await page.getByTestId('who').filter({ hasText: 'sales-dashboard' }).waitFor(); // signed in as the consumer
  await page.goto(`${base}/#/domain/orders/consumers`);
  await page.getByLabel('Why').fill('month-end reporting');
  await page.getByLabel('For how many days').fill('30');
  await page.getByRole('button', { name: 'Request access' }).click();
  await page.getByRole('status').getByText(/Request \d+ sent/).waitFor();
  await shot('consumer-request');
  // What breaks if a field of the domain goes: the domain serving it.
  await page.getByLabel('Field (Type.field)').fill('Order.total');
  await page.getByRole('button', { name: 'Show the impact' }).click();
  await page.getByTestId('impact').waitFor();
  check(/Served by orders/.test(await page.getByTestId('impact').innerText()), 'the impact of removing a field names the domain serving it');

  // 5. As the owner team (sales): approve. Its identity provider is
  // registered through the API (the console signs in with its tokens).
  console.log('approve as the owner team');
  const secret = 'browser-test-secret-0123456789abcdef';
  await api(adminToken, `mutation($s: IssuerSpec!) { registerJwtIssuer(spec: $s) { name } }`, {
    s: { name: 'idp', issuer: 'https://idp.example', algorithm: 'HS256', secret, teamsClaim: 'groups' },
  });
  const ownerToken = hs256(secret, { iss: 'https://idp.example', sub: 'olivia', groups: ['sales'], exp: Math.floor(Date.now() / 1000) + 3600 });
  let signedIn = false;
  for (let i = 0; i < 50 && !signedIn; i += 1) {
    try {
      await api(ownerToken, '{ me { name } }');
      signedIn = true;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  check(signedIn, 'the new issuer\'s token is accepted by the catalog');
  await signIn(ownerToken);
  await page.getByTestId('who').filter({ hasText: 'olivia' }).waitFor(); // signed in as the owner
  await page.getByRole('link', { name: 'Access', exact: true }).click();
  const requests = page.getByTestId('requests');
  await requests.waitFor();
  check((await page.getByRole('button', { name: 'Create consumer' }).count()) === 0, 'an owner who is not admin is not offered admin actions');
  await requests.getByPlaceholder('note (optional)').fill('ok for month-end');
  await requests.getByRole('button', { name: 'Approve' }).click();
  await requests.getByText('approved').waitFor();
  await shot('owner-approved');

  // 6. As the consumer in GraphiQL: the query succeeds.
  console.log('the query succeeds in GraphiQL');
  await signIn(key);
  await page.goto(`${base}/#/domain/orders`);
  await page.getByRole('link', { name: 'Query in GraphiQL' }).click();
  await page.locator('.graphiql-container').waitFor();
  check((await page.locator('.graphiql-query-editor').innerText()).includes('ordersByDate'), 'GraphiQL opens pre-filled with the domain\'s root fields');
  const query = '{ ordersByDate(date: "2026-11-24") { id total } }';
  let answered = '';
  for (let i = 0; i < 40 && !answered.includes('"o2"'); i += 1) {
    await page.goto('about:blank'); // a new document, not a fragment change
    await page.goto(`${base}/graphql#${new URLSearchParams({ query })}`);
    await page.locator('.graphiql-container').waitFor();
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window').getByText('ordersByDate').waitFor({ timeout: 10000 });
    answered = await page.locator('.result-window').innerText();
    if (!answered.includes('"o2"')) await new Promise((r) => setTimeout(r, 500));
  }
  check(answered.includes('"o2"') && !answered.includes('"errors"'), `the granted consumer's query answers in GraphiQL, got: ${answered.slice(0, 300)}`);
  await shot('graphiql-success');

  // 7. The other pages, and the home page on a phone.
  await page.goto(`${base}/#/audit?action=access`);
  await page.getByTestId('audit').waitFor();
  check((await page.getByTestId('audit').innerText()).includes('access.approve'), 'the audit log shows the approval');
  await shot('audit');
  await page.goto(`${base}/#/composition`);
  await page.getByTestId('served-version').waitFor();
  await shot('composition');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/#/`);
  await page.getByTestId('domain-results').waitFor();
  await shot('home-phone');
  // Keyboard: the first Tab reaches "Skip to content", Enter moves to the
  // content, and the next Tab reaches the search box.
  await page.reload();
  await page.getByTestId('domain-results').waitFor();
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.classList.contains('skip')), 'the first Tab focuses "Skip to content"');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement?.id === 'search'), 'after skipping, the next Tab reaches the search box');
} catch (e) {
  problems.push(e.message);
  await shot('failure').catch(() => {});
} finally {
  await browser.close();
}

if (problems.length) {
  console.error(`console browser test FAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`console browser test passed (${step} screenshots in ${shots})`);
