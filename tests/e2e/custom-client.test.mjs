// The custom-client example in docs/WIDGET.md, taken from the doc as it is and run in a page of
// another origin against the real server: the documentation's code must work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, startShopchat, launchBrowser, newPage, assertClean, startPageServer, managerSays, admin, trackRequests, sleep } from './helpers.mjs';

async function waitFor(cond, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (!(await cond())) { assert.ok(Date.now() < deadline, 'the server did not see it in time'); await sleep(20); }
}

let server, browser, site;

function clientSource() {
  const doc = fs.readFileSync(path.join(REPO, 'docs', 'WIDGET.md'), 'utf8');
  const m = /### shopchat-client\.js\s+```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, 'docs/WIDGET.md has a shopchat-client.js code block');
  return m[1];
}

before(async () => {
  server = await startShopchat();
  browser = await launchBrowser();
  const js = clientSource();
  site = await startPageServer((req) => {
    if (req.url === '/shopchat-client.js') return { type: 'text/javascript; charset=utf-8', body: js };
    return `<!doctype html><meta charset="utf-8"><title>My shop</title><script type="module">
      import { ShopChatClient } from '/shopchat-client.js';
      window.events = [];
      window.msgs = [];
      window.client = new ShopChatClient({
        baseUrl: ${JSON.stringify(server.url)}, apiKey: ${JSON.stringify(server.key)},
        onMessages: (m) => { window.msgs = m; }, onStatus: (s) => events.push(s), onProblem: (p) => events.push(p),
        onShop: (s) => { window.shop = s; },
      });
      window.ready = true;
    </script>`;
  });
});
after(async () => { await browser?.close(); await site?.stop(); await server?.stop(); });

test('the documented custom client: create-or-get, send, poll, closed, new chat, 429', async () => {
  const page = await newPage(browser);
  await page.goto(site.url + '/');
  await page.waitForFunction(() => window.ready);

  await page.evaluate(() => client.start({ userName: 'Custom Client', userPhone: '+380 44 000 00 00' }));
  const ids = await page.evaluate(() => JSON.parse(localStorage.getItem('shopchat-client')));
  assert.ok(ids.sessionId && ids.userSessionId, 'both ids are kept in localStorage');
  const polls = trackRequests(page, '&wait=25');
  const sent = await page.evaluate(() => client.send('Hello from our own React chat'));
  assert.equal(sent.sender, 'user');
  // It long-polls: one request waits on the server, and a reply arrives at once.
  await polls.parked();
  const t0 = Date.now();
  await managerSays(server, ids.sessionId, 'Hello, custom client!');
  await page.waitForFunction(() => msgs.length === 2, null, { timeout: 5000, polling: 'raf' });
  assert.ok(Date.now() - t0 < 1000, `the reply took ${Date.now() - t0} ms`);
  // Typing and seen, both ways.
  await admin(server, 'POST', `/api/chat/sessions/${ids.sessionId}/typing`, { typing: true });
  await page.waitForFunction(() => window.shop && window.shop.typing, null, { timeout: 5000 });
  await admin(server, 'POST', `/api/chat/sessions/${ids.sessionId}/seen`, { seq: sent.seq });
  await page.waitForFunction((seq) => window.shop && window.shop.seenSeq === seq, sent.seq, { timeout: 5000 });
  await page.evaluate(() => { client.typing(true); client.markSeen(); });
  await waitFor(async () => {
    const r = await admin(server, 'GET', `/api/chat/sessions/${ids.sessionId}/messages?since=0`);
    return r.json.visitorTyping === true && r.json.visitorSeenSeq === sent.seq + 1;
  });
  assert.deepEqual(await page.evaluate(() => msgs.map((m) => [m.sender, m.messageText])), [
    ['user', 'Hello from our own React chat'], ['manager', 'Hello, custom client!'],
  ]);

  // a reload continues the same chat, without creating one
  const creates = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/public/chat/sessions')) creates.push(r.url()); });
  await page.reload();
  await page.waitForFunction(() => window.ready);
  await page.evaluate(() => client.start());
  await page.waitForFunction(() => msgs.length === 2, null, { timeout: 5000 });
  assert.equal(creates.length, 0);

  // 429 on a send: the client waits Retry-After and retries with the same clientMessageId
  const bodies = [];
  await page.route(/\/messages$/, async (route) => {
    bodies.push(JSON.parse(route.request().postData()));
    if (bodies.length === 1) {
      return route.fulfill({ status: 429, headers: { 'Retry-After': '1', 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Retry-After' }, contentType: 'application/json', body: '{"error":{"code":"too_many_requests","message":"slow down"}}' });
    }
    return route.continue();
  });
  await page.evaluate(() => client.send('Second, after a 429'));
  assert.equal(bodies.length, 2);
  assert.equal(bodies[1].clientMessageId, bodies[0].clientMessageId);
  assert.ok((await page.evaluate(() => events)).some((e) => e && e.kind === 'rate-limited' && e.waitSeconds === 1));
  await page.unroute(/\/messages$/);
  assert.equal((await admin(server, 'GET', `/api/chat/sessions/${ids.sessionId}`)).json.messages.length, 3);

  // closed by a manager: the poll reports it, and a send is refused with 409
  await admin(server, 'POST', `/api/chat/sessions/${ids.sessionId}/close`, {});
  await page.waitForFunction(() => events.includes('closed'), null, { timeout: 5000 });
  const refused = await page.evaluate(() => client.send('Anyone?').then(() => 0, (e) => e.status));
  assert.equal(refused, 409);

  // a new chat for the same visitor
  await page.evaluate(() => { client.reset(true); return client.start(); });
  const ids2 = await page.evaluate(() => JSON.parse(localStorage.getItem('shopchat-client')));
  assert.notEqual(ids2.sessionId, ids.sessionId);
  assert.equal(ids2.userSessionId, ids.userSessionId, 'the visitor keeps their secret');
  await page.evaluate(() => client.send('A new question'));
  assert.deepEqual(await page.evaluate(() => msgs.map((m) => m.messageText)), ['A new question']);
  await page.evaluate(() => client.stop());
  assertClean(page);
});
