// Live chat, seen side by side: a visitor's page and a manager's page open at once. Replies
// arrive in milliseconds (long-polls), typing and seen show both ways, the panel's list and
// title follow changes without a reload, and another chat's news shows inside an open chat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, startWidgetChat, widgetStore, adminLogin,
  managerSays, visitorSays, call, W, trackRequests,
} from './helpers.mjs';

let server, browser;
before(async () => { server = await startShopchat({ env: { CHAT_SESSION_RATE: '0' } }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const inWidget = (page, fn, arg) => page.waitForFunction(fn, arg, { polling: 'raf', timeout: 10000 });

/** A visitor who has written, and a manager with that chat open. */
async function sideBySide(name, text) {
  const visitor = await newPage(browser);
  await visitor.goto(server.url + '/');
  await startWidgetChat(visitor, { text });
  const { sessionId, userSessionId } = await widgetStore(visitor, server);
  const manager = await newPage(browser);
  const feed = trackRequests(manager, '/api/chat/feed?since=');
  await adminLogin(manager, server);
  await manager.goto(server.url + '/chat/' + sessionId);
  await manager.locator('.transcript .msg.user').waitFor();
  await feed.parked(); // the panel follows the feed
  return { visitor, manager, sessionId, session: { id: sessionId, userSessionId }, name };
}

test('a manager\'s reply shows in the widget within 500 ms', async () => {
  const { visitor, manager } = await sideBySide('Olena', 'Де моє замовлення?');
  const polls = trackRequests(visitor, '/messages?since=');
  await visitor.keyboard.press('Escape'); // a fresh long-poll we can see waiting
  await visitor.locator(W.launcher).click();
  await polls.parked();
  for (const reply of ['Вже в дорозі!', 'ТТН 20450123456']) {
    await manager.locator('#reply').fill(reply);
    const t0 = Date.now();
    await manager.locator('#reply').press('Enter');
    await inWidget(visitor, (r) => [...document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.msg.manager .text')]
      .some((e) => e.textContent === r), reply);
    const took = Date.now() - t0;
    assert.ok(took < 500, `the reply took ${took} ms to show`);
  }
  assertClean(visitor);
  assertClean(manager);
});

test('typing shows on both sides, and stops', async () => {
  const { visitor, manager } = await sideBySide('Taras', 'Є розмір M?');
  await manager.locator('#reply').pressSequentially('Так, є');
  await inWidget(visitor, () => !document.querySelector('shopchat-widget').shadowRoot.querySelector('.typing').hidden);
  assert.match(await visitor.locator('shopchat-widget .typing').textContent(), /typing…/);
  await manager.locator('#reply').press('Enter'); // sending ends it
  await inWidget(visitor, () => document.querySelector('shopchat-widget').shadowRoot.querySelector('.typing').hidden);

  await visitor.locator(W.input).pressSequentially('Дякую, а колір');
  await manager.locator('.typing-note.live:not([hidden])').waitFor({ timeout: 10000 });
  assert.match(await manager.locator('.typing-note.live').textContent(), /is typing…/);
  await visitor.locator(W.input).press('Enter');
  await manager.locator('.typing-note.live').waitFor({ state: 'hidden', timeout: 10000 });
  assertClean(visitor);
  assertClean(manager);
});

test('seen shows on both sides', async () => {
  const { visitor, manager } = await sideBySide('Iryna', 'Доброго дня!');
  // The manager has the chat open and visible: the visitor's message is marked seen.
  await inWidget(visitor, () => document.querySelector('shopchat-widget').shadowRoot.querySelector('.msg.user.seen .tick'));
  assert.match(await visitor.locator('shopchat-widget .msg.user .tick').textContent(), /Seen/);
  // The visitor has the widget open: the manager's reply is marked seen in the panel.
  await manager.locator('#reply').fill('Вітаю! Чим допомогти?');
  await manager.locator('#reply').press('Enter');
  await manager.locator('.transcript .msg.manager.seen .tick').waitFor({ timeout: 10000 });
  assert.match(await manager.locator('.transcript .msg.manager .tick').textContent(), /Seen/);
  assertClean(visitor);
  assertClean(manager);
});

test('the list gets a new chat, its unread badge and the title count without a reload', async () => {
  const manager = await newPage(browser);
  await adminLogin(manager, server);
  // The title's count is set with the first list (and its awaiting count).
  await manager.waitForFunction(() => /\d/.test(document.querySelector('.list-head .chip')?.textContent || ''));
  const before = await manager.title();
  const n = Number((before.match(/^\((\d+)\)/) || [0, 0])[1]);
  const s = (await call(server, 'POST', '/api/public/chat/sessions', { key: server.key, body: { userName: 'Newcomer', messageText: 'Is anyone there?' } })).json.session;
  const row = manager.locator(`.row[data-id="${s.id}"]`);
  await row.waitFor({ timeout: 5000 });
  assert.match(await row.textContent(), /Is anyone there\?/);
  assert.equal(await row.locator('.unread').textContent(), '1');
  await manager.waitForFunction((want) => document.title.startsWith(`(${want}) `), n + 1);
  await visitorSays(server, s, 'Hello?');
  await manager.waitForFunction(() => document.querySelector('.row .unread')?.textContent === '2');
  assertClean(manager);
});

test('inside a chat, another chat\'s new message shows a marker and counts in the title', async () => {
  const { manager } = await sideBySide('Open one', 'first chat');
  const other = (await call(server, 'POST', '/api/public/chat/sessions', { key: server.key, body: { userName: 'Other visitor' } })).json.session;
  const t0 = await manager.title();
  await visitorSays(server, other, 'Urgent: where is my order?');
  const marker = manager.locator('.marker');
  await marker.waitFor({ timeout: 5000 });
  assert.match(await marker.textContent(), /New message from Other visitor: Urgent: where is my order\?/);
  assert.equal(await marker.getAttribute('href'), '/chat/' + other.id);
  await manager.waitForFunction((was) => document.title !== was && /^\(\d+\) /.test(document.title), t0);
  await marker.click();
  await manager.waitForURL(server.url + '/chat/' + other.id);
  await manager.locator('.transcript .msg.user').waitFor();
  assertClean(manager);
});

test('opt-in alerts: a desktop notification for another chat\'s message', async () => {
  const { manager } = await sideBySide('Alert me', 'chat one');
  await manager.evaluate(() => {
    window.__shown = [];
    window.Notification = class { constructor(title, o) { window.__shown.push({ title, body: o.body }); } static permission = 'granted'; static requestPermission() { return Promise.resolve('granted'); } };
  });
  await manager.locator('#alerts').click();
  assert.equal(await manager.locator('#alerts').getAttribute('aria-pressed'), 'true');
  const other = (await call(server, 'POST', '/api/public/chat/sessions', { key: server.key, body: { userName: 'Ping' } })).json.session;
  await visitorSays(server, other, 'Are you open today?');
  await manager.waitForFunction(() => window.__shown.length > 0);
  assert.deepEqual(await manager.evaluate(() => window.__shown), [{ title: 'New chat: Ping', body: 'Are you open today?' }]);
  await manager.locator('#alerts').click();
  assert.equal(await manager.locator('#alerts').getAttribute('aria-pressed'), 'false');
  assertClean(manager);
});

test('links in messages are clickable, safely, and only http(s)', async () => {
  const { visitor, sessionId } = await sideBySide('Links', 'track?');
  await managerSays(server, sessionId, 'Track it at https://novaposhta.ua/tracking/?cargo_number=20450123456. Or javascript:alert(1)');
  const link = visitor.locator('shopchat-widget .msg.manager .text a');
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), 'https://novaposhta.ua/tracking/?cargo_number=20450123456');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await visitor.locator('shopchat-widget .msg.manager .text a').count(), 1, 'javascript: stays text');
  assert.equal(await visitor.locator('shopchat-widget .msg.manager .text').textContent(),
    'Track it at https://novaposhta.ua/tracking/?cargo_number=20450123456. Or javascript:alert(1)');
  assertClean(visitor);
});
