// The console's shell: session, sign-in/out, routing between pages, polling.
// Pages live in pages/*.js and export render(main, ctx) → optional cleanup.
import {api, setCsrf, setSignedOutHandler} from './api.js';
import {fill, h} from './dom.js';
import * as agents from './pages/agents.js';
import * as jobDetail from './pages/job.js';
import * as jobs from './pages/jobs.js';
import * as pools from './pages/pools.js';
import * as schedules from './pages/schedules.js';
import * as signin from './pages/signin.js';
import * as sources from './pages/sources.js';
import * as tokens from './pages/tokens.js';

const routes = {agents, pools, tokens, sources, schedules, jobs, job: jobDetail};

const main = document.getElementById('main');
const top = document.getElementById('top');
let session = null;
let cleanup = [];
let toastTimer = null;

function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

function stopPage() {
  for (const fn of cleanup) fn();
  cleanup = [];
}

/** Runs fn now and every `ms` while the page is shown and the tab visible. */
function every(ms, fn) {
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try { await fn(); } catch (e) { if (e.status !== 401) toast(e.message); } finally { busy = false; }
  };
  const id = setInterval(tick, ms);
  cleanup.push(() => clearInterval(id));
  return tick();
}

/** The hub's clock, estimated from the session answer (agents' last_seen is hub time). */
function hubNow() {
  return Date.now() + (session ? session.clockOffset : 0);
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const name = routes[parts[0]] ? parts[0] : 'agents';
  return {name, args: parts.slice(1)};
}

async function show() {
  stopPage();
  if (!session) return;
  const {name, args} = parseRoute();
  for (const a of document.querySelectorAll('#nav a')) {
    const current = a.dataset.page === name || (name === 'job' && a.dataset.page === 'jobs');
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  fill(main);
  const ctx = {session, args, every, toast, hubNow, go: (hash) => { location.hash = hash; },
               onCleanup: (fn) => cleanup.push(fn)};
  try {
    const stop = await routes[name].render(main, ctx);
    if (typeof stop === 'function') cleanup.push(stop);
  } catch (e) {
    if (e.status !== 401) fill(main, h('p', {class: 'error-box', role: 'alert'}, e.message));
  }
}

function signedIn(info) {
  session = {
    agentImage: info.agent_image,
    heartbeatMs: info.heartbeat_interval_ms,
    idleMs: info.idle_timeout_ms,
    clockOffset: info.now ? new Date(info.now).getTime() - Date.now() : 0,
  };
  setCsrf(info.csrf_token);
  top.hidden = false;
  if (!location.hash || location.hash === '#/signin') location.hash = '#/agents';
  show();
  main.focus();
}

function signedOut(message) {
  stopPage();
  session = null;
  setCsrf(null);
  top.hidden = true;
  signin.render(main, {message, onSignedIn: signedIn});
}

setSignedOutHandler(signedOut);
window.addEventListener('hashchange', show);
document.getElementById('sign-out').addEventListener('click', async () => {
  try { await api.signOut(); } catch (e) { toast(e.message); return; }
  signedOut('You are signed out.');
});

try {
  const info = await api.session();
  if (info.signed_in) signedIn(info); else signedOut();
} catch (e) {
  signedOut(e.message);
}
