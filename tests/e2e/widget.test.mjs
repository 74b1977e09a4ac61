// The widget's promises one by one: validation, keys, retries without doubles, 429, closed
// and forgotten sessions, dedupe by seq, polling pace, and what a screen reader is told.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, openWidget, startWidgetChat, widgetSend,
  widgetMessages, widgetStore, managerSays, admin, W, sleep, pageWithChat, call, trackRequests,
} from './helpers.mjs';

let server, browser;
// Many chats start from one address here: lift the limit of new sessions per minute (tested on its own below).
before(async () => { server = await startShopchat({ env: { CHAT_SESSION_RATE: '0' } }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

// URL patterns for page.route (GET polls carry a query, POST sends do not)
const POLL = /\/api\/public\/chat\/sessions\/[^/]+\/messages\?/;
const SEND = /\/api\/public\/chat\/sessions\/[^/]+\/messages$/;
const isPoll = (req) => req.method() === 'GET' && POLL.test(req.url());
const serverMessages = async (sessionId) => (await admin(server, 'GET', `/api/chat/sessions/${sessionId}`)).json.messages;

async function visitorWithChat(name) {
  return pageWithChat(browser, server, name);
}

// Makes every poll of the page fail from now on. The widget's long-poll already waiting on the
// server is not routed, so the panel is closed and opened again to start a new one.
async function failPolls(page) {
  await page.route(POLL, (r) => r.abort());
  await page.keyboard.press('Escape');
  await openWidget(page);
}

test('widget.js is served as JavaScript and stays small: under 48 KB, under 16 KB gzipped', async () => {
  const res = await fetch(server.url + '/widget.js');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/javascript/);
  const body = await res.text();
  assert.ok(Buffer.byteLength(body) < 48 * 1024, `widget.js is ${Buffer.byteLength(body)} bytes`);
  const { gzipSync } = await import('node:zlib');
  assert.ok(gzipSync(body).length < 16 * 1024, `widget.js is ${gzipSync(body).length} bytes gzipped`);
  assert.doesNotMatch(body, /innerHTML|insertAdjacentHTML|document\.write|eval\(/, 'no HTML parsing of data in the widget');
});

test('a first-time visitor writes at once: no form, no chat until the first message', async () => {
  const page = await newPage(browser);
  const creates = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/public/chat/sessions')) creates.push(r); });
  await page.goto(server.url + '/');
  await openWidget(page);
  assert.equal(await page.evaluate(() => document.querySelector('shopchat-widget').shadowRoot.activeElement?.tagName), 'TEXTAREA', 'focus goes to the message box');
  assert.equal(await page.locator(W.ask).isVisible(), false, 'no form before the first message');
  // Until the page has been quiet for 500 ms (Playwright's "networkidle"): whatever opening the
  // widget sends has been sent by then.
  await page.waitForLoadState('networkidle');
  assert.equal(creates.length, 0, 'no chat exists before the visitor writes');
  await widgetSend(page, 'Do you ship to Lviv?');
  assert.equal(creates.length, 1);
  const body = JSON.parse(creates[0].postData());
  assert.equal(body.messageText, 'Do you ship to Lviv?');
  assert.ok(body.clientMessageId && body.userSessionId, JSON.stringify(body));
  // Then name and phone are offered, optional, checked like the API.
  await page.locator(W.ask).waitFor({ state: 'visible' });
  assert.equal(await page.locator(W.name).getAttribute('maxlength'), '100');
  await page.locator(W.phone).fill('call me, maybe');
  await page.locator(W.saveContact).click();
  await page.locator('shopchat-widget #sc-phone-err').waitFor({ state: 'visible' });
  assert.equal(await page.locator(W.phone).getAttribute('aria-invalid'), 'true');
  await page.locator(W.phone).fill('+380 67 000 11 22');
  await page.locator(W.name).fill('Olena');
  await page.locator(W.saveContact).click();
  await page.locator(W.ask).waitFor({ state: 'hidden' });
  const { sessionId } = await widgetStore(page, server);
  const s = (await admin(server, 'GET', `/api/chat/sessions/${sessionId}`)).json;
  assert.deepEqual([s.session.userName, s.session.userPhone, s.messages.length], ['Olena', '+380 67 000 11 22', 1]);
  assertClean(page);
});

test('Enter sends, Shift+Enter starts a new line', async () => {
  const { page, sessionId } = await visitorWithChat('Keys');
  await page.locator(W.input).click();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  assert.equal(await page.locator(W.input).inputValue(), 'line one\nline two');
  await page.keyboard.press('Enter');
  await page.locator(`${W.msg}[data-seq]`).waitFor();
  assert.deepEqual((await widgetMessages(page)).map((m) => m.text), ['line one\nline two']);
  assert.equal(await page.locator(W.input).inputValue(), '');
  assert.deepEqual((await serverMessages(sessionId)).map((m) => m.messageText), ['line one\nline two']);
  assertClean(page);
});

test('a send whose answer was lost is shown as failed, and Retry never doubles it', async () => {
  const { page, sessionId } = await visitorWithChat('Retry');
  await failPolls(page); // no poll may fix it up behind our back
  const bodies = [];
  let first = true;
  await page.route(SEND, async (route) => {
    bodies.push(JSON.parse(route.request().postData()));
    if (first) { first = false; await route.fetch(); await route.abort('failed'); return; } // stored, answer lost
    await route.continue();
  });
  await page.locator(W.input).fill('Is the vase waterproof?');
  await page.locator(W.input).press('Enter');
  const failed = page.locator(`${W.msg}.failed`);
  await failed.waitFor();
  assert.match(await failed.textContent(), /Not sent/);
  await failed.getByRole('button', { name: 'Retry' }).click();
  await page.locator(`${W.msg}[data-seq]`).waitFor();
  assert.equal(bodies.length, 2);
  assert.ok(bodies[0].clientMessageId && bodies[0].clientMessageId.length <= 64);
  assert.equal(bodies[1].clientMessageId, bodies[0].clientMessageId, 'the retry reuses the clientMessageId');
  assert.deepEqual((await widgetMessages(page)).map((m) => [m.text, m.state]), [['Is the vase waterproof?', 'sent']]);
  assert.equal((await serverMessages(sessionId)).length, 1, 'the server stored it once');
  const polls = trackRequests(page, '/messages?since=');
  await page.unroute(POLL);
  await polls.parked(); // (after the failed long-polls it polls plainly for a while)
  await polls.quiet(200, 10000).catch(() => {}); // or waits on the server: either way, answers applied
  assert.equal((await widgetMessages(page)).length, 1, 'polling does not add it again');
  assertClean(page);
});

test('a lost answer is picked up by polling without a retry and shown once', async () => {
  const { page, sessionId } = await visitorWithChat('Lost');
  let first = true;
  await page.route(SEND, async (route) => {
    if (first) { first = false; await route.fetch(); await route.abort('failed'); return; }
    await route.continue();
  });
  await page.locator(W.input).fill('Hello?');
  await page.locator(W.input).press('Enter');
  await page.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelector('.msg[data-seq]'), null, { timeout: 6000 });
  assert.deepEqual((await widgetMessages(page)).map((m) => [m.text, m.state]), [['Hello?', 'sent']]);
  assert.equal((await serverMessages(sessionId)).length, 1);
  assertClean(page);
});

test('429 on send: a clear notice, Retry-After honoured, then it goes through', async () => {
  const { page, sessionId } = await visitorWithChat('Rate');
  const times = [];
  await page.route(SEND, async (route) => {
    times.push(Date.now());
    if (times.length === 1) {
      await route.fulfill({ status: 429, headers: { 'Retry-After': '2', 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' }, body: '{"error":{"code":"too_many_requests","message":"slow down"}}' });
      return;
    }
    await route.continue();
  });
  await page.locator(W.input).fill('Quick question');
  await page.locator(W.input).press('Enter');
  await page.locator(W.notice).waitFor({ state: 'visible' });
  assert.match(await page.locator(W.notice).textContent(), /Too many requests.*wait 2 s/);
  assert.ok(await page.locator(`${W.msg}.failed .retry`).isDisabled(), 'Retry waits for Retry-After');
  await page.locator(`${W.msg}[data-seq]`).waitFor({ timeout: 6000 });
  assert.equal(times.length, 2);
  assert.ok(times[1] - times[0] >= 1900, `resent after ${times[1] - times[0]} ms, not before Retry-After`);
  assert.equal((await serverMessages(sessionId)).length, 1);
  assertClean(page);
});

test('the server\'s own 429 on starting chats is shown with its wait', async () => {
  const limited = await startShopchat({ env: { CHAT_SESSION_RATE: '1' } });
  try {
    const page = await newPage(browser);
    await page.goto(limited.url + '/');
    await startWidgetChat(page, { text: 'First' });
    const { sessionId } = await widgetStore(page, limited);
    assert.equal((await call(limited, 'POST', `/api/chat/sessions/${sessionId}/close`, { token: limited.token, body: {} })).status, 200);
    await page.locator(W.newChat).click({ timeout: 10000 });
    await page.locator(W.input).fill('Second chat');
    await page.locator(W.input).press('Enter');
    await page.locator(W.notice).waitFor({ state: 'visible' });
    assert.match(await page.locator(W.notice).textContent(), /Too many requests\. Please wait \d+ s/);
    assert.deepEqual((await widgetMessages(page)).map((m) => [m.text, m.state]), [['Second chat', 'failed']], 'kept for a later try');
    assertClean(page);
  } finally {
    await limited.stop();
  }
});

test('a send into a chat closed meanwhile (409) shows the chat closed', async () => {
  const { page, sessionId } = await visitorWithChat('Closed');
  await failPolls(page); // only the send can tell
  assert.equal((await admin(server, 'POST', `/api/chat/sessions/${sessionId}/close`, {})).status, 200);
  await page.locator(W.input).fill('Are you there?');
  await page.locator(W.input).press('Enter');
  await page.locator(W.closed).waitFor({ state: 'visible' });
  assert.deepEqual((await widgetMessages(page)).map((m) => [m.text, m.state]), [['Are you there?', 'failed']]);
  assert.equal(await page.locator(`${W.msg} .retry`).count(), 0, 'no retry into a closed chat');
  assert.equal(await page.locator(W.input).isVisible(), false);
  assert.equal((await serverMessages(sessionId)).length, 0);
  assertClean(page);
});

test('a stored session the server does not know (404) is dropped for a fresh start', async () => {
  const page = await newPage(browser);
  await page.addInitScript((k) => {
    if (!sessionStorage.getItem('seeded')) {
      sessionStorage.setItem('seeded', '1');
      localStorage.setItem(k, JSON.stringify({ sessionId: '6f1c1a3e-0000-4000-8000-000000000000', userSessionId: 'gone-for-good', readSeq: 3 }));
    }
  }, 'shopchat:' + server.url);
  await page.goto(server.url + '/');
  await openWidget(page);
  await page.locator(W.notice).waitFor({ state: 'visible' });
  assert.match(await page.locator(W.notice).textContent(), /no longer available/);
  assert.deepEqual(await widgetStore(page, server), {});
  await startWidgetChat(page, { text: 'Starting over' });
  assertClean(page);
});

test('a polling client never shows a message twice, even when the server repeats itself', async () => {
  const { page, sessionId } = await visitorWithChat('Dedupe');
  await widgetSend(page, 'one');
  await managerSays(server, sessionId, 'two');
  await widgetSend(page, 'three');
  let polls = 0;
  await page.route(POLL, (route) => { // every poll asks from the start again
    polls++;
    route.continue({ url: route.request().url().replace(/since=\d+/, 'since=0') });
  });
  await managerSays(server, sessionId, 'four'); // answers the waiting long-poll; the next ones go through the route
  await page.waitForFunction(() => [...document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.msg .text')].some((e) => e.textContent === 'four'));
  const deadline = Date.now() + 10000;
  while (polls < 3) { assert.ok(Date.now() < deadline, `polled ${polls} times`); await sleep(20); }
  await page.unroute(POLL);
  assert.deepEqual((await widgetMessages(page)).map((m) => m.text), ['one', 'two', 'three', 'four']);
  const seqs = (await widgetMessages(page)).map((m) => m.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
  assertClean(page);
});

test('long-polls while open, polls slowly while closed or hidden', async () => {
  const { page } = await visitorWithChat('Pace');
  const polls = [];
  const open = trackRequests(page, '/messages?since=');
  await page.keyboard.press('Escape'); // closing stops the waiting long-poll; opening starts one
  await openWidget(page);
  page.on('request', (r) => { if (isPoll(r)) polls.push(r.url()); });
  await open.parked(1000);
  assert.ok(polls.length <= 1, `open: ${polls.length} polls while one waits`);
  assert.ok(polls.every((u) => /[?&]wait=25\b/.test(u)), `open: long-polls ${polls}`);
  await page.keyboard.press('Escape');
  polls.length = 0;
  await sleep(6000);
  assert.ok(polls.length <= 1, `closed: ${polls.length} polls in 6 s`);
  assert.ok(polls.every((u) => !/[?&]wait=/.test(u)), `closed: plain polls ${polls}`);
  await openWidget(page);
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  polls.length = 0;
  await sleep(6000);
  assert.ok(polls.length <= 1, `hidden tab: ${polls.length} polls in 6 s`);
  assertClean(page);
});

test('falls back to plain polling by itself when long-polls are cut (a proxy), and gets replies', async () => {
  const { page, sessionId } = await visitorWithChat('Proxy');
  // A proxy that cuts every waiting request: long-polls fail, plain polls pass.
  await page.route(POLL, (route) => (/[?&]wait=/.test(route.request().url()) ? route.abort('connectionreset') : route.continue()));
  await page.keyboard.press('Escape');
  await openWidget(page);
  await managerSays(server, sessionId, 'through the proxy');
  await page.waitForFunction(() => [...document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.msg.manager .text')]
    .some((e) => e.textContent === 'through the proxy'), null, { timeout: 15000 });
  assertClean(page);
});

test('a poll carries the cursor, and the visitor secret in a header only', async () => {
  const { page, sessionId } = await visitorWithChat('Cursor');
  // The poll after the reply: the widget sends it as soon as the long-poll that carried the reply
  // has answered, so it is listened for before the reply is sent.
  const since = (r) => Number(new URL(r.url()).searchParams.get('since'));
  const next = page.waitForRequest((r) => isPoll(r) && since(r) > 0, { timeout: 10000 });
  const m = await managerSays(server, sessionId, 'hi');
  await page.locator(`${W.msg}.manager`).waitFor({ timeout: 5000 });
  const req = await next;
  const url = new URL(req.url());
  assert.equal(url.searchParams.get('since'), String(m.seq), 'since = the last seq seen');
  const { userSessionId } = await widgetStore(page, server);
  assert.equal(url.searchParams.get('userSessionId'), null, 'never in the URL: proxies log URLs');
  // headers(), not allHeaders(): the latter waits for the answer, and this long-poll is still parked.
  const headers = req.headers();
  assert.equal(headers['x-user-session-id'], userSessionId);
  assert.equal(headers['x-api-key'], await page.evaluate(() => document.querySelector('script[data-api-key]').dataset.apiKey));
  assert.ok(headers['x-api-key']);
  assertClean(page);
});

test('screen readers get a labelled dialog, a live log and labelled buttons', async () => {
  const { page } = await visitorWithChat('A11y');
  const a = await page.evaluate(() => {
    const r = document.querySelector('shopchat-widget').shadowRoot;
    const q = (s) => r.querySelector(s);
    return {
      dialog: [q('.panel').getAttribute('role'), q('.panel').getAttribute('aria-label')],
      log: [q('.list').getAttribute('role'), q('.list').getAttribute('aria-live')],
      launcher: [q('.launcher').getAttribute('aria-controls'), q('.launcher').getAttribute('aria-expanded')],
      labels: [...r.querySelectorAll('button, textarea, input')].filter((e) => e.offsetParent || e.getClientRects().length)
        .map((e) => e.getAttribute('aria-label') || e.textContent.trim() || (e.id && r.querySelector(`label[for="${e.id}"]`)?.textContent)),
      focus: r.activeElement?.tagName,
    };
  });
  assert.deepEqual(a.dialog, ['dialog', 'Clay & Linen']);
  assert.deepEqual(a.log, ['log', 'polite']);
  assert.deepEqual(a.launcher, ['sc-panel', 'true']);
  assert.ok(a.labels.every(Boolean), 'every visible control has a name: ' + JSON.stringify(a.labels));
  assert.equal(a.focus, 'TEXTAREA', 'after the form, focus is in the message box');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator(W.launcher).getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('Enter'); // the focused chat button opens it again
  await page.locator(W.panel).waitFor({ state: 'visible' });
  assertClean(page);
});
