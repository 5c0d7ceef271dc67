// Processes and browser for the console tests: a real outpost-hub on a free
// loopback port, a real outpost-agent, a throwaway SQLite database, and
// Debian's Chromium driven by playwright-core with every request, console
// message, page error and dialog recorded.
import {spawn, execFileSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {chownSync, mkdtempSync, mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

export const env = {
  hubBin: process.env.OUTPOST_HUB_BIN || 'build/dev/hub/outpost-hub',
  agentBin: process.env.OUTPOST_AGENT_BIN || 'build/dev/src/outpost-agent',
  chromium: process.env.OUTPOST_CHROMIUM || '/usr/bin/chromium',
  shots: process.env.OUTPOST_CONSOLE_SHOTS || 'build/console-screenshots',
};

/** Resolves when `predicate(text)` holds for a process's output, or rejects after `ms`. */
function waitForOutput(proc, predicate, ms, what) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${what}: not seen within ${ms} ms:\n${text}`)), ms);
    const onData = (chunk) => {
      text += chunk;
      const found = predicate(text);
      if (found) { clearTimeout(timer); resolve(found); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what}: exited with ${code}:\n${text}`)); });
  });
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'outpost-console-'));
}

/** A small shop database, with hostile names and values for the XSS checks. */
export function makeDatabase(dir) {
  const path = join(dir, 'shop.db');
  const rows = [];
  for (let i = 1; i <= 120; i++) rows.push(`(${i}, 'item ${i}', ${i % 7 === 0 ? 'NULL' : `'note ${i}'`})`);
  const sql = [
    'CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, note TEXT);',
    `INSERT INTO orders VALUES ${rows.join(',')};`,
    "INSERT INTO orders VALUES (121, 'xss', '<script>window.__pwned=5</script><img src=x onerror=\"window.__pwned=6\">');",
    'CREATE TABLE "<img src=x onerror=window.__pwned=3>" (id INTEGER, "<b onmouseover=window.__pwned=7>c</b>" TEXT);',
    'CREATE VIEW big_orders AS SELECT * FROM orders WHERE id > 100;',
  ].join('\n');
  execFileSync('sqlite3', [path], {input: sql});
  return path;
}

const PG_BIN = process.env.OUTPOST_PG_BIN || '/usr/lib/postgresql/15/bin';

function asPostgres(args, options = {}) {
  return execFileSync('/usr/sbin/runuser', ['-u', 'postgres', '--', ...args],
    {env: {...process.env, LC_ALL: 'C'}, stdio: ['ignore', 'pipe', 'pipe'], ...options});
}

/**
 * A throwaway PostgreSQL server that listens only on a Unix socket in its
 * own temp dir (no TCP port to pick) and wants a password (scram-sha-256):
 * {host: socket dir, user, password, database, stop()}.
 */
export function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-console-pg-'));
  const password = randomBytes(12).toString('hex');
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  writeFileSync(join(dir, 'pwfile'), password + '\n');
  chownSync(join(dir, 'pwfile'), uid, gid);
  const data = join(dir, 'data');
  asPostgres([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth-local=scram-sha-256',
    '--auth-host=reject', `--pwfile=${join(dir, 'pwfile')}`, '-E', 'UTF8', '--no-locale', '-N']);
  asPostgres(['/bin/sh', '-c', `cat >> '${data}/postgresql.auto.conf'`], {input:
    `listen_addresses = ''\nunix_socket_directories = '${dir}'\nfsync = off\nshared_buffers = 16MB\n`,
    stdio: ['pipe', 'pipe', 'pipe']});
  asPostgres([`${PG_BIN}/pg_ctl`, '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const stop = () => {
    try { asPostgres([`${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']); } catch { /* gone */ }
    rmSync(dir, {recursive: true, force: true});
  };
  return {host: dir, user: 'postgres', password, database: 'postgres', stop};
}

export async function startHub(extraArgs = []) {
  const adminToken = randomBytes(24).toString('hex');
  // The admin token goes in the environment, not in argv (ps shows argv).
  const proc = spawn(env.hubBin, ['--listen', '127.0.0.1:0', '--log-format', 'text', ...extraArgs],
    {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, OUTPOST_HUB_ADMIN_TOKEN: adminToken}});
  const port = await waitForOutput(proc, (t) => (t.match(/hub started .*port=(\d+)/) || [])[1], 15000, 'hub start');
  return {proc, adminToken, port: Number(port), origin: `http://127.0.0.1:${port}`};
}

/** Starts the agent with the -u URL -t flags of the console's docker run line (token on stdin). */
export async function startAgent(url, token, sqliteDir) {
  const proc = spawn(env.agentBin, ['-u', url, '-t', '--sqlite-dirs', sqliteDir, '--health-addr', 'off',
    '--log-format', 'text'], {stdio: ['pipe', 'pipe', 'pipe']});
  proc.stdin.end(token + '\n');
  await waitForOutput(proc, (t) => t.includes('agent started'), 20000, 'agent start');
  return proc;
}

export function stop(proc) {
  if (!proc || proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => { proc.once('exit', resolve); proc.kill('SIGTERM'); });
}

/**
 * A browser page that records what the tests assert on: requests to any
 * host other than `origin` (aborted), console errors, page errors, dialogs
 * (dismissed), and window.__pwned, the flag every XSS payload sets.
 */
export async function openBrowser(origin) {
  const browser = await chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({viewport: {width: 1280, height: 800}});
  const seen = {foreign: [], consoleErrors: [], pageErrors: [], dialogs: [], requests: 0};
  await context.route('**/*', (route) => {
    const url = route.request().url();
    seen.requests += 1;
    if (new URL(url).origin !== origin) {
      seen.foreign.push(url);
      return route.abort();
    }
    return route.continue();
  });
  await context.addInitScript(() => {
    window.__pwned = 0;
    for (const name of ['alert', 'confirm', 'prompt']) {
      const original = window[name];
      window[name] = (...a) => { window.__pwned = window.__pwned || `${name} called`; return original.apply(window, a); };
    }
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (msg) => { if (msg.type() === 'error') seen.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => seen.pageErrors.push(String(err)));
  page.on('dialog', (dialog) => { seen.dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}); });
  mkdirSync(env.shots, {recursive: true});
  return {browser, context, page, seen};
}

/** Drops the console errors a test caused on purpose (a refused request logs its status). */
export function forgiveStatus(seen, status) {
  seen.consoleErrors = seen.consoleErrors.filter((m) => !m.includes(`status of ${status}`));
}

/**
 * A full-page screenshot without the toast (a passing notice that would
 * cover the page). Hidden through its class: the page's CSP refuses the
 * style sheet Playwright's `style` option would inject, as it should.
 */
export async function shot(page, name) {
  await page.evaluate(() => document.getElementById('toast')?.classList.remove('show'));
  await page.screenshot({path: join(env.shots, `${name}.png`), fullPage: true, animations: 'disabled'});
}

/** A screenshot of one element (a form, a panel). */
export async function shotOf(locator, name) {
  await locator.screenshot({path: join(env.shots, `${name}.png`), animations: 'disabled'});
}

export function cleanup(dir) {
  rmSync(dir, {recursive: true, force: true});
}
