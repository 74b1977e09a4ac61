// No visitor lost, seen from the browser: outside the hours the widget says when the shop
// answers and takes an email; every text in four languages and overridable by the shop; the
// link of a follow-up email opens the chat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, openWidget, widgetSend, widgetMessages,
  widgetStore, admin, call, startPageServer, W,
} from './helpers.mjs';

let server, browser;
before(async () => { server = await startShopchat({ env: { CHAT_SESSION_RATE: '0' } }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** Hours surely closed now: one minute, two days from today in Kyiv (the
 * shop's zone in these tests; after 22:00 UTC Kyiv is already a day ahead). */
function closedHours() {
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const today = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Kyiv', weekday: 'short' }).format(new Date()).toLowerCase();
  const day = days[(days.indexOf(today) + 2) % 7];
  return `${day} 09:00-09:01`;
}

test('outside the hours the widget says when the shop answers, and takes an email', async () => {
  server.cli('settings', 'set', 'timezone', 'Europe/Kyiv');
  server.cli('settings', 'set', 'hours', closedHours());
  try {
    const page = await newPage(browser);
    await page.goto(server.url + '/');
    await openWidget(page);
    await page.waitForFunction(() => /We answer on \w+ from 9:00/.test(document.querySelector('shopchat-widget').shadowRoot.querySelector('.head .sub').textContent));
    assert.equal(await page.locator(W.ask).isVisible(), false);
    await widgetSend(page, 'Is anyone there at night?');
    // The shop's auto-reply, once, and the widget asks where to answer.
    await page.locator(`${W.msg}.manager`).waitFor({ timeout: 10000 });
    const msgs = await widgetMessages(page);
    assert.equal(msgs.filter((m) => m.sender === 'manager').length, 1);
    assert.match(msgs.find((m) => m.sender === 'manager').text, /Leave your email/);
    await page.locator(W.away).waitFor({ state: 'visible' });
    assert.match(await page.locator(W.away).textContent(), /Leave your email \(or phone\) and we will reply there/);
    await page.locator(W.email).fill('not an email');
    await page.locator(W.saveEmail).click();
    await page.locator('shopchat-widget #sc-email-err').waitFor({ state: 'visible' });
    await page.locator(W.email).fill('olena@example.com');
    await page.locator(W.saveEmail).click();
    await page.locator(W.away).waitFor({ state: 'hidden' });
    // Then name and phone, which wait while nobody can answer.
    await page.locator(W.ask).waitFor({ state: 'visible' });
    const { sessionId } = await widgetStore(page, server);
    const s = (await admin(server, 'GET', `/api/chat/sessions/${sessionId}`)).json.session;
    assert.equal(s.userEmail, 'olena@example.com');
    await page.screenshot({ path: process.env.SHOT_DIR ? `${process.env.SHOT_DIR}/widget-away.png` : '/dev/null' }).catch(() => {});
    assertClean(page);
  } finally {
    server.cli('settings', 'unset', 'hours');
    server.cli('settings', 'unset', 'timezone');
  }
});

test('inside the hours the widget says it is online', async () => {
  server.cli('settings', 'set', 'hours', 'daily 00:00-24:00');
  try {
    const page = await newPage(browser);
    await page.goto(server.url + '/');
    await openWidget(page);
    await page.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelector('.head .sub').textContent === 'Online · We usually reply within minutes');
    assertClean(page);
  } finally {
    server.cli('settings', 'unset', 'hours');
  }
});

test('a shop that wants name and phone first gets them with the first message', async () => {
  server.cli('settings', 'set', 'contact-first', 'yes');
  try {
    const page = await newPage(browser);
    const creates = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/public/chat/sessions')) creates.push(r); });
    await page.goto(server.url + '/');
    await openWidget(page);
    await page.locator(W.ask).waitFor({ state: 'visible' });
    assert.match(await page.locator(W.ask).textContent(), /Your name and phone, so we can call you back/);
    assert.equal(await page.locator(W.saveContact).isVisible(), false, 'no separate Save: they go with the message');
    await page.locator(W.phone).fill('not a phone');
    await page.locator(W.input).fill('Hello');
    await page.locator(W.input).press('Enter');
    await page.locator('shopchat-widget #sc-phone-err').waitFor({ state: 'visible' });
    assert.equal(creates.length, 0, 'nothing is sent while a field is wrong');
    await page.locator(W.phone).fill('+380 50 111 22 33');
    await page.locator(W.name).fill('Oksana');
    await widgetSend(page, 'Hello');
    assert.deepEqual(JSON.parse(creates[0].postData()).userName, 'Oksana');
    await page.locator(W.ask).waitFor({ state: 'hidden' });
    const { sessionId } = await widgetStore(page, server);
    const s = (await admin(server, 'GET', `/api/chat/sessions/${sessionId}`)).json.session;
    assert.deepEqual([s.userName, s.userPhone], ['Oksana', '+380 50 111 22 33']);
    assertClean(page);
  } finally {
    server.cli('settings', 'unset', 'contact-first');
  }
});

test('the widget speaks Russian and Polish too, and the shop can change any text', async () => {
  const shop = await startPageServer((req) => {
    const lang = req.url.slice(1) || 'ru';
    const extra = lang === 'pl' ? ' data-text-placeholder="Zapytaj o rozmiar…" data-text-new-chat="Nowa rozmowa"' : '';
    return `<!doctype html><html><body><h1>Shop</h1>
<script src="${server.url}/widget.js" data-api-key="${server.key}" data-lang="${lang}"${extra} defer></script></body></html>`;
  });
  try {
    const ru = await newPage(browser);
    await ru.goto(shop.url + '/ru');
    await openWidget(ru);
    assert.equal(await ru.locator('shopchat-widget .title').textContent(), 'Напишите нам');
    assert.equal(await ru.locator(W.input).getAttribute('placeholder'), 'Напишите сообщение…');
    const pl = await newPage(browser);
    await pl.goto(shop.url + '/pl');
    await openWidget(pl);
    assert.equal(await pl.locator('shopchat-widget .title').textContent(), 'Napisz do nas');
    assert.equal(await pl.locator(W.input).getAttribute('placeholder'), 'Zapytaj o rozmiar…', 'data-text-placeholder');
    await widgetSend(pl, 'Dzień dobry');
    await pl.locator(W.ask).waitFor({ state: 'visible' });
    assert.match(await pl.locator(W.ask).textContent(), /Zostaw imię i telefon/);
    const { sessionId } = await widgetStore(pl, server);
    await admin(server, 'POST', `/api/chat/sessions/${sessionId}/close`, {});
    await pl.locator(W.newChat).waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await pl.locator(W.newChat).textContent(), 'Nowa rozmowa', 'data-text-new-chat');
    assertClean(ru);
    assertClean(pl);
  } finally {
    await shop.stop();
  }
});

test('the link in a follow-up email opens the chat in a browser that never saw it', async () => {
  const r = await call(server, 'POST', '/api/public/chat/sessions', { key: server.key, body: { userName: 'Olena', messageText: 'Do you have it in blue?' } });
  const s = r.json.session;
  await admin(server, 'POST', `/api/chat/sessions/${s.id}/messages`, { messageText: 'Yes, in blue and green.' });
  const page = await newPage(browser);
  await page.goto(`${server.url}/#shopchat=${s.id}.${s.userSessionId}`);
  await page.locator(W.panel).waitFor({ state: 'visible' });
  await page.locator(`${W.msg}.manager`).waitFor({ timeout: 10000 });
  assert.deepEqual((await widgetMessages(page)).map((m) => m.text), ['Do you have it in blue?', 'Yes, in blue and green.']);
  assert.equal(new URL(page.url()).hash, '', 'the secret leaves the address bar');
  assert.equal((await widgetStore(page, server)).sessionId, s.id);
  assertClean(page);
});
