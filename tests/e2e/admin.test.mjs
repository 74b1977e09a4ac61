// The manager panel: sign-in with a token, the chat list (tabs, search, awaiting, order,
// auto-refresh) and one transcript (live, reply keys, assign, not found), under its strict CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, adminLogin, adminMessages, seedChat, visitorSays,
  managerSays, admin, clockPast, trackRequests,
} from './helpers.mjs';

let server, browser;
const chats = {};

before(async () => {
  server = await startShopchat();
  browser = await launchBrowser();
  // Oldest first; each one is touched after the one before (the clock has moved past the
  // last write), so the list order is known.
  chats.ivan = await seedChat(server, { userName: 'Ivan Petrenko', userPhone: '+380 67 555 12 34', messages: ['Where is my order?'] });
  await clockPast(chats.ivan.updatedAt);
  chats.maria = await seedChat(server, { userName: 'Maria Lopez', userPhone: '+34 600 11 22 33', messages: ['Hola, do you ship to Spain?'] });
  await clockPast((await managerSays(server, chats.maria.id, 'Yes, in 5 days.')).createdAt);
  chats.done = await seedChat(server, { userName: 'Done Deal', messages: ['Thanks, all good'] });
  const closed = await admin(server, 'POST', `/api/chat/sessions/${chats.done.id}/close`, {});
  await clockPast(closed.json.session.updatedAt);
  chats.anon = await seedChat(server, { messages: ['Is anyone there?'] });
});
after(async () => { await browser?.close(); await server?.stop(); });

const rowIds = (page) => page.locator('.row').evaluateAll((els) => els.map((e) => e.dataset.id));

test('the panel asks for a token, remembers it, and logs out', async () => {
  const page = await newPage(browser);
  await page.goto(server.url + '/chat');
  await page.locator('#token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#token-err').waitFor({ state: 'visible' });
  assert.match(await page.locator('#token-err').textContent(), /not accepted/);
  assert.equal(await page.evaluate(() => localStorage.getItem('shopchat.managerToken')), null);

  await page.locator('#token').fill(server.token);
  await page.locator('#token').press('Enter');
  await page.locator('.list-view').waitFor();
  assert.equal(await page.locator('#who').textContent() !== '', true, 'the manager is named in the bar');
  await page.reload();
  await page.locator('.list-view').waitFor();
  assert.equal(await page.locator('#token').count(), 0, 'still signed in after a reload');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#token').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('shopchat.managerToken')), null);
  assertClean(page);
});

test('a token that stops working sends the manager back to sign in', async () => {
  const page = await newPage(browser);
  await page.addInitScript(() => localStorage.setItem('shopchat.managerToken', 'revoked-token'));
  await page.goto(server.url + '/chat/' + chats.ivan.id);
  await page.locator('#token').waitFor();
  assert.match(await page.locator('#token-err').textContent(), /sign in again/i);
  assertClean(page);
});

test('the list: status tabs, newest first, awaiting marks and count, search', async () => {
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.locator('.row').nth(2).waitFor();
  // Active, newest activity first
  assert.deepEqual(await rowIds(page), [chats.anon.id, chats.maria.id, chats.ivan.id]);
  assert.equal(await page.getByRole('button', { name: 'Active', exact: true }).getAttribute('aria-pressed'), 'true');
  const awaiting = await page.locator('.row.awaiting').evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual(awaiting, [chats.anon.id, chats.ivan.id]);
  assert.equal(await page.locator('.list-head .chip').textContent(), '2 awaiting reply');
  assert.match(await page.locator(`.row[data-id="${chats.anon.id}"] .name`).textContent(), /^Visitor /, 'a nameless visitor still has a label');
  assert.equal(await page.locator(`.row[data-id="${chats.maria.id}"] .preview`).textContent(), 'You: Yes, in 5 days.');
  assert.match(await page.title(), /^\(2\) Chats/);

  await page.getByRole('button', { name: 'Closed', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('.row').length === 1);
  assert.deepEqual(await rowIds(page), [chats.done.id]);
  assert.match(await page.locator('.row .pill').textContent(), /Closed/);
  assert.match(page.url(), /status=closed/, 'the tab is kept in the address');

  await page.getByRole('button', { name: 'Archived', exact: true }).click();
  await page.locator('.empty').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.row').count(), 0);

  await page.getByRole('button', { name: 'All', exact: true }).click();
  await page.waitForFunction(() => document.querySelectorAll('.row').length === 4);
  assert.deepEqual(await rowIds(page), [chats.anon.id, chats.done.id, chats.maria.id, chats.ivan.id]);

  await page.locator('.search').fill('maria');
  await page.waitForFunction(() => document.querySelectorAll('.row').length === 1);
  assert.deepEqual(await rowIds(page), [chats.maria.id]);
  await page.locator('.search').fill('+380 67 555');
  await page.waitForFunction((id) => document.querySelectorAll('.row').length === 1 && document.querySelector('.row').dataset.id === id, chats.ivan.id);
  await page.locator('.search').fill('nobody-like-this');
  await page.locator('.empty').waitFor({ state: 'visible' });
  assert.match(await page.locator('.empty').textContent(), /No chats match/);
  await page.locator('.search').fill('');

  await page.getByRole('button', { name: 'Active', exact: true }).click();
  await page.locator('.list-head .chip').click(); // only the ones awaiting a reply
  await page.waitForFunction(() => document.querySelectorAll('.row').length === 2);
  assert.deepEqual(await rowIds(page), [chats.anon.id, chats.ivan.id]);
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('.row').length === 2);
  assert.equal(await page.locator('.list-head .chip').getAttribute('aria-pressed'), 'true', 'filters survive a reload');
  assertClean(page);
});

test('the list refreshes by itself', async () => {
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.locator('.row').first().waitFor();
  const fresh = await seedChat(server, { userName: 'Newcomer', messages: ['Just arrived'] });
  await page.locator(`.row[data-id="${fresh.id}"]`).waitFor({ timeout: 7000 });
  assert.equal((await rowIds(page))[0], fresh.id, 'the newest chat goes on top');
  await managerSays(server, fresh.id, 'Welcome!');
  await page.waitForFunction((id) => !document.querySelector(`.row[data-id="${id}"]`).classList.contains('awaiting'), fresh.id, { timeout: 7000 });
  assertClean(page);
});

test('the transcript: live visitor messages, reply keys, assign and unassign', async () => {
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.goto(server.url + '/chat/' + chats.ivan.id);
  await page.locator('.transcript .msg').first().waitFor();
  assert.equal(await page.locator('.chat-head h1').textContent(), 'Ivan Petrenko');
  assert.equal(await page.locator('.chat-head .tel').getAttribute('href'), 'tel:+380675551234');
  assert.equal(await page.locator('#assign').inputValue(), '', 'unassigned at first');
  assert.match(await page.title(), /Ivan Petrenko/);

  await visitorSays(server, chats.ivan, 'Hello? Order #1042');
  await page.waitForFunction(() => [...document.querySelectorAll('.transcript .msg.user .text')].some((e) => e.textContent === 'Hello? Order #1042'), null, { timeout: 5000 });

  await page.locator('#reply').click();
  await page.keyboard.type('It left our warehouse today.');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('Tracking: 5900012345678');
  assert.equal(await page.locator('#reply').inputValue(), 'It left our warehouse today.\nTracking: 5900012345678');
  const feed = trackRequests(page, '/api/chat/feed?since=');
  const fetches = trackRequests(page, `/api/chat/sessions/${chats.ivan.id}/messages?since=`);
  await page.keyboard.press('Enter');
  await page.locator('.transcript .msg.manager[data-seq]').waitFor();
  // The feed has told the page of its own reply and the page has fetched it: nothing doubles.
  await feed.parked();
  await fetches.quiet();
  assert.deepEqual((await adminMessages(page)).map((m) => [m.sender, m.text]), [
    ['user', 'Where is my order?'],
    ['user', 'Hello? Order #1042'],
    ['manager', 'It left our warehouse today.\nTracking: 5900012345678'],
  ]);
  const stored = (await admin(server, 'GET', `/api/chat/sessions/${chats.ivan.id}`)).json;
  assert.equal(stored.messages.at(-1).messageText, 'It left our warehouse today.\nTracking: 5900012345678');

  const options = await page.locator('#assign option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(options, ['', 'alice']);
  await page.locator('#assign').selectOption('');
  await page.locator('.toast').filter({ hasText: 'Unassigned' }).waitFor();
  assert.equal((await admin(server, 'GET', `/api/chat/sessions/${chats.ivan.id}`)).json.session.managerId, null);
  await page.locator('#assign').selectOption('alice');
  await page.locator('.toast').filter({ hasText: 'Assigned to' }).waitFor();
  assert.equal((await admin(server, 'GET', `/api/chat/sessions/${chats.ivan.id}`)).json.session.managerId, 'alice');

  // a closed chat has no reply box; closing can be cancelled
  await page.getByRole('button', { name: 'Close chat' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.locator('.confirm').isVisible(), false);
  assert.equal((await admin(server, 'GET', `/api/chat/sessions/${chats.ivan.id}`)).json.session.status, 'active');
  assertClean(page);
});

test('a chat closed elsewhere shows as closed in an open transcript', async () => {
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.goto(server.url + '/chat/' + chats.maria.id);
  await page.locator('#reply').waitFor();
  await admin(server, 'POST', `/api/chat/sessions/${chats.maria.id}/close`, {});
  await page.locator('.closed-note').waitFor({ state: 'visible', timeout: 6000 });
  assert.equal(await page.locator('#reply').isVisible(), false);
  assertClean(page);
});

test('an unknown chat id shows "not found", and the back link works', async () => {
  const page = await newPage(browser);
  await adminLogin(page, server);
  for (const id of ['6f1c1a3e-0000-4000-8000-000000000000', 'not-a-uuid']) {
    await page.goto(server.url + '/chat/' + id);
    await page.getByRole('heading', { name: 'Chat not found' }).waitFor();
  }
  await page.getByRole('link', { name: '← All chats' }).click();
  await page.locator('.list-view').waitFor();
  assert.equal(new URL(page.url()).pathname, '/chat');
  assertClean(page);
});

test('the admin page has no inline script or style and is served with the CSP', async () => {
  const res = await fetch(server.url + '/chat');
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') || '';
  assert.match(csp, /script-src 'self'/);
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline <script>');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
  for (const asset of ['/assets/admin.js', '/assets/admin.css']) assert.equal((await fetch(server.url + asset)).status, 200, asset);
  assert.equal((await fetch(server.url + '/chat/some-id')).status, 200, '/chat/<id> serves the same page');
});
