// Meshwork's console: one page over the catalog's discovery API, routed by
// the URL's fragment (#/domain/orders), so the server serves one file.
import { h, render } from 'preact';
import { useEffect, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import { gql, credential, setCredential, allDomains } from './api.js';
import { schemaTypes, rootQuery } from './schema.js';

const html = htm.bind(h);

// ---------------------------------------------------------------- routing

function currentRoute() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

const link = (...parts) => `#/${parts.map(encodeURIComponent).join('/')}`;

// GraphiQL (the bundled one at /graphql or /catalog/graphql) opened with a
// query; the fragment never reaches the server.
export function graphiql(endpoint, query, variables) {
  const p = new URLSearchParams();
  if (query) p.set('query', query);
  if (variables) p.set('variables', variables);
  return `${endpoint}#${p.toString()}`;
}

// ---------------------------------------------------------------- data hooks

function useQuery(query, variables, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    (typeof query === 'function' ? query() : gql(query, variables))
      .then((data) => live && setState({ loading: false, data, error: null }))
      .catch((error) => live && setState({ loading: false, data: null, error }));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

// ---------------------------------------------------------------- small parts

const fmt = (t) => (t ? new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '');

function Loading({ state, children }) {
  if (state.error) return html`<p class="error" role="alert">${state.error.message}</p>`;
  if (state.loading && !state.data) return html`<p class="muted" aria-busy="true">Loading…</p>`;
  return children(state.data);
}

function ago(seconds) {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

function Badge({ tone, children }) {
  return html`<span class=${`badge ${tone || ''}`}>${children}</span>`;
}

function healthOf(d) {
  if (d.status === 'DEREGISTERED') return { tone: 'muted', text: 'deregistered' };
  if (!d.health) return { tone: 'muted', text: 'not pulled yet' };
  if (d.health.consecutiveFailures > 0) return { tone: 'bad', text: `failing (${d.health.consecutiveFailures})` };
  if (d.schemaDrift) return { tone: 'warn', text: 'drift' };
  return { tone: 'good', text: 'healthy' };
}

// A form whose submit runs `action`, shows its error, and disables itself
// while it runs.
function ActionForm({ action, label, children, class: cls, confirm: question }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setError(null);
    try {
      await action(new FormData(e.target), e.target);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class=${cls || 'form'} onSubmit=${submit}>
    ${children}
    <button type="submit" disabled=${busy}>${label}</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

function Field({ label, name, value, type, required, placeholder, options, hint }) {
  // Stable across renders, so a re-render never swaps the input's label.
  const [id] = useState(() => `f-${name}-${Math.random().toString(36).slice(2, 7)}`);
  const input = options
    ? html`<select id=${id} name=${name} required=${required}>${options.map((o) => html`<option value=${o.value ?? o} selected=${(o.value ?? o) === value}>${o.label ?? o}</option>`)}</select>`
    : // Uncontrolled: a re-render (data arriving) never clears what was typed.
      html`<input id=${id} name=${name} type=${type || 'text'} defaultValue=${value || ''} required=${required} placeholder=${placeholder || ''} />`;
  return html`<label for=${id} class="field"><span>${label}</span>${input}${hint && html`<small class="muted">${hint}</small>`}</label>`;
}

// ---------------------------------------------------------------- sign-in

const ME = `{ me { name admin teams consumer } }`;

function SignIn({ me, onChange }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const value = new FormData(e.target).get('credential').trim();
    const previous = credential();
    setCredential(value);
    try {
      await gql(ME);
      setOpen(false);
      setError(null);
      onChange();
    } catch (err) {
      setCredential(previous);
      setError(err.message);
    }
  };
  const signOut = () => {
    setCredential('');
    onChange();
  };
  const who = me ? (me.admin ? `${me.name} (admin)` : me.name) : '…';
  return html`<div class="signin">
    <span class="who" data-testid="who">${credential() ? who : 'not signed in'}</span>
    ${credential()
      ? html`<button class="link" onClick=${signOut}>Sign out</button>`
      : html`<button class="link" onClick=${() => setOpen(!open)} aria-expanded=${open}>Sign in</button>`}
    ${open &&
    html`<form class="signin-form" onSubmit=${submit}>
      <label for="credential">A JWT, an API key (mk_…) or the admin token; kept in this tab only</label>
      <input id="credential" name="credential" type="password" autocomplete="off" required autofocus />
      <button type="submit">Sign in</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>`}
  </div>`;
}

// ---------------------------------------------------------------- home: search

const DOMAIN_ROW = `name displayName description ownerTeam tags model kind access status schemaDrift
  health { consecutiveFailures lastError lastSuccessAt }`;

function Home({ params }) {
  const [text, setText] = useState(params.get('q') || '');
  const [facets, setFacets] = useState({ ownerTeam: params.get('team'), tag: params.get('tag'), model: params.get('model'), kind: params.get('kind') });
  const filter = { text: text.trim() || null, ownerTeam: facets.ownerTeam || null, tag: facets.tag || null, model: facets.model || null, kind: facets.kind || null };
  const [pages, setPages] = useState(1);
  useEffect(() => setPages(1), [JSON.stringify(filter)]);
  const found = useQuery(
    async () => {
      const q = `query($filter: DomainFilter!, $after: String) { domains(filter: $filter, first: 50, after: $after) { totalCount nodes { ${DOMAIN_ROW} } pageInfo { hasNextPage endCursor } } composition { members { domain } } }`;
      let after = null;
      let result = null;
      for (let i = 0; i < pages; i += 1) {
        const data = await gql(q, { filter, after });
        if (result) result.domains.nodes.push(...data.domains.nodes);
        else result = data;
        result.domains.pageInfo = data.domains.pageInfo;
        if (!data.domains.pageInfo.hasNextPage) break;
        after = data.domains.pageInfo.endCursor;
      }
      return result;
    },
    {},
    [JSON.stringify(filter), pages],
  );
  const all = useQuery(() => allDomains('ownerTeam tags model kind'), {}, []);
  const facetValues = (key) => {
    const values = new Set();
    for (const d of all.data || []) for (const v of key === 'tag' ? d.tags : [d[key]]) values.add(v);
    return [...values].sort();
  };
  const toggle = (key, value) => setFacets({ ...facets, [key]: facets[key] === value ? null : value });
  return html`<section>
    <h1>Domains</h1>
    <form role="search" onSubmit=${(e) => e.preventDefault()}>
      <label for="search" class="sr-only">Search domains, types and fields</label>
      <input id="search" type="search" class="search" placeholder="Search names, descriptions, types and fields…" value=${text} onInput=${(e) => setText(e.target.value)} />
    </form>
    <div class="layout">
      <aside class="facets" aria-label="Filters">
        ${[['ownerTeam', 'Owner team'], ['tag', 'Tag'], ['model', 'Governance'], ['kind', 'API kind']].map(
          ([key, label]) => html`<fieldset>
            <legend>${label}</legend>
            ${facetValues(key).map((v) => html`<button type="button" class=${`facet ${facets[key] === v ? 'on' : ''}`} aria-pressed=${facets[key] === v} onClick=${() => toggle(key, v)}>${v.toLowerCase ? (key === 'model' || key === 'kind' ? v.toLowerCase() : v) : v}</button>`)}
          </fieldset>`,
        )}
      </aside>
      <div class="results">
        <${Loading} state=${found}>${(data) => {
          const members = new Set((data.composition?.members || []).map((m) => m.domain));
          if (!data.domains.nodes.length) return html`<p class="muted">No domain matches.</p>`;
          return html`<p class="muted">${data.domains.totalCount} domain${data.domains.totalCount === 1 ? '' : 's'}</p>
            <ul class="cards" data-testid="domain-results">
              ${data.domains.nodes.map((d) => {
                const health = healthOf(d);
                return html`<li class="card">
                  <h2><a href=${link('domain', d.name)}>${d.displayName || d.name}</a> <small class="muted">${d.name}</small></h2>
                  <p>${d.description}</p>
                  <p class="meta">
                    <span>owner <strong>${d.ownerTeam}</strong></span>
                    <${Badge}>${d.kind.toLowerCase()}<//>
                    <${Badge}>${d.model.toLowerCase()}<//>
                    ${d.access === 'RESTRICTED' && html`<${Badge} tone="warn">restricted<//>`}
                    <${Badge} tone=${health.tone}>${health.text}<//>
                    ${members.has(d.name) ? html`<${Badge} tone="good">in the mesh<//>` : html`<${Badge} tone="muted">not composed<//>`}
                    ${d.tags.map((t) => html`<span class="tag">#${t}</span>`)}
                  </p>
                </li>`;
              })}
            </ul>
            ${data.domains.pageInfo.hasNextPage && html`<button onClick=${() => setPages(pages + 1)}>Show more</button>`}`;
        }}<//>
      </div>
    </div>
  </section>`;
}

// ---------------------------------------------------------------- domain page

const DOMAIN = `query($name: String!) {
  domain(name: $name) {
    name displayName description ownerTeam contact model kind access status apiUrl schemaEndpoint
    compatibility plan tags createdAt updatedAt schemaDrift pollIntervalSeconds
    processingSteps { name description tool }
    qualityIndicators { name description unit target }
    slos { name description kind target window maxAge indicator }
    sloStatus { name status value detail }
    freshness { lastProducedAt ageSeconds lastRun { runId jobNamespace jobName state } }
    quality(first: 20) { indicator value passed source measuredAt }
    runs(first: 5) { runId jobNamespace jobName state startedAt endedAt errorMessage outputs { name } }
    inputs { kind name description }
    health { lastAttemptAt lastSuccessAt lastError consecutiveFailures }
    compositionProblems { code message line }
    latestSchemaVersion { id version document derivedSdl fetchedAt }
    schemaHistory { id version status fetchedAt hash reviewedBy reviewedAt checkError
      changes { severity kind path message }
      ruleViolations { rule level path message } }
    contractCheck { sampled violations lastViolation lastViolationAt }
  }
  up: lineage(name: $name, direction: UPSTREAM) { edges { depth description upstream { kind name } downstream { kind name } } }
  down: lineage(name: $name, direction: DOWNSTREAM) { edges { depth description upstream { kind name } downstream { kind name } } }
  composition { members { domain } }
}`;

const GRANTS = `{ grants { id consumer domain fields expiresAt revokedAt active grantedBy createdAt } }`;

const TABS = ['overview', 'schema', 'history', 'lineage', 'consumers'];

function DomainPage({ name, tab, me }) {
  const state = useQuery(DOMAIN, { name }, [name]);
  tab = TABS.includes(tab) ? tab : 'overview';
  return html`<${Loading} state=${state}>${(data) => {
    const d = data.domain;
    if (!d) return html`<p class="error" role="alert">No domain is named ${name}.</p>`;
    const sdl = d.kind === 'REST' ? d.latestSchemaVersion?.derivedSdl : d.latestSchemaVersion?.document;
    const parsed = schemaTypes(sdl || '');
    const health = healthOf(d);
    const owner = me && (me.admin || me.teams.includes(d.ownerTeam));
    const query = rootQuery(d.name, parsed.types);
    const variables = JSON.stringify(Object.fromEntries([...query.matchAll(/\$(\w+): \w/g)].map((m) => [m[1], ''])), null, 2);
    return html`<article>
      <p class="crumbs"><a href="#/">Domains</a> ›</p>
      <h1>${d.displayName || d.name} <small class="muted">${d.name}</small></h1>
      <p>${d.description}</p>
      <p class="meta">
        <${Badge}>${d.kind.toLowerCase()}<//> <${Badge}>${d.model.toLowerCase()} governance<//>
        <${Badge} tone=${d.access === 'RESTRICTED' ? 'warn' : ''}>${d.access.toLowerCase()}<//>
        <${Badge} tone=${health.tone}>${health.text}<//>
        <a class="button" href=${graphiql('/graphql', query, variables)}>Query in GraphiQL</a>
      </p>
      <nav class="tabs" aria-label="Domain sections">
        ${TABS.map((t) => html`<a href=${link('domain', d.name, t)} aria-current=${t === tab ? 'page' : undefined}>${t}</a>`)}
      </nav>
      ${tab === 'overview' && html`<${Overview} d=${d} data=${data} owner=${owner} reload=${state.reload} />`}
      ${tab === 'schema' && html`<${SchemaBrowser} parsed=${parsed} version=${d.latestSchemaVersion} />`}
      ${tab === 'history' && html`<${History} d=${d} canReview=${me?.admin} reload=${state.reload} />`}
      ${tab === 'lineage' && html`<${Lineage} name=${d.name} up=${data.up.edges} down=${data.down.edges} />`}
      ${tab === 'consumers' && html`<${DomainConsumers} d=${d} me=${me} />`}
    </article>`;
  }}<//>`;
}

function Overview({ d, data, owner, reload }) {
  const member = (data.composition?.members || []).some((m) => m.domain === d.name);
  return html`<div class="grid">
    <section class="panel">
      <h2>Owner</h2>
      <dl>
        <dt>Team</dt><dd>${d.ownerTeam}</dd>
        <dt>Contact</dt><dd><a href=${`mailto:${d.contact}`}>${d.contact}</a></dd>
        <dt>API</dt><dd><code>${d.apiUrl}</code></dd>
        <dt>Schema endpoint</dt><dd><code>${d.schemaEndpoint || d.apiUrl}</code></dd>
        <dt>Compatibility</dt><dd>${d.compatibility.toLowerCase()}</dd>
        <dt>Plan</dt><dd>${d.plan || 'mesh default'}</dd>
        <dt>Tags</dt><dd>${d.tags.map((t) => html`<span class="tag">#${t}</span> `)}</dd>
        <dt>In the mesh</dt><dd>${member ? 'yes' : 'no'}</dd>
      </dl>
      ${owner && html`<${ActionForm} label="Save access mode" action=${async (f) => {
        await gql(`mutation($name: String!, $access: DomainAccess!) { updateDomain(name: $name, patch: {access: $access}) { access } }`, { name: d.name, access: f.get('access') });
        reload();
      }}>
        <${Field} label="Access" name="access" value=${d.access} options=${[{ value: 'OPEN', label: 'open: every caller' }, { value: 'RESTRICTED', label: 'restricted: consumers with a grant' }]} />
      <//>`}
    </section>
    <section class="panel">
      <h2>Health of the schema endpoint</h2>
      ${d.health
        ? html`<dl>
            <dt>Last attempt</dt><dd>${fmt(d.health.lastAttemptAt)}</dd>
            <dt>Last success</dt><dd>${fmt(d.health.lastSuccessAt) || 'never'}</dd>
            <dt>Consecutive failures</dt><dd>${d.health.consecutiveFailures}</dd>
            ${d.health.lastError && html`<dt>Last error</dt><dd class="error">${d.health.lastError}</dd>`}
            ${d.schemaDrift && html`<dt>Drift</dt><dd class="warn">${d.schemaDrift}</dd>`}
          </dl>`
        : html`<p class="muted">Not pulled yet.</p>`}
      ${d.compositionProblems?.length > 0 && html`<div role="alert" data-testid="composition-problems"><h3>The latest composition fails here</h3><ul class="problems">${d.compositionProblems.map((p) => html`<li><code>${p.code || ''}</code>${p.line ? ` line ${p.line}:` : ''} ${p.message}</li>`)}</ul><p class="muted">The last good graph keeps serving until this is fixed (see Composition).</p></div>`}
      ${owner && html`<${ActionForm} label="Pull the schema now" action=${async () => {
        const r = await gql(`mutation($name: String!) { refreshDomain(name: $name) { status reason } }`, { name: d.name });
        if (r.refreshDomain.status === 'FAILED') throw new Error(r.refreshDomain.reason);
        reload();
      }} />`}
      ${owner && html`<${ActionForm} label="Drop cached answers" confirm=${`Every gateway drops the cached answers of ${d.name} and asks it again. Go on?`} action=${async () => {
        await gql(`mutation($name: String!) { purgeDomainCache(domain: $name) }`, { name: d.name });
      }} />`}
      ${d.contractCheck && html`<h3>Contract check</h3><p>${d.contractCheck.sampled} answers sampled, ${d.contractCheck.violations} broke the schema${d.contractCheck.lastViolation ? `: ${d.contractCheck.lastViolation}` : ''}</p>`}
    </section>
    <section class="panel">
      <h2>SLOs</h2>
      <p data-testid="freshness">${d.freshness.lastProducedAt ? html`Data written ${ago(d.freshness.ageSeconds)} ago by <code>${d.freshness.lastRun.jobNamespace}/${d.freshness.lastRun.jobName}</code> (${fmt(d.freshness.lastProducedAt)}).` : html`<span class="muted">No pipeline run reported yet (OpenLineage: POST /api/v1/lineage).</span>`}</p>
      ${d.slos.length ? html`<table data-testid="slos"><thead><tr><th>name</th><th>objective</th><th>status</th></tr></thead><tbody>${d.slos.map((s) => {
        const st = d.sloStatus.find((x) => x.name === s.name) || { status: 'UNKNOWN', detail: '' };
        const objective = s.kind === 'FRESHNESS' ? `at most ${s.maxAge} old` : s.kind === 'QUALITY' ? `${s.indicator} at least ${s.target}` : s.kind === 'ERROR_RATE' ? `errors at most ${s.target}% over ${s.window}` : `${s.target}% over ${s.window}`;
        const tone = { OK: 'good', AT_RISK: 'warn', BREACHED: 'bad' }[st.status] || 'muted';
        return html`<tr><td>${s.name}<br /><small class="muted">${s.description}</small></td><td>${objective}</td><td><${Badge} tone=${tone}>${st.status.toLowerCase().replace('_', ' ')}<//><br /><small class="muted">${st.detail}</small></td></tr>`;
      })}</tbody></table>` : html`<p class="muted">None declared.</p>`}
      <h2>Quality indicators</h2>
      ${d.qualityIndicators.length ? html`<table><thead><tr><th>name</th><th>target</th><th>latest</th></tr></thead><tbody>${d.qualityIndicators.map((q) => {
        const m = d.quality.find((x) => x.indicator === q.name);
        return html`<tr><td>${q.name}<br /><small class="muted">${q.description}</small></td><td>${q.target ?? ''} ${q.unit || ''}</td><td>${m ? html`${m.value ?? (m.passed ? 'passed' : 'failed')} <small class="muted">${fmt(m.measuredAt)} (${m.source})</small>` : html`<span class="muted">not measured</span>`}</td></tr>`;
      })}</tbody></table>` : html`<p class="muted">None declared.</p>`}
      ${d.runs?.length > 0 && html`<h2>Pipeline runs</h2><table data-testid="runs"><thead><tr><th>job</th><th>state</th><th>ended</th><th>wrote</th></tr></thead><tbody>${d.runs.map((r) => html`<tr><td><code>${r.jobNamespace}/${r.jobName}</code></td><td><${Badge} tone=${r.state === 'COMPLETE' ? 'good' : r.state === 'FAIL' || r.state === 'ABORT' ? 'bad' : 'warn'}>${r.state.toLowerCase()}<//>${r.errorMessage ? html`<br /><small class="error">${r.errorMessage}</small>` : ''}</td><td>${fmt(r.endedAt || r.startedAt)}</td><td>${r.outputs.map((o) => o.name).join(', ')}</td></tr>`)}</tbody></table>`}
    </section>
    <section class="panel">
      <h2>Inputs</h2>
      <ul>${d.inputs.map((i) => html`<li>${i.kind === 'DOMAIN' ? html`<a href=${link('domain', i.name)}>${i.name}</a>` : i.name} <small class="muted">${i.kind.toLowerCase()} · ${i.description}</small></li>`)}</ul>
      ${d.processingSteps.length > 0 && html`<h2>Processing steps</h2><ol>${d.processingSteps.map((s) => html`<li>${s.name}${s.tool ? ` (${s.tool})` : ''}: ${s.description}</li>`)}</ol>`}
    </section>
  </div>`;
}

function SchemaBrowser({ parsed, version }) {
  const [filter, setFilter] = useState('');
  if (!version) return html`<p class="muted">No schema pulled yet.</p>`;
  if (parsed.error) return html`<p class="error">The stored schema does not parse: ${parsed.error}</p>`;
  const f = filter.trim().toLowerCase();
  const types = parsed.types.filter((t) => !f || t.name.toLowerCase().includes(f) || t.fields.some((x) => x.name.toLowerCase().includes(f)));
  return html`<section>
    <p class="muted">Version ${version.version ?? version.id}, pulled ${fmt(version.fetchedAt)}.</p>
    <label for="type-filter" class="sr-only">Filter types and fields</label>
    <input id="type-filter" type="search" placeholder="Filter types and fields…" value=${filter} onInput=${(e) => setFilter(e.target.value)} />
    <div data-testid="schema-types">
      ${types.map(
        (t) => html`<details class="type" open=${!!f || t.name === 'Query'} id=${`type-${t.name}`}>
          <summary><span class="kind">${t.kind}</span> <strong>${t.name}</strong>${t.keys.length ? html` <small class="muted">key: ${t.keys.join(' | ')}</small>` : ''}</summary>
          ${t.description && html`<p class="muted">${t.description}</p>`}
          <ul class="fields">
            ${t.fields.map((x) => html`<li class=${f && x.name.toLowerCase().includes(f) ? 'hit' : ''}><code>${x.name}${x.signature}${x.type ? html`: <a href=${`#type-${x.named}`} onClick=${(e) => { e.preventDefault(); document.getElementById(`type-${x.named}`)?.setAttribute('open', ''); document.getElementById(`type-${x.named}`)?.scrollIntoView(); }}>${x.type}</a>` : ''}</code>${x.description && html` <small class="muted">${x.description}</small>`}</li>`)}
          </ul>
        </details>`,
      )}
    </div>
  </section>`;
}

const SEVERITY_TONE = { BREAKING: 'bad', DANGEROUS: 'warn', SAFE: 'good' };

function History({ d, canReview, reload }) {
  if (!d.schemaHistory.length) return html`<p class="muted">No version yet.</p>`;
  const review = async (id, approve) => {
    await gql(`mutation($d: String!, $v: Int!) { ${approve ? 'approveSchemaVersion' : 'rejectSchemaVersion'}(domain: $d, versionId: $v) { status } }`, { d: d.name, v: id });
    reload();
  };
  return html`<ol class="history" data-testid="schema-history">
    ${d.schemaHistory.map(
      (v) => html`<li class="panel">
        <h3>Version ${v.version ?? '–'} <${Badge} tone=${v.status === 'ACCEPTED' ? 'good' : v.status === 'PENDING' ? 'warn' : v.status === 'REJECTED' ? 'bad' : 'muted'}>${v.status.toLowerCase()}<//> <small class="muted">${fmt(v.fetchedAt)} · ${v.hash.slice(0, 12)}</small></h3>
        ${v.reviewedBy && html`<p class="muted">reviewed by ${v.reviewedBy} ${fmt(v.reviewedAt)}</p>`}
        ${v.checkError && html`<p class="error">${v.checkError}</p>`}
        ${v.changes.length
          ? html`<ul class="changes">${v.changes.map((c) => html`<li><${Badge} tone=${SEVERITY_TONE[c.severity]}>${c.severity.toLowerCase()}<//> <code>${c.path}</code> ${c.message}</li>`)}</ul>`
          : html`<p class="muted">${v.version === 1 ? 'The first version.' : 'No change to the served schema.'}</p>`}
        ${v.ruleViolations.length > 0 && html`<ul>${v.ruleViolations.map((r) => html`<li><${Badge} tone=${r.level === 'ERROR' ? 'bad' : 'warn'}>${r.rule}<//> <code>${r.path}</code> ${r.message}</li>`)}</ul>`}
        ${canReview && v.status === 'PENDING' && html`<div class="row">
          <${ActionForm} class="inline" label="Approve" action=${() => review(v.id, true)} />
          <${ActionForm} class="inline" label="Reject" action=${() => review(v.id, false)} />
        </div>`}
      </li>`,
    )}
  </ol>`;
}

// Upstream to the left, downstream to the right, one column per step.
function Lineage({ name, up, down }) {
  const columns = new Map([[0, [{ kind: 'DOMAIN', name }]]]);
  const place = (depth, node) => {
    const col = columns.get(depth) || [];
    if (!col.some((n) => n.name === node.name)) col.push(node);
    columns.set(depth, col);
  };
  for (const e of up) place(-e.depth, e.upstream);
  for (const e of down) place(e.depth, e.downstream);
  const depths = [...columns.keys()].sort((a, b) => a - b);
  const W = 180, H = 56, GAP_X = 70, GAP_Y = 20;
  const rows = Math.max(...[...columns.values()].map((c) => c.length));
  const pos = new Map();
  depths.forEach((depth, ci) => {
    const col = columns.get(depth);
    col.forEach((n, ri) => {
      const offset = ((rows - col.length) * (H + GAP_Y)) / 2;
      pos.set(`${depth}:${n.name}`, { x: 10 + ci * (W + GAP_X), y: 10 + offset + ri * (H + GAP_Y), n });
    });
  });
  const edges = [
    ...up.map((e) => [pos.get(`${-e.depth}:${e.upstream.name}`), pos.get(`${-(e.depth - 1)}:${e.downstream.name}`), e]),
    ...down.map((e) => [pos.get(`${e.depth - 1}:${e.upstream.name}`), pos.get(`${e.depth}:${e.downstream.name}`), e]),
  ].filter(([a, b]) => a && b);
  const width = 20 + depths.length * W + (depths.length - 1) * GAP_X;
  const height = 20 + rows * H + (rows - 1) * GAP_Y;
  return html`<section>
    <p class="muted">Declared lineage: where ${name}'s data comes from (left) and who builds on it (right).</p>
    <div class="lineage">
      <svg role="img" aria-label=${`Lineage of ${name}`} width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} data-testid="lineage-graph">
        <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" /></marker></defs>
        ${edges.map(([a, b, e]) => html`<path class="edge" d=${`M ${a.x + W} ${a.y + H / 2} C ${a.x + W + GAP_X / 2} ${a.y + H / 2}, ${b.x - GAP_X / 2} ${b.y + H / 2}, ${b.x} ${b.y + H / 2}`} marker-end="url(#arrow)"><title>${e.description}</title></path>`)}
        ${[...pos.values()].map(({ x, y, n }) => {
          const box = html`<rect x=${x} y=${y} width=${W} height=${H} rx="8" class=${n.name === name ? 'node root' : n.kind === 'EXTERNAL' ? 'node external' : 'node'} /><text x=${x + W / 2} y=${y + H / 2 - 4} text-anchor="middle" class="label">${n.name}</text><text x=${x + W / 2} y=${y + H / 2 + 14} text-anchor="middle" class="sublabel">${n.kind === 'EXTERNAL' ? 'external source' : 'domain'}</text>`;
          return n.kind === 'DOMAIN' && n.name !== name ? html`<a href=${link('domain', n.name, 'lineage')}>${box}</a>` : html`<g>${box}</g>`;
        })}
      </svg>
    </div>
    <h2>Edges</h2>
    <ul>${[...up, ...down].map((e) => html`<li>${e.upstream.name} → ${e.downstream.name} <small class="muted">${e.description}</small></li>`)}</ul>
  </section>`;
}

function DomainConsumers({ d, me }) {
  const grants = useQuery(GRANTS, {}, [me?.name]);
  // Who read the domain's fields (observed lineage: what the gateways
  // reported, 30 days), in one request.
  const usage = useQuery(
    async () => (await gql(`query($n: String!) { domain(name: $n) { readers { coordinate client operation count lastSeen } } }`, { n: d.name })).domain?.readers || [],
    {},
    [d.name],
  );
  return html`<section>
    <h2>Grants</h2>
    ${d.access === 'OPEN' && html`<p class="muted">${d.name} is open: every caller may read it; grants matter once it is restricted.</p>`}
    ${!me?.admin && !me?.consumer && !me?.teams?.length
      ? html`<p class="muted">Sign in to see the grants you may see.</p>`
      : html`<${Loading} state=${grants}>${(data) => html`<${GrantTable} grants=${data.grants.filter((g) => g.domain === d.name)} />`}<//>`}
    <h2>Who reads it</h2>
    <${Loading} state=${usage}>${(uses) => (uses.length
      ? html`<table data-testid="usage"><thead><tr><th>client</th><th>operation</th><th>field</th><th>requests</th><th>last</th></tr></thead><tbody>${uses.map((u) => html`<tr><td>${u.client}</td><td>${u.operation}</td><td><code>${u.coordinate}</code></td><td>${u.count}</td><td>${fmt(u.lastSeen)}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">No recorded use of its fields in the last 30 days.</p>`)}<//>
    <h2>What breaks if a field goes</h2>
    <${Impact} />
    ${me?.consumer || me?.admin || me?.teams?.length ? html`<h2>Request access</h2><${RequestAccess} domains=${[d.name]} me=${me} />` : html`<p class="muted">Sign in as a consumer to request access.</p>`}
  </section>`;
}

// The impact of removing one field: the domains serving it, who read it in
// the last 30 days (observed), and the domains downstream (declared).
function Impact() {
  const [impact, setImpact] = useState(null);
  return html`<${ActionForm} label="Show the impact" action=${async (f) => {
      const data = await gql(`query($c: String!) { impact(coordinate: $c) { coordinate servedBy { name } consumers { client operation count lastSeen } downstream { name } } }`, { c: f.get('coordinate') });
      setImpact(data.impact);
    }}>
      <${Field} label="Field (Type.field)" name="coordinate" required placeholder="Order.total" />
    <//>
    ${impact && html`<div data-testid="impact">
      <p>Served by ${impact.servedBy.length ? impact.servedBy.map((d) => html`<a href=${link('domain', d.name)}>${d.name}</a> `) : html`<span class="muted">no domain (no such field in the served schemas)</span>`}</p>
      ${impact.consumers.length
        ? html`<table><thead><tr><th>client</th><th>operation</th><th>requests</th><th>last</th></tr></thead><tbody>${impact.consumers.map((u) => html`<tr><td>${u.client || html`<span class="muted">unknown</span>`}</td><td>${u.operation}</td><td>${u.count}</td><td>${fmt(u.lastSeen)}</td></tr>`)}</tbody></table>`
        : html`<p class="muted">No one read <code>${impact.coordinate}</code> in the last 30 days.</p>`}
      <p>Downstream domains: ${impact.downstream.length ? impact.downstream.map((d) => html`<a href=${link('domain', d.name)}>${d.name}</a> `) : html`<span class="muted">none declared</span>`}</p>
    </div>`}`;
}

// ---------------------------------------------------------------- composition

function CompositionPage() {
  const state = useQuery(`{ composition { status version hash createdAt servedVersion servedHash readyVersion
    gateways { instance role address servedVersion lastSeenAt live }
    errors { domain message code line locations { domain line } }
    warnings { code coordinate domains message }
    members { domain schemaVersionId hash url builtin } } }`, {}, []);
  return html`<section>
    <h1>Composition</h1>
    <${Loading} state=${state}>${({ composition: c }) => {
      if (!c) return html`<p class="muted">Nothing composed yet: no GraphQL domain has a schema. Register one (see the README, "Run your own mesh").</p>`;
      return html`<div class="grid">
        <section class="panel">
          <h2>Latest attempt: version ${c.version} <${Badge} tone=${c.status === 'SUCCESS' ? 'good' : 'bad'}>${c.status.toLowerCase()}<//></h2>
          <p class="muted">${fmt(c.createdAt)}</p>
          <p>Served (as the gateways report): version <strong data-testid="served-version">${c.servedVersion ?? 'none yet'}</strong>${c.servedHash ? html` <small class="muted">${c.servedHash.slice(0, 12)}</small>` : ''}${c.readyVersion && c.readyVersion !== c.servedVersion ? html` · version ${c.readyVersion} is ready and loads at the gateways' next poll` : ''}</p>
          ${c.gateways.length > 0 && html`<table data-testid="gateways"><thead><tr><th>gateway</th><th>serves</th><th>last heard</th></tr></thead>
            <tbody>${c.gateways.map((g) => html`<tr><td>${g.role} <small class="muted">${g.address || g.instance}</small></td><td>${g.servedVersion ?? '?'}</td><td><${Badge} tone=${g.live ? 'good' : 'muted'}>${g.live ? 'live' : 'silent'}<//> ${fmt(g.lastSeenAt)}</td></tr>`)}</tbody></table>`}
          ${c.errors.length > 0 && html`<h3>Errors</h3><ul class="problems">${c.errors.map((e) => html`<li><strong>${e.domain || 'the mesh'}</strong>${e.line ? `:${e.line}` : ''} <code>${e.code || ''}</code> ${e.message}</li>`)}</ul>`}
        </section>
        <section class="panel">
          <h2>Members</h2>
          <table><thead><tr><th>domain</th><th>version</th><th>subgraph URL</th></tr></thead>
          <tbody>${c.members.map((m) => html`<tr><td>${m.builtin ? m.domain : html`<a href=${link('domain', m.domain)}>${m.domain}</a>`}</td><td>${m.builtin ? html`<span class="muted">built-in: the catalog</span>` : html`${m.schemaVersionId} <small class="muted">${(m.hash || '').slice(0, 8)}</small>`}</td><td><code>${m.url}</code></td></tr>`)}</tbody></table>
        </section>
        ${c.warnings.length > 0 && html`<section class="panel wide"><h2>Hints</h2><ul>${c.warnings.map((w) => html`<li><code>${w.code}</code> <code>${w.coordinate}</code> (${w.domains.join(', ')}): ${w.message}</li>`)}</ul></section>`}
      </div>`;
    }}<//>
    <${AuditTable} filter=${{ action: 'composition' }} title="Past compositions" />
  </section>`;
}

// ---------------------------------------------------------------- access

function GrantTable({ grants, canRevoke, reload }) {
  if (!grants.length) return html`<p class="muted">No grant.</p>`;
  return html`<table data-testid="grants"><thead><tr><th>#</th><th>consumer</th><th>domain</th><th>fields</th><th>expires</th><th>state</th>${canRevoke && html`<th></th>`}</tr></thead>
    <tbody>${grants.map((g) => html`<tr>
      <td>${g.id}</td><td>${g.consumer}</td><td><a href=${link('domain', g.domain)}>${g.domain}</a></td><td>${g.fields.length ? g.fields.join(', ') : 'all'}</td>
      <td>${g.expiresAt ? fmt(g.expiresAt) : 'never'}</td>
      <td>${g.active ? html`<${Badge} tone="good">active<//>` : html`<${Badge} tone="muted">${g.revokedAt ? 'revoked' : 'expired'}<//>`}</td>
      ${canRevoke && html`<td>${g.active && html`<${ActionForm} class="inline" label="Revoke" confirm=${`Revoke grant ${g.id} of ${g.consumer} on ${g.domain}?`} action=${async () => { await gql(`mutation($id: Int!) { revokeGrant(id: $id) { id } }`, { id: g.id }); reload(); }} />`}</td>`}
    </tr>`)}</tbody></table>`;
}

function RequestAccess({ domains, consumers, me, done }) {
  const [sent, setSent] = useState(null);
  const options = consumers ? consumers.map((c) => c.name) : me?.consumer ? [me.consumer] : [];
  return html`<${ActionForm} label="Request access" action=${async (f, form) => {
    const days = f.get('days');
    const r = await gql(`mutation($spec: AccessRequestSpec!) { requestAccess(spec: $spec) { id status } }`, {
      spec: {
        consumer: f.get('consumer'),
        domain: f.get('domain'),
        reason: f.get('reason'),
        durationDays: days ? Number(days) : null,
        fields: (f.get('fields') || '').split(',').map((x) => x.trim()).filter(Boolean),
      },
    });
    setSent(r.requestAccess.id);
    form.reset();
    done && done();
  }}>
    ${options.length ? html`<${Field} label="Consumer" name="consumer" options=${options} required />` : html`<${Field} label="Consumer" name="consumer" required />`}
    ${domains.length === 1 ? html`<input type="hidden" name="domain" value=${domains[0]} />` : html`<${Field} label="Domain" name="domain" options=${domains} required />`}
    <${Field} label="Why" name="reason" required placeholder="e.g. month-end reporting" />
    <${Field} label="Fields (empty: the whole domain)" name="fields" placeholder="Order.total, Order.lines" />
    <${Field} label="For how many days (empty: no end)" name="days" type="number" />
    ${sent && html`<p class="ok" role="status">Request ${sent} sent; the owner team decides.</p>`}
  <//>`;
}

// Approve or deny one request, with a note for the consumer.
function Decide({ r, done }) {
  const decide = (approve) => async (f) => {
    await gql(`mutation($id: Int!, $approve: Boolean!, $note: String!) { decideAccessRequest(id: $id, approve: $approve, note: $note) { status } }`, { id: r.id, approve, note: f.get('note') || '' });
    done();
  };
  return html`<div class="row">
    <${ActionForm} class="inline" label="Approve" action=${decide(true)}><label class="sr-only" for=${`note-a-${r.id}`}>Note</label><input id=${`note-a-${r.id}`} name="note" placeholder="note (optional)" /><//>
    <${ActionForm} class="inline" label="Deny" action=${decide(false)}><label class="sr-only" for=${`note-d-${r.id}`}>Note</label><input id=${`note-d-${r.id}`} name="note" placeholder="why not (optional)" /><//>
  </div>`;
}

function AccessPage({ me }) {
  const state = useQuery(async () => {
    const data = await gql(`{
    consumers { name description ownerTeam contact disabled plan { name } apiKeys { name prefix expiresAt revokedAt createdAt } }
    accessRequests { id consumer domain fields reason durationDays status requestedBy requestedAt decidedBy decidedAt decisionNote }
    grants { id consumer domain fields expiresAt revokedAt active grantedBy createdAt }
    plans { name requestsPerMinute burst dailyQuota maxCost }
  }`);
    data.domains = { nodes: await allDomains('name ownerTeam') };
    return data;
  }, {}, [me?.name]);
  const [newKey, setNewKey] = useState(null);
  if (!me) return html`<p class="muted">Loading…</p>`;
  return html`<section>
    <h1>Access</h1>
    <p class="muted">Signed in as <strong>${me.name}</strong>${me.admin ? ' (platform admin)' : ''}${me.teams.length ? `, teams ${me.teams.join(', ')}` : ''}${me.consumer ? `, consumer ${me.consumer}` : ''}.</p>
    <${Loading} state=${state}>${(data) => {
      const owners = new Map(data.domains.nodes.map((d) => [d.name, d.ownerTeam]));
      const decides = (r) => me.admin || me.teams.includes(owners.get(r.domain));
      return html`
      ${newKey && html`<div class="panel key" role="status" data-testid="new-key">
        <h2>New API key for ${newKey.consumer}</h2>
        <p>Shown once: copy it now. Send it as <code>X-API-Key</code> or <code>Authorization: ApiKey …</code>.</p>
        <p><code class="secret">${newKey.key}</code></p>
        <button onClick=${() => navigator.clipboard?.writeText(newKey.key)}>Copy</button> <button class="link" onClick=${() => setNewKey(null)}>Done</button>
      </div>`}
      <section class="panel">
        <h2>Access requests</h2>
        ${data.accessRequests.length === 0 ? html`<p class="muted">None.</p>` : html`<table data-testid="requests"><thead><tr><th>#</th><th>consumer</th><th>domain</th><th>reason</th><th>days</th><th>status</th><th></th></tr></thead>
          <tbody>${data.accessRequests.map((r) => html`<tr>
            <td>${r.id}</td><td>${r.consumer}</td><td>${r.domain}${r.fields.length ? ` (${r.fields.join(', ')})` : ''}</td><td>${r.reason}<br /><small class="muted">by ${r.requestedBy}, ${fmt(r.requestedAt)}</small></td><td>${r.durationDays ?? '–'}</td>
            <td><${Badge} tone=${r.status === 'APPROVED' ? 'good' : r.status === 'DENIED' ? 'bad' : 'warn'}>${r.status.toLowerCase()}<//>${r.decidedBy ? html`<br /><small class="muted">${r.decidedBy}${r.decisionNote ? `: ${r.decisionNote}` : ''}</small>` : ''}</td>
            <td>${r.status === 'PENDING' && decides(r) && html`<${Decide} r=${r} done=${state.reload} />`}</td>
          </tr>`)}</tbody></table>`}
        ${data.consumers.length > 0 && html`<h3>Ask for access</h3><${RequestAccess} domains=${data.domains.nodes.map((d) => d.name)} consumers=${data.consumers} me=${me} done=${state.reload} />`}
      </section>
      <section class="panel">
        <h2>Consumers</h2>
        ${data.consumers.length === 0 ? html`<p class="muted">${me.admin ? 'None yet.' : 'None visible to you.'}</p>` : html`<ul class="consumers" data-testid="consumers">
          ${data.consumers.map((c) => html`<li>
            <h3>${c.name} ${c.disabled && html`<${Badge} tone="bad">disabled<//>`}</h3>
            <p class="muted">${c.description} · team ${c.ownerTeam} · ${c.contact} · plan ${c.plan?.name || 'default'}</p>
            <table><thead><tr><th>key</th><th>prefix</th><th>created</th><th>expires</th><th></th></tr></thead><tbody>
              ${c.apiKeys.map((k) => html`<tr><td>${k.name}</td><td><code>${k.prefix}</code></td><td>${fmt(k.createdAt)}</td><td>${k.revokedAt ? `revoked ${fmt(k.revokedAt)}` : k.expiresAt ? fmt(k.expiresAt) : 'never'}</td>
                <td>${me.admin && !k.revokedAt && html`<${ActionForm} class="inline" label="Revoke" confirm=${`Revoke key ${k.name} (${k.prefix}) of ${c.name}? Requests with it are refused from now on.`} action=${async () => { await gql(`mutation($p: String!) { revokeApiKey(prefix: $p) { revokedAt } }`, { p: k.prefix }); state.reload(); }} />`}</td></tr>`)}
            </tbody></table>
            ${me.admin && html`<${ActionForm} class="inline" label="Create key" action=${async (f) => {
              const until = f.get('until');
              const r = await gql(`mutation($c: String!, $n: String!, $e: DateTime) { createApiKey(consumer: $c, name: $n, expiresAt: $e) { key } }`, { c: c.name, n: f.get('name'), e: until ? new Date(until).toISOString() : null });
              setNewKey({ consumer: c.name, key: r.createApiKey.key });
              state.reload();
            }}><${Field} label="Key name" name="name" required placeholder="e.g. nightly" /><${Field} label="Expires (empty: never)" name="until" type="date" /><//>`}
          </li>`)}
        </ul>`}
        ${me.admin && html`<h3>New consumer</h3><${ActionForm} label="Create consumer" action=${async (f, form) => {
          await gql(`mutation($spec: ConsumerSpec!) { createConsumer(spec: $spec) { name } }`, {
            spec: { name: f.get('name'), ownerTeam: f.get('team'), contact: f.get('contact'), description: f.get('description') || '', plan: f.get('plan') || null },
          });
          form.reset();
          state.reload();
        }}>
          <${Field} label="Name" name="name" required placeholder="e.g. sales-dashboard" />
          <${Field} label="Owner team" name="team" required />
          <${Field} label="Contact" name="contact" required type="email" />
          <${Field} label="Description" name="description" />
          <${Field} label="Plan" name="plan" options=${[{ value: '', label: 'mesh default' }, ...data.plans.map((p) => p.name)]} />
        <//>`}
      </section>
      <section class="panel">
        <h2>Grants</h2>
        <${GrantTable} grants=${data.grants} canRevoke=${me.admin} reload=${state.reload} />
        ${me.admin && html`<h3>Grant directly</h3><${ActionForm} label="Grant" action=${async (f) => {
          const until = f.get('until');
          await gql(`mutation($spec: GrantSpec!) { grantAccess(spec: $spec) { id } }`, { spec: { consumer: f.get('consumer'), domain: f.get('domain'), expiresAt: until ? new Date(until).toISOString() : null } });
          state.reload();
        }}>
          <${Field} label="Consumer" name="consumer" options=${data.consumers.map((c) => c.name)} required />
          <${Field} label="Domain" name="domain" options=${data.domains.nodes.map((d) => d.name)} required />
          <${Field} label="Expires (empty: never)" name="until" type="date" />
        <//>`}
      </section>
      <section class="panel">
        <h2>Plans</h2>
        ${data.plans.length === 0 ? html`<p class="muted">None: every caller has the gateway's default rate limit.</p>` : html`<table><thead><tr><th>plan</th><th>requests/min</th><th>burst</th><th>daily quota</th><th>max cost</th></tr></thead><tbody>${data.plans.map((p) => html`<tr><td>${p.name}</td><td>${p.requestsPerMinute}</td><td>${p.burst}</td><td>${p.dailyQuota ?? '–'}</td><td>${p.maxCost ?? '–'}</td></tr>`)}</tbody></table>`}
        ${me.admin && html`<h3>New plan</h3><${ActionForm} label="Create plan" action=${async (f, form) => {
          const n = (k) => (f.get(k) ? Number(f.get(k)) : null);
          await gql(`mutation($spec: PlanSpec!) { createPlan(spec: $spec) { name } }`, { spec: { name: f.get('name'), requestsPerMinute: n('rpm'), burst: n('burst'), dailyQuota: n('quota'), maxCost: n('cost') } });
          form.reset();
          state.reload();
        }}>
          <${Field} label="Name" name="name" required />
          <${Field} label="Requests per minute" name="rpm" type="number" required />
          <${Field} label="Burst" name="burst" type="number" required />
          <${Field} label="Daily quota" name="quota" type="number" />
          <${Field} label="Max operation cost" name="cost" type="number" />
        <//>`}
      </section>`;
    }}<//>
  </section>`;
}

// ---------------------------------------------------------------- audit

function AuditTable({ filter, title }) {
  const [after, setAfter] = useState([null]);
  const cursor = after[after.length - 1];
  const state = useQuery(
    `query($filter: AuditFilter!, $after: String) { auditLog(filter: $filter, first: 25, after: $after) { nodes { actor action target at before after } pageInfo { hasNextPage endCursor } } }`,
    { filter, after: cursor },
    [JSON.stringify(filter), cursor],
  );
  return html`<section>
    ${title && html`<h2>${title}</h2>`}
    <${Loading} state=${state}>${({ auditLog }) => html`
      ${auditLog.nodes.length === 0 ? html`<p class="muted">No entry.</p>` : html`<table data-testid="audit"><thead><tr><th>when</th><th>actor</th><th>action</th><th>target</th><th>change</th></tr></thead>
      <tbody>${auditLog.nodes.map((e) => html`<tr><td>${fmt(e.at)}</td><td>${e.actor}</td><td><code>${e.action}</code></td><td>${e.target}</td>
        <td>${(e.before || e.after) && html`<details><summary>details</summary><pre>${JSON.stringify({ before: e.before, after: e.after }, null, 2)}</pre></details>`}</td></tr>`)}</tbody></table>`}
      <div class="row">
        ${after.length > 1 && html`<button onClick=${() => setAfter(after.slice(0, -1))}>Newer</button>`}
        ${auditLog.pageInfo.hasNextPage && html`<button onClick=${() => setAfter([...after, auditLog.pageInfo.endCursor])}>Older</button>`}
      </div>`}<//>
  </section>`;
}

function AuditPage({ params }) {
  const [filter, setFilter] = useState({ actor: params.get('actor') || null, target: params.get('target') || null, action: params.get('action') || null });
  return html`<section>
    <h1>Audit log</h1>
    <form class="form row" onSubmit=${(e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      setFilter({ actor: f.get('actor') || null, target: f.get('target') || null, action: f.get('action') || null });
    }}>
      <${Field} label="Actor" name="actor" value=${filter.actor} />
      <${Field} label="Target" name="target" value=${filter.target} />
      <${Field} label="Action" name="action" value=${filter.action} placeholder="e.g. domain.register" />
      <button type="submit">Filter</button>
    </form>
    <${AuditTable} filter=${filter} />
  </section>`;
}

// ---------------------------------------------------------------- alerts

function AlertsPage({ me }) {
  const state = useQuery(`{ alertEvents alertWebhooks { name url events enabled createdBy createdAt }
    alertDeliveries(first: 50) { id webhook event status attempts lastStatusCode lastError createdAt deliveredAt } }`, {}, [me?.name]);
  if (!me?.admin) return html`<section><h1>Alerts</h1><p class="muted">Alert webhooks are managed by platform admins; sign in as one.</p></section>`;
  return html`<section>
    <h1>Alerts</h1>
    <${Loading} state=${state}>${(data) => html`
      <section class="panel">
        <h2>Webhooks</h2>
        ${data.alertWebhooks.length === 0 ? html`<p class="muted">None: nobody is told when a domain fails or a composition breaks.</p>` : html`<table data-testid="webhooks"><thead><tr><th>name</th><th>URL</th><th>events</th><th>created</th><th></th></tr></thead>
          <tbody>${data.alertWebhooks.map((w) => html`<tr><td>${w.name}</td><td><code>${w.url}</code></td><td>${w.events.length ? w.events.join(', ') : 'all'}</td><td>${w.createdBy}, ${fmt(w.createdAt)}</td>
            <td><${ActionForm} class="inline" label="Remove" confirm=${`Remove webhook ${w.name} and its delivery log?`} action=${async () => { await gql(`mutation($n: String!) { removeAlertWebhook(name: $n) }`, { n: w.name }); state.reload(); }} /></td></tr>`)}</tbody></table>`}
        <h3>New webhook</h3>
        <${ActionForm} label="Create webhook" action=${async (f, form) => {
          const events = data.alertEvents.filter((e) => f.get(`event-${e}`));
          await gql(`mutation($spec: AlertWebhookSpec!) { createAlertWebhook(spec: $spec) { name } }`, { spec: { name: f.get('name'), url: f.get('url'), secret: f.get('secret'), events } });
          form.reset();
          state.reload();
        }}>
          <${Field} label="Name" name="name" required placeholder="e.g. ops" />
          <${Field} label="URL" name="url" type="url" required placeholder="https://hooks.example.com/meshwork" />
          <${Field} label="Signing secret (16+ characters, shown never again)" name="secret" type="password" required />
          <fieldset class="field"><legend>Events (none checked: all)</legend>
            ${data.alertEvents.map((e) => html`<label><input type="checkbox" name=${`event-${e}`} /> <code>${e}</code></label> `)}
          </fieldset>
        <//>
      </section>
      <section class="panel">
        <h2>Deliveries</h2>
        ${data.alertDeliveries.length === 0 ? html`<p class="muted">No alert sent yet.</p>` : html`<table><thead><tr><th>#</th><th>webhook</th><th>event</th><th>status</th><th>attempts</th><th>last answer</th><th>when</th></tr></thead>
          <tbody>${data.alertDeliveries.map((d) => html`<tr><td>${d.id}</td><td>${d.webhook}</td><td><code>${d.event}</code></td>
            <td><${Badge} tone=${d.status === 'DELIVERED' ? 'good' : d.status === 'FAILED' ? 'bad' : 'warn'}>${d.status.toLowerCase()}<//></td>
            <td>${d.attempts}</td><td>${d.lastStatusCode ?? ''} ${d.lastError || ''}</td><td>${fmt(d.deliveredAt || d.createdAt)}</td></tr>`)}</tbody></table>`}
      </section>`}<//>
  </section>`;
}

// ---------------------------------------------------------------- saved queries

function QueriesPage({ me }) {
  const state = useQuery(`{ savedQueries { name ownerTeam description query variables variableTypes rows csvPath parquetPath jsonPath updatedBy updatedAt } }`, {}, [me?.name]);
  const [open, setOpen] = useState(null);
  return html`<section>
    <h1>Saved queries</h1>
    <p class="muted">A saved query is one URL a spreadsheet, Power BI or <code>pandas.read_csv</code> opens: it runs as the caller, with every check of the mesh; URL parameters set its variables.</p>
    <${Loading} state=${state}>${(data) => html`
      <section class="panel">
        ${data.savedQueries.length === 0 ? html`<p class="muted">None yet.</p>` : html`<table data-testid="saved-queries"><thead><tr><th>name</th><th>owner</th><th>description</th><th>variables</th><th>as a table</th><th></th></tr></thead>
          <tbody>${data.savedQueries.map((q) => html`<tr>
            <td><button class="link" aria-expanded=${open === q.name} onClick=${() => setOpen(open === q.name ? null : q.name)}>${q.name}</button></td>
            <td>${q.ownerTeam}</td><td>${q.description}</td>
            <td>${Object.entries(q.variableTypes || {}).map(([n, t]) => html`<code>${n}: ${t}</code> `)}</td>
            <td><a href=${q.csvPath} download>CSV</a> · <a href=${q.parquetPath} download>Parquet</a> · <a href=${q.jsonPath}>JSON</a> · <a href=${graphiql('/graphql', q.query, JSON.stringify(q.variables))}>GraphiQL</a></td>
            <td><${ActionForm} class="inline" label="Delete" confirm=${`Stop serving ${q.name}? (The record is kept.)`} action=${async () => { await gql(`mutation($n: String!) { deleteSavedQuery(name: $n) }`, { n: q.name }); state.reload(); }} /></td>
          </tr>`)}</tbody></table>`}
        ${open && data.savedQueries.filter((q) => q.name === open).map((q) => html`<div data-testid="saved-query">
          <h3>${q.name}</h3>
          <p>URL: <code>${location.origin}${q.csvPath}${Object.keys(q.variables || {}).length ? '?' + new URLSearchParams(q.variables).toString() : ''}</code></p>
          <pre><code>${q.query}</code></pre>
          <p class="muted">Defaults: <code>${JSON.stringify(q.variables)}</code>${q.rows ? html` · rows: <code>${q.rows}</code>` : ''} · changed by ${q.updatedBy}, ${fmt(q.updatedAt)}</p>
        </div>`)}
      </section>
      <section class="panel">
        <h2>Save a query</h2>
        <${ActionForm} label="Save query" action=${async (f, form) => {
          const vars = f.get('variables').trim();
          let variables = null;
          if (vars) {
            try { variables = JSON.parse(vars); } catch { throw new Error('Variables must be a JSON object, e.g. {"date": "2026-11-24"}'); }
          }
          await gql(`mutation($s: SavedQuerySpec!) { saveQuery(spec: $s) { name } }`, { s: {
            name: f.get('name'), ownerTeam: f.get('owner'), description: f.get('description'),
            query: f.get('query'), variables, rows: f.get('rows') || null } });
          form.reset();
          state.reload();
        }}>
          <${Field} label="Query name" name="name" required placeholder="e.g. orders-by-date" />
          <${Field} label="Owner team" name="owner" required value=${me?.teams?.[0] || ''} />
          <${Field} label="Description" name="description" />
          <label class="field wide"><span>GraphQL query</span><textarea name="query" required rows="5" placeholder='query($date: String!) { ordersByDate(date: $date) { id total } }'></textarea></label>
          <${Field} label="Default variables (JSON)" name="variables" placeholder='{"date": "2026-11-24"}' />
          <${Field} label="Rows (dotted path, optional)" name="rows" placeholder="ordersByDate" />
        <//>
      </section>`}<//>
  </section>`;
}

// ---------------------------------------------------------------- shell

function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(0);
  const me = useQuery(ME, {}, [signedIn]);
  const who = me.data?.me;
  const [page, ...rest] = route.parts;
  // After a move to another page (not on the first load), focus goes to the
  // content, as a screen reader expects from a new page.
  const [firstRoute] = useState(route.parts.join('/'));
  useEffect(() => {
    const main = document.getElementById('main');
    if (route.parts.join('/') !== firstRoute && main && document.activeElement === document.body) main.focus({ preventScroll: true });
  }, [route.parts.join('/')]);
  const nav = [
    ['', 'Domains'],
    ['composition', 'Composition'],
    ['access', 'Access'],
    ['queries', 'Queries'],
    ['audit', 'Audit log'],
    ['alerts', 'Alerts'],
  ];
  return html`<div class="app">
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header>
      <a class="brand" href="#/">Meshwork</a>
      <nav aria-label="Console">
        ${nav.map(([p, label]) => html`<a href=${`#/${p}`} aria-current=${(page || '') === p ? 'page' : undefined}>${label}</a>`)}
        <a href="/graphql">GraphiQL: mesh</a>
        <a href="/catalog/graphql">GraphiQL: catalog</a>
      </nav>
      <${SignIn} me=${who} onChange=${() => setSignedIn((n) => n + 1)} />
    </header>
    ${me.error && html`<p class="error banner" role="alert">${me.error.message} <button class="link" onClick=${() => { setCredential(''); setSignedIn((n) => n + 1); }}>Sign out</button></p>`}
    <main id="main" tabindex="-1">
      ${!page && html`<${Home} params=${route.params} />`}
      ${page === 'domain' && rest[0] && html`<${DomainPage} name=${rest[0]} tab=${rest[1]} me=${who} />`}
      ${page === 'composition' && html`<${CompositionPage} />`}
      ${page === 'access' && html`<${AccessPage} me=${who} />`}
      ${page === 'audit' && html`<${AuditPage} params=${route.params} />`}
      ${page === 'alerts' && html`<${AlertsPage} me=${who} />`}
      ${page === 'queries' && html`<${QueriesPage} me=${who} />`}
      ${page && !['domain', 'composition', 'access', 'audit', 'alerts', 'queries'].includes(page) && html`<p>No such page. <a href="#/">Domains</a></p>`}
    </main>
    <footer class="muted">Health: <a href="/health">/health</a> · <a href="/readiness">/readiness</a> · <a href="/ready">/ready</a> · metrics: <a href="/metrics">/metrics</a></footer>
  </div>`;
}

render(html`<${App} />`, document.getElementById('console'));
