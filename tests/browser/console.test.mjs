// The web console end to end in headless Chromium (hub-v2 §6, issue 17):
// sign in → create a pool → a token in it → start the agent with the shown
// flags → agent online in that pool → create a source in the pool → Test
// connection → metadata → query paged from /rows; edit a source (its masked
// password kept), delete one; schedules; wrong token, CSRF, XSS payloads
// rendered as text, no request to any other host, no console errors,
// sign-out. Screenshots of each page go to $OUTPOST_CONSOLE_SHOTS.
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import * as hx from './harness.mjs';

const PWN_SOURCE = '<img src=x onerror=window.__pwned=1>';
const PWN_COLUMN = '<script>window.__pwned=2</script>';
const PWN_TABLE = '<img src=x onerror=window.__pwned=3>';
const PWN_ERROR = '<img src=x onerror=window.__pwned=4>nope';
const PWN_POOL = 'lab <img src=x onerror=window.__pwned=8>';
const POOL = 'eu-vpc';
// Form feeds: HTML separates attributes with them, the cron parser does not
// split fields on them, so the whole tag comes back in the error message.
const PWN_CRON = '<img\fsrc=x\fonerror=window.__pwned=9>';

describe('web console', () => {
  let dir, db, pg, hub, agent, b, page;
  let agentLine, poolId;

  before(async () => {
    dir = hx.tempDir();
    db = hx.makeDatabase(dir);
    pg = hx.startPostgres();
    hub = await hx.startHub();
    b = await hx.openBrowser(hub.origin);
    page = b.page;
  });

  after(async () => {
    if (b) await b.browser.close();
    await hx.stop(agent);
    await hx.stop(hub && hub.proc);
    if (pg) pg.stop();
    if (dir) hx.cleanup(dir);
  });

  const text = (selector) => page.locator(selector).innerText();
  const adminGet = async (path) => {
    const r = await fetch(`${hub.origin}/api/v1/admin${path}`, {headers: {Authorization: `Bearer ${hub.adminToken}`}});
    assert.equal(r.status, 200);
    return r.json();
  };
  const sourceRow = (name) => page.locator('#sources-table tbody tr', {has: page.getByText(name, {exact: true})});
  const noScriptRan = async () => {
    assert.equal(await page.evaluate(() => window.__pwned), 0, 'an injected script ran');
    assert.deepEqual(b.seen.dialogs, [], 'a dialog was opened');
  };

  it('serves the page with the security headers', async () => {
    const response = await page.goto(hub.origin + '/');
    const headers = response.headers();
    assert.equal(headers['content-security-policy'], "default-src 'self'");
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    assert.equal(headers['x-frame-options'], 'DENY');
    await page.locator('#signin-form').waitFor();
    await hx.shot(page, 'signin');
  });

  it('refuses a wrong admin token', async () => {
    await page.fill('#admin-token', 'not-the-token');
    await page.click('#signin-button');
    await page.locator('#signin-status.error-box').waitFor();
    assert.match(await text('#signin-status'), /not the admin token/);
    assert.equal(await page.inputValue('#admin-token'), '');
    assert.equal((await b.context.cookies()).length, 0);
    hx.forgiveStatus(b.seen, 401);
    await hx.shot(page, 'signin-refused');
  });

  it('signs in with the keyboard; the session cookie is HttpOnly and SameSite=Strict', async () => {
    await page.focus('#admin-token');
    await page.keyboard.type(hub.adminToken);
    await page.keyboard.press('Enter');
    await page.locator('#agent-list .empty').waitFor();
    assert.match(await text('#agent-list'), /No agent yet/);
    const [cookie] = await b.context.cookies();
    assert.equal(cookie.name, 'outpost_session');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '');
    // The admin token is nowhere in the page or its storage.
    const stored = await page.evaluate(() => JSON.stringify([{...localStorage}, {...sessionStorage}]));
    assert.equal(stored, '[{},{}]');
    assert.ok(!(await page.content()).includes(hub.adminToken));
    await hx.shot(page, 'agents-empty');
  });

  it('creates pools; a hostile pool name is shown as text', async () => {
    await page.click('#nav a[href="#/pools"]');
    await page.locator('#pools-table').getByText('pool_default', {exact: true}).waitFor();
    const poolRow = (name) => page.locator('#pools-table tbody tr', {has: page.getByText(name, {exact: true})});
    await page.fill('#pool-name', PWN_POOL);
    await page.keyboard.press('Enter');
    await poolRow(PWN_POOL).waitFor();
    await page.fill('#pool-name', POOL);
    await page.click('#pool-create');
    await poolRow(POOL).waitFor();
    poolId = await poolRow(POOL).locator('code').innerText();
    assert.match(poolId, /^pool_/);
    assert.deepEqual((await poolRow(POOL).locator('td').allInnerTexts()).slice(2, 4), ['0', '0']);
    await noScriptRan();
    await hx.shot(page, 'pools');
  });

  it('creates a token in that pool, shown once with the docker run line and a Kubernetes Secret', async () => {
    // The pool's "New token in this pool" link opens the tokens page with the pool chosen.
    await page.locator('#pools-table tbody tr', {hasText: poolId}).locator('.pool-token').click();
    await page.locator('#token-form').waitFor();
    assert.equal(await page.inputValue('#token-pool'), poolId);
    await page.fill('#token-name', 'e2e-agent');
    await page.click('#token-create');
    await page.locator('#new-token').waitFor();
    agentLine = await text('#docker-line');
    const m = agentLine.match(/^docker run outpost-agent:0\.1\.0 -u (\S+) -t (opt_[0-9a-f]+)$/);
    assert.ok(m, `unexpected docker line: ${agentLine}`);
    assert.equal(m[1], `${hub.origin}/api`);
    assert.match(await text('#k8s-secret'), new RegExp(`kind: Secret[\\s\\S]*token: "${m[2]}"`));
    assert.equal(await text('#new-token-pool'), POOL);
    const row = page.locator('#tokens-table tbody tr', {hasText: 'e2e-agent'});
    await row.waitFor();
    assert.ok((await row.innerText()).includes(POOL));
    const [token] = (await adminGet('/tokens')).filter((t) => t.name === 'e2e-agent');
    assert.equal(token.pool_id, poolId);
    await noScriptRan();
    await hx.shot(page, 'tokens-created');
  });

  it('shows the agent started with those flags as online in that pool', async () => {
    const [, url, token] = agentLine.match(/-u (\S+) -t (\S+)/);
    agent = await hx.startAgent(url, token, dir);
    await page.click('a[href="#/agents"]');
    // Auto-refresh: the row appears without a reload.
    await page.locator('#agents-table .badge-online').waitFor({timeout: 15000});
    const row = await text('#agents-table tbody tr');
    assert.match(row, /e2e-agent/);
    assert.match(row, /online/);
    assert.match(row, /0 \/ \d+/);
    assert.ok(row.includes(POOL), row);
    await hx.shot(page, 'agents-online');
    // The pools page counts it (refreshed without a reload).
    await page.click('#nav a[href="#/pools"]');
    await page.waitForFunction((id) => [...document.querySelectorAll('#pools-table tbody tr')].some((tr) =>
      tr.cells[1].innerText === id && tr.cells[2].innerText === '1'), poolId);
  });

  it('creates a source with a hostile name, shown as text', async () => {
    await page.click('a[href="#/sources"]');
    await page.locator('#source-list .empty').waitFor();
    await page.fill('#source-name', PWN_SOURCE);
    await page.selectOption('#source-type', 'sqlite');
    await page.fill('#src-sqlite-path', db);
    await page.selectOption('#source-pool', poolId);
    await page.click('#source-create');
    await page.locator('#sources-table').getByText(PWN_SOURCE, {exact: true}).waitFor();
    assert.ok((await sourceRow(PWN_SOURCE).innerText()).includes(POOL));
    // The hostile pool name is an option of the pool select, as text.
    await page.locator('#source-pool option', {hasText: PWN_POOL}).waitFor({state: 'attached'});
    await noScriptRan();
  });

  it('tests the connection: success with server version and latency', async () => {
    await page.click('#sources-table .test-connection');
    await page.locator('#test-ok').waitFor({timeout: 30000});
    const ok = await text('#test-ok');
    assert.match(ok, /Connected to/);
    assert.match(ok, /SQLite 3\.\d+/);
    assert.match(ok, /\d+ ms round trip/);
    assert.ok(ok.includes(PWN_SOURCE));
    await hx.shot(page, 'sources-test-ok');
  });

  it('shows a failed test with its error code and message', async () => {
    await page.fill('#source-name', 'missing-file');
    await page.selectOption('#source-type', 'sqlite');
    await page.fill('#src-sqlite-path', `${dir}/missing.db`);
    await page.selectOption('#source-pool', poolId);
    await page.click('#source-create');
    const row = page.locator('#sources-table tr', {hasText: 'missing-file'});
    await row.waitFor();
    await row.locator('.test-connection').click();
    await page.locator('#test-failed').waitFor({timeout: 30000});
    assert.match(await text('#test-failed'), /unreachable/);
    await hx.shot(page, 'sources-test-failed');
  });

  it('shows the masked config of a source', async () => {
    await page.fill('#source-name', 'warehouse');
    await page.selectOption('#source-type', 'postgres');
    await page.fill('#src-postgres-host', 'db.internal');
    await page.fill('#src-postgres-user', 'reader');
    await page.fill('#src-postgres-password', 'hunter2');
    await page.locator('#source-form .warn:not([hidden])').waitFor();
    await page.click('#source-create');
    const row = page.locator('#sources-table tr', {hasText: 'warehouse'});
    await row.waitFor();
    await row.locator('.details').click();
    await page.locator('#source-details').waitFor();
    const details = await text('#source-details');
    assert.match(details, /password\s+\*{8}/);
    assert.ok(!details.includes('hunter2'));
    await hx.shot(page, 'sources');
    // Its pool (the default one) has no agent: the hub says so at once.
    await row.locator('.test-connection').click();
    await page.locator('#test-failed').waitFor();
    assert.match(await text('#test-failed'), /no_agent/);
  });

  it('edits a source: the masked password is kept, Test connection still succeeds', async () => {
    await page.fill('#source-name', 'pg-local');
    await page.selectOption('#source-type', 'postgres');
    await page.selectOption('#source-pool', poolId);
    await page.fill('#src-postgres-host', pg.host);
    await page.fill('#src-postgres-database', pg.database);
    await page.fill('#src-postgres-user', pg.user);
    await page.fill('#src-postgres-password', pg.password);
    await page.selectOption('#src-postgres-sslmode', 'disable');
    await page.click('#source-create');
    await sourceRow('pg-local').waitFor();
    await sourceRow('pg-local').locator('.test-connection').click();
    await page.locator('#test-ok').waitFor({timeout: 30000});
    assert.match(await text('#test-ok'), /Connected to pg-local/);

    await sourceRow('pg-local').locator('.edit').click();
    await page.locator('#edit-form').waitFor();
    assert.equal(await page.inputValue('#edit-postgres-password'), '********');
    assert.equal(await page.inputValue('#edit-pool'), poolId);
    assert.ok(!(await page.content()).includes(pg.password));
    await page.fill('#edit-name', 'pg-renamed');
    await page.fill('#edit-postgres-application_name', 'outpost-console-test');
    await hx.shotOf(page.locator('#edit-form'), 'sources-edit');
    await page.click('#edit-save');
    await sourceRow('pg-renamed').waitFor();
    assert.equal(await page.locator('#edit-form').count(), 0);
    const [stored] = (await adminGet('/sources')).filter((s) => s.name === 'pg-renamed');
    assert.equal(stored.config.password, '********');
    assert.equal(stored.config.application_name, 'outpost-console-test');
    assert.equal(stored.pool_id, poolId);
    await sourceRow('pg-renamed').locator('.test-connection').click();
    await page.locator('#test-ok', {hasText: 'pg-renamed'}).waitFor({timeout: 30000});
  });

  it('deletes a source after a second click', async () => {
    const row = sourceRow('missing-file');
    await row.locator('button', {hasText: 'Delete'}).click();
    await row.locator('button', {hasText: 'Click again to delete'}).click();
    await page.locator('#sources-table').getByText('missing-file', {exact: true}).waitFor({state: 'detached'});
    assert.ok(!(await adminGet('/sources')).some((s) => s.name === 'missing-file'));
  });

  it('runs metadata and shows the tables as a schema tree', async () => {
    await page.locator('#sources-table tr', {hasText: PWN_SOURCE}).locator('.run-metadata').click();
    await page.locator('#schema-tree').waitFor({timeout: 30000});
    // The job names its source and pool, not only their ids (as text).
    await page.locator('#job-fields dd', {hasText: PWN_SOURCE}).waitFor();
    // both by name, each with its id after it in a <code>
    assert.equal(await page.locator('#job-fields dd code').count(), 2);
    const tree = page.locator('#schema-tree');
    await tree.locator('.table-name', {hasText: 'orders'}).first().waitFor();
    await tree.locator('.table-name').getByText(PWN_TABLE, {exact: true}).waitFor();
    await tree.locator('.table-name', {hasText: 'big_orders'}).waitFor();
    await tree.locator('summary', {hasText: PWN_TABLE}).click();  // opens: column names as text
    await tree.getByText('<b onmouseover=window.__pwned=7>c</b>', {exact: true}).waitFor();
    // jobs-v1.1 facts: the key SQLite reports, the schema fingerprint.
    const orders = tree.locator('ul.tree > li > details > ul > li',
      {has: page.locator('.table-name').getByText('orders', {exact: true})});
    await orders.locator('summary').first().click();
    await orders.getByText('primary key (id)', {exact: true}).waitFor();
    await orders.getByText(/^fingerprint sha256:[0-9a-f]{64}$/).waitFor();
    await noScriptRan();
    await hx.shot(page, 'job-metadata');
  });

  it('runs a query and pages its rows from /rows', async () => {
    await page.click('a[href="#/sources"]');
    await page.locator('#query-form').waitFor();
    await page.selectOption('#query-source', {label: `${PWN_SOURCE} (sqlite)`});
    await page.fill('#query-sql', `SELECT id, item, note AS "${PWN_COLUMN}" FROM orders ORDER BY id`);
    await page.click('#query-run');
    await page.locator('#rows-table').waitFor({timeout: 30000});
    assert.equal(await text('#rows-info'), 'Rows 1–50 of 121');
    await page.locator('#rows-table th').getByText(PWN_COLUMN, {exact: true}).waitFor();
    assert.equal(await page.locator('#rows-table tbody tr').count(), 50);
    await page.click('#rows-next');
    await page.locator('#rows-info', {hasText: 'Rows 51–100 of 121'}).waitFor();
    await page.click('#rows-next');
    await page.locator('#rows-info', {hasText: 'Rows 101–121 of 121'}).waitFor();
    assert.equal(await page.locator('#rows-table tbody tr').count(), 21);
    assert.ok(await page.locator('#rows-next').isDisabled());
    await page.locator('#rows-table td').getByText('<script>window.__pwned=5</script>', {exact: false}).waitFor();
    await noScriptRan();
    await hx.shot(page, 'job-query');
    await page.click('#rows-prev');
    await page.locator('#rows-info', {hasText: 'Rows 51–100 of 121'}).waitFor();
  });

  it('shows a job error with markup in its message as text', async () => {
    await page.click('a[href="#/sources"]');
    await page.selectOption('#query-source', {label: `${PWN_SOURCE} (sqlite)`});
    await page.fill('#query-sql', `SELECT * FROM "${PWN_ERROR}"`);
    await page.click('#query-run');
    const box = page.locator('#job-view .error-box');
    await box.waitFor({timeout: 30000});
    assert.ok((await box.innerText()).includes(PWN_ERROR), await box.innerText());
    // Its attempts, each with its agent and outcome.
    const attempts = page.locator('#attempts-table tbody tr');
    assert.equal(await attempts.count(), 1);
    assert.match(await attempts.first().innerText(), /failed/);
    await noScriptRan();
    await hx.shot(page, 'job-error');
  });

  it('lists and filters jobs', async () => {
    await page.click('a[href="#/jobs"]');
    await page.locator('#jobs-table').waitFor();
    const rows = () => page.locator('#jobs-table tbody tr');
    const count = (n) => page.waitForFunction((k) => document.querySelectorAll('#jobs-table tbody tr').length === k, n);
    // 5 tests (sqlite ok, missing file, no agent, postgres twice), metadata, 2 queries;
    // the missing-file test ended 'cancelled' or 'failed' with its source deleted.
    await count(8);
    await page.selectOption('#filter-status', 'succeeded');
    await count(5);
    for (const row of await rows().allInnerTexts()) assert.match(row, /succeeded/);
    await page.selectOption('#filter-status', '');
    await page.selectOption('#filter-pool', 'pool_default');
    await count(1);
    assert.match(await rows().first().innerText(), /no_agent/);
    await page.selectOption('#filter-pool', poolId);
    await count(7);
    await page.selectOption('#filter-source', {label: PWN_SOURCE});
    await count(4);  // test, metadata, 2 queries
    await page.selectOption('#filter-status', 'failed');
    await count(1);
    await hx.shot(page, 'jobs');
  });

  it('creates and deletes schedules; a cron error with markup is shown as text', async () => {
    await page.click('#nav a[href="#/schedules"]');
    await page.locator('#schedule-list .empty').waitFor();
    await page.selectOption('#sched-source', {label: `${PWN_SOURCE} (sqlite)`});
    await page.selectOption('#sched-mode', 'cron');
    await page.fill('#sched-cron', `${PWN_CRON} 3 * * *`);
    await page.click('#sched-create');
    const box = page.locator('#sched-status .error-box');
    await box.waitFor();
    assert.ok((await box.textContent()).includes(PWN_CRON), await box.textContent());
    assert.equal(await box.locator('img').count(), 0);
    await noScriptRan();
    hx.forgiveStatus(b.seen, 400);

    await page.fill('#sched-cron', '30 2 * * 1');
    await page.fill('#sched-tz', 'Europe/Paris');
    await page.click('#sched-create');
    await page.locator('#schedules-table').getByText('30 2 * * 1', {exact: true}).waitFor();
    assert.match(await page.locator('#schedules-table tbody tr').first().innerText(), /Europe\/Paris/);

    // Every 2 s a connection test: its last job is linked once the hub ran it.
    await page.selectOption('#sched-type', 'test_connection');
    await page.selectOption('#sched-mode', 'every');
    await page.fill('#sched-every', '2');
    await page.selectOption('#sched-unit', 's');
    await page.click('#sched-create');
    const every = page.locator('#schedules-table tbody tr', {hasText: 'every 2 s'});
    await every.waitFor();
    await every.locator('a[href^="#/job/"]').waitFor({timeout: 20000});
    assert.equal(await page.locator('#schedules-table tbody tr').count(), 2);
    await hx.shot(page, 'schedules');
    await every.locator('button', {hasText: 'Delete'}).click();
    await every.locator('button', {hasText: 'Click again to delete'}).click();
    await page.waitForFunction(() => ![...document.querySelectorAll('#schedules-table tbody tr')]
      .some((tr) => tr.innerText.includes('every 2 s')));
    const left = await adminGet('/schedules');
    assert.deepEqual(left.filter((s) => s.status !== 'cancelled').map((s) => s.cron), ['30 2 * * 1']);
  });

  it('refuses a state-changing request without the CSRF header', async () => {
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/v1/admin/tokens', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                                     body: JSON.stringify({name: 'forged'})});
      return r.status;
    });
    assert.equal(status, 403);
    hx.forgiveStatus(b.seen, 403);
    // The admin API with a Bearer token needs no CSRF token.
    const api = await fetch(`${hub.origin}/api/v1/admin/tokens`, {headers: {Authorization: `Bearer ${hub.adminToken}`}});
    assert.equal(api.status, 200);
    assert.ok(!(await api.json()).some((t) => t.name === 'forged'));
  });

  it('works in a phone-width window', async () => {
    await page.setViewportSize({width: 390, height: 844});
    await page.click('a[href="#/agents"]');
    await page.locator('#agents-table .badge-online').waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(await overflow(), false, 'the page scrolls sideways at 390 px');
    await hx.shot(page, 'agents-phone');
    for (const name of ['pools', 'sources', 'schedules']) {
      await page.click(`#nav a[href="#/${name}"]`);
      await page.locator(`#${name}-table`).waitFor();
      assert.equal(await overflow(), false, `the ${name} page scrolls sideways at 390 px`);
    }
    await hx.shot(page, 'schedules-phone');
    await page.setViewportSize({width: 1280, height: 800});
  });

  it('signs out; the old session no longer works', async () => {
    const [cookie] = await b.context.cookies();
    await page.click('#sign-out');
    await page.locator('#signin-form').waitFor();
    assert.match(await text('#signin-status'), /signed out/);
    const r = await fetch(`${hub.origin}/api/v1/admin/tokens`, {headers: {Cookie: `outpost_session=${cookie.value}`}});
    assert.equal(r.status, 401);
  });

  it('loaded nothing from another host, logged no error and ran no injected script', async () => {
    assert.deepEqual(b.seen.foreign, []);
    assert.ok(b.seen.requests > 20);
    assert.deepEqual(b.seen.pageErrors, []);
    assert.deepEqual(b.seen.consoleErrors, []);
    await noScriptRan();
  });
});

describe('web console session expiry', () => {
  let hub, b;
  before(async () => {
    hub = await hx.startHub(['--console-idle-timeout', '2s']);
    b = await hx.openBrowser(hub.origin);
  });
  after(async () => {
    if (b) await b.browser.close();
    await hx.stop(hub && hub.proc);
  });

  it('sends an idle session back to the sign-in page', async () => {
    const {page} = b;
    await page.goto(hub.origin + '/#/tokens');
    await page.fill('#admin-token', hub.adminToken);
    await page.click('#signin-button');
    await page.locator('#token-form').waitFor();
    // The tokens page does not poll: nothing touches the session while idle.
    await new Promise((r) => setTimeout(r, 2500));
    await page.click('a[href="#/sources"]');
    await page.locator('#signin-form').waitFor();
    assert.match(await page.locator('#signin-status').innerText(), /session has ended/);
    hx.forgiveStatus(b.seen, 401);
    assert.deepEqual(b.seen.consoleErrors, []);
    assert.deepEqual(b.seen.pageErrors, []);
  });
});

describe('web console sign-in limit', () => {
  let hub;
  before(async () => { hub = await hx.startHub(); });
  after(async () => { await hx.stop(hub && hub.proc); });

  it('answers 429 after ten failed sign-ins from one address', async () => {
    const post = (token) => fetch(`${hub.origin}/console/session`, {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({token})});
    for (let i = 0; i < 10; i++) assert.equal((await post('guess-' + i)).status, 401);
    const limited = await post(hub.adminToken);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });
});
