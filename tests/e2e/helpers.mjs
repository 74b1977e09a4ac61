// Shared helpers of the end-to-end tests: start the real shopchat binary on a fresh
// database, launch Debian's Chromium through playwright-core, and drive the widget and
// the admin panel the way a person would.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shopchat binary: $SHOPCHAT_BIN (relative to where npm/node was started) or target/release/shopchat. */
export function binPath() {
  const fromEnv = process.env.SHOPCHAT_BIN;
  const bin = fromEnv ? path.resolve(process.env.INIT_CWD || process.cwd(), fromEnv) : path.join(REPO, 'target', 'release', 'shopchat');
  if (!fs.existsSync(bin)) {
    throw new Error(`shopchat binary not found at ${bin}: run "cargo build --release" or set SHOPCHAT_BIN`);
  }
  return bin;
}

function cleanEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(CHAT_|TELEGRAM_|SMTP_)/.test(k)) delete env[k];
  return { ...env, ...extra };
}

/**
 * Starts `shopchat serve` on 127.0.0.1:0 with a fresh database holding one manager
 * (alice) and one widget key. Returns {url, token, key, db, cli, stop}.
 */
export async function startShopchat({ env } = {}) {
  const bin = binPath();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopchat-e2e-'));
  const db = path.join(dir, 'chat.db');
  const procEnv = cleanEnv(env);
  const cli = (...args) => execFileSync(bin, ['--db', db, ...args], { encoding: 'utf8', env: procEnv, stdio: ['ignore', 'pipe', 'pipe'] });

  cli('create-tables'); // commands never create a database; serve and create-tables do
  const tokenOut = cli('managers', 'add', 'alice');
  assert.match(tokenOut, /^\S+\n?$/, `"managers add alice" must print the token alone on one line, got ${JSON.stringify(tokenOut)}`);
  const keyOut = cli('keys', 'add', 'test');
  assert.match(keyOut, /^\S+\n?$/, `"keys add test" must print the key alone on one line, got ${JSON.stringify(keyOut)}`);

  const child = spawn(bin, ['--db', db, 'serve', '--bind', '127.0.0.1:0'], { env: procEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, sig })));
  const lines = readline.createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('shopchat serve printed no first line within 20 s\n' + log)), 20000);
    lines.once('line', (line) => {
      clearTimeout(t);
      const m = /^shopchat listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`first stdout line of serve is not "shopchat listening on http://127.0.0.1:PORT": ${JSON.stringify(line)}`));
    });
    exited.then(({ code, sig }) => reject(new Error(`shopchat serve exited early (${code ?? sig})\n${log}`)));
  });
  lines.on('line', (l) => { log += l + '\n'; });

  return {
    url,
    token: tokenOut.trim(),
    key: keyOut.trim(),
    db,
    cli,
    logs: () => log,
    async stop() {
      if (child.exitCode == null && child.signalCode == null) {
        child.kill('SIGTERM');
        const timeout = new Promise((r) => setTimeout(() => r('timeout'), 5000));
        if ((await Promise.race([exited, timeout])) === 'timeout') { child.kill('SIGKILL'); await exited; }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * A new page that records page errors, dialogs and CSP violations; call
 * assertClean(page) to check none happened.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  page.problems = [];
  page.dialogs = [];
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) page.problems.push('console: ' + m.text());
  });
  page.on('dialog', (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  return page;
}
export function assertClean(page) {
  assert.deepEqual(page.dialogs, [], 'no dialog may open');
  assert.deepEqual(page.problems, [], 'no page error or CSP violation');
}

// ---- HTTP helpers (Node's fetch) -----------------------------------------------------
export async function call(server, method, pathname, { body, token, key, userSessionId } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  if (key) headers['X-API-Key'] = key;
  if (userSessionId) headers['X-User-Session-Id'] = userSessionId;
  const res = await fetch(server.url + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}
export const admin = (server, method, pathname, body) => call(server, method, pathname, { body, token: server.token });

/** A visitor's chat made straight through the public API (for seeding); its updatedAt is its last write's. */
export async function seedChat(server, { userName, userPhone, messages = [] }) {
  const r = await call(server, 'POST', '/api/public/chat/sessions', { key: server.key, body: { userName, userPhone } });
  assert.ok(r.status === 201 || r.status === 200, `create session: ${r.status} ${r.text}`);
  const s = r.json.session;
  for (const text of messages) s.updatedAt = (await visitorSays(server, s, text)).createdAt;
  return s;
}
export async function visitorSays(server, session, text) {
  const r = await call(server, 'POST', `/api/public/chat/sessions/${session.id}/messages`, {
    key: server.key, userSessionId: session.userSessionId, body: { messageText: text, clientMessageId: 'seed-' + Math.random().toString(36).slice(2) },
  });
  assert.equal(r.status, 201, `visitor message: ${r.text}`);
  return r.json.message;
}
export async function managerSays(server, sessionId, text) {
  const r = await admin(server, 'POST', `/api/chat/sessions/${sessionId}/messages`, { messageText: text, clientMessageId: 'm-' + Math.random().toString(36).slice(2) });
  assert.equal(r.status, 201, `manager message: ${r.text}`);
  return r.json.message;
}

/**
 * A tiny web server on 127.0.0.1:0 (another origin than shopchat's) answering every GET with
 * `page`: an HTML string, or a function of the request returning HTML or {type, body}.
 */
export async function startPageServer(page) {
  const srv = http.createServer((req, res) => {
    if (req.url === '/favicon.ico') { res.writeHead(404); res.end(); return; }
    const out = typeof page === 'function' ? page(req) : page;
    res.writeHead(200, { 'Content-Type': out.type || 'text/html; charset=utf-8' });
    res.end(typeof out === 'string' ? out : out.body);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, stop: () => new Promise((r) => srv.close(r)) };
}

// ---- the widget, seen from the page --------------------------------------------------
export const W = {
  launcher: 'shopchat-widget .launcher',
  badge: 'shopchat-widget .badge',
  panel: 'shopchat-widget .panel',
  sub: 'shopchat-widget .head .sub',
  ask: 'shopchat-widget form.ask:not(.away)',
  name: 'shopchat-widget #sc-name',
  phone: 'shopchat-widget #sc-phone',
  saveContact: 'shopchat-widget form.ask:not(.away) button[type=submit]',
  later: 'shopchat-widget form.ask .later',
  away: 'shopchat-widget form.ask.away',
  email: 'shopchat-widget #sc-email',
  saveEmail: 'shopchat-widget form.ask.away button[type=submit]',
  input: 'shopchat-widget .composer textarea',
  list: 'shopchat-widget .list',
  msg: 'shopchat-widget .list .msg',
  closed: 'shopchat-widget .closed',
  newChat: 'shopchat-widget .closed button',
  notice: 'shopchat-widget .notice',
  close: 'shopchat-widget .head .x',
};

export async function openWidget(page) {
  await page.locator(W.launcher).waitFor({ state: 'attached' });
  if (!(await page.locator(W.panel).isVisible())) await page.locator(W.launcher).click();
  await page.locator(W.panel).waitFor({ state: 'visible' });
}

/**
 * Starts a chat the way a visitor does: the first message opens it (no form before it);
 * then, if given, name and phone go into the fields the widget offers after it.
 */
export async function startWidgetChat(page, { name = '', phone = '', text = 'Hello!' } = {}) {
  await openWidget(page);
  await widgetSend(page, text);
  if (name || phone) {
    await page.locator(W.ask).waitFor({ state: 'visible' });
    await page.locator(W.name).fill(name);
    await page.locator(W.phone).fill(phone);
    await page.locator(W.saveContact).click();
    await page.locator(W.ask).waitFor({ state: 'hidden' });
  }
}

/**
 * A page whose widget continues a chat made through the API (the tests of sending and
 * polling start from an empty chat this way).
 */
export async function pageWithChat(browser, server, userName) {
  const r = await call(server, 'POST', '/api/public/chat/sessions', { key: server.key, body: { userName } });
  assert.equal(r.status, 201, r.text);
  const s = r.json.session;
  const page = await newPage(browser);
  await page.addInitScript(([k, v]) => { if (!localStorage.getItem(k)) localStorage.setItem(k, v); },
    ['shopchat:' + server.url, JSON.stringify({ sessionId: s.id, userSessionId: s.userSessionId, readSeq: 0, asked: true })]);
  await page.goto(server.url + '/');
  await openWidget(page);
  await page.locator(W.input).waitFor({ state: 'visible' });
  return { page, sessionId: s.id, session: s };
}

/** Types a message and presses Enter; waits until the server has confirmed it. */
export async function widgetSend(page, text) {
  await page.locator(W.input).fill(text);
  await page.locator(W.input).press('Enter');
  await page.waitForFunction((t) => {
    const root = document.querySelector('shopchat-widget').shadowRoot;
    return [...root.querySelectorAll('.list .msg.user')].some((li) => li.dataset.seq && li.querySelector('.text').textContent === t);
  }, text);
}

/** The widget's messages as [{sender, text, seq, state}]. */
export function widgetMessages(page) {
  return page.evaluate(() => {
    const root = document.querySelector('shopchat-widget').shadowRoot;
    return [...root.querySelectorAll('.list .msg')].map((li) => ({
      sender: li.classList.contains('user') ? 'user' : 'manager',
      text: li.querySelector('.text').textContent,
      seq: li.dataset.seq ? Number(li.dataset.seq) : null,
      state: li.classList.contains('failed') ? 'failed' : li.classList.contains('pending') ? 'sending' : 'sent',
    }));
  });
}

export function widgetStore(page, server) {
  return page.evaluate((k) => JSON.parse(localStorage.getItem(k) || '{}'), 'shopchat:' + server.url);
}

// ---- the admin panel -----------------------------------------------------------------
export async function adminLogin(page, server) {
  await page.goto(server.url + '/chat');
  await page.locator('#token').fill(server.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.list-view').waitFor();
}

/** The transcript as [{sender, text, seq}]. */
export function adminMessages(page) {
  return page.evaluate(() => [...document.querySelectorAll('.transcript .msg')].map((li) => ({
    sender: li.classList.contains('user') ? 'user' : 'manager',
    text: li.querySelector('.text').textContent,
    seq: li.dataset.seq ? Number(li.dataset.seq) : null,
  })));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the clock is past a stored timestamp (millisecond precision), so the next
 * write sorts strictly after it: the event a "newest first" seed needs, instead of a guess.
 */
export async function clockPast(iso, timeout = 5000) {
  const t = Date.parse(iso);
  assert.ok(Number.isFinite(t), `not a timestamp: ${iso}`);
  const deadline = Date.now() + timeout;
  while (Date.now() <= t) {
    if (Date.now() > deadline) throw new Error(`the clock did not pass ${iso} within ${timeout} ms`);
    await sleep(1);
  }
}

/**
 * Follows a page's requests whose URL contains `part`, from now on. The widget and the panel
 * make their next long-poll only after applying the last answer, so:
 * - `parked()` resolves once one of them has been waiting on the server for a moment: every
 *   answer before it has been applied (a check that nothing doubled can run);
 * - `quiet()` resolves once none has been in flight for a moment (e.g. the panel's message
 *   fetches that follow a feed answer).
 * Create it before the action whose effects you wait for.
 */
export function trackRequests(page, part) {
  const inflight = new Map(); // request -> when it started
  let lastEnd = Date.now();
  page.on('request', (r) => { if (r.url().includes(part)) inflight.set(r, Date.now()); });
  const done = (r) => { if (inflight.delete(r)) lastEnd = Date.now(); };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  async function until(cond, what, timeout) {
    const deadline = Date.now() + timeout;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`${what} (${part}) within ${timeout} ms`);
      await sleep(20);
    }
  }
  return {
    parked: (ms = 300, timeout = 20000) =>
      until(() => [...inflight.values()].some((t) => Date.now() - t >= ms), 'no request waited', timeout),
    quiet: (ms = 300, timeout = 20000) =>
      until(() => inflight.size === 0 && Date.now() - lastEnd >= ms, 'requests kept coming', timeout),
    count: () => inflight.size,
  };
}
