// The admin panel for issue 9: reopen, a visitor's earlier chats, the assignee after a reply,
// no "Awaiting reply" on closed chats, Ukrainian, and times in the shop's time zone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, adminLogin, admin, call, managerSays,
} from './helpers.mjs';

let server, browser;
before(async () => { server = await startShopchat({ env: { CHAT_SESSION_RATE: '0' } }); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

async function visitorChat(body) {
  const r = await call(server, 'POST', '/api/public/chat/sessions', { key: server.key, body });
  assert.ok(r.status === 201, r.text);
  return r.json.session;
}

test('a closed chat is reopened from the panel', async () => {
  const s = await visitorChat({ userName: 'Reopen Me', messageText: 'One more question' });
  await admin(server, 'POST', `/api/chat/sessions/${s.id}/close`, {});
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.goto(`${server.url}/chat/${s.id}`);
  await page.locator('.closed-note').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Reopen chat' }).click();
  await page.locator('#reply').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.chat-title .pill').textContent(), 'Active');
  assert.equal((await admin(server, 'GET', `/api/chat/sessions/${s.id}`)).json.session.status, 'active');
  assertClean(page);
});

test('the panel lists the visitor\'s earlier chats', async () => {
  const first = await visitorChat({ userName: 'Returning Olena', messageText: 'Do you ship to Lviv?' });
  await admin(server, 'POST', `/api/chat/sessions/${first.id}/close`, {});
  const second = await visitorChat({ userSessionId: first.userSessionId, messageText: 'Back again: is the vase in stock?' });
  assert.equal(second.userName, 'Returning Olena', 'the new chat keeps the name');
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.goto(`${server.url}/chat/${second.id}`);
  const others = page.locator('.others');
  await others.waitFor({ state: 'visible' });
  assert.match(await others.textContent(), /This visitor’s other chats/);
  assert.match(await others.textContent(), /Do you ship to Lviv\?/);
  await others.locator('a.other').click();
  await page.waitForURL(`${server.url}/chat/${first.id}`);
  await page.locator('.transcript .msg').first().waitFor();
  assert.match(await page.locator('.others').textContent(), /Back again/);
  assertClean(page);
});

test('after a reply the panel shows who the chat is assigned to, without a reload', async () => {
  const s = await visitorChat({ userName: 'Assign By Reply', messageText: 'Hello?' });
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.goto(`${server.url}/chat/${s.id}`);
  await page.locator('.transcript .msg').first().waitFor();
  assert.equal(await page.locator('#assign').inputValue(), '');
  await page.locator('#reply').fill('Hello! How can I help?');
  await page.locator('#reply').press('Enter');
  await page.waitForFunction(() => document.querySelector('#assign').value === 'alice', null, { timeout: 5000 });
  assert.equal((await admin(server, 'GET', `/api/chat/sessions/${s.id}`)).json.session.managerId, 'alice');
  assertClean(page);
});

test('closed and archived chats do not wear the "Awaiting reply" mark', async () => {
  const s = await visitorChat({ userName: 'Left Waiting', messageText: 'Last word from the visitor' });
  await admin(server, 'POST', `/api/chat/sessions/${s.id}/close`, {});
  const page = await newPage(browser);
  await adminLogin(page, server);
  await page.goto(`${server.url}/chat?status=closed`);
  const row = page.locator(`.row[data-id="${s.id}"]`);
  await row.waitFor();
  assert.doesNotMatch(await row.getAttribute('class'), /\bawaiting\b/);
  assert.equal(await row.locator('.await-mark').count(), 0);
  assert.match(await row.textContent(), /Closed/);
  assertClean(page);
});

test('the panel speaks Ukrainian to a Ukrainian browser, and English on request', async () => {
  await visitorChat({ userName: 'Мовний Тест', messageText: 'Добрий день!' });
  const page = await newPage(browser, { locale: 'uk-UA' });
  await page.goto(server.url + '/chat');
  await page.getByRole('button', { name: 'Увійти' }).waitFor();
  await page.locator('#token').fill(server.token);
  await page.getByRole('button', { name: 'Увійти' }).click();
  await page.locator('.list-view').waitFor();
  // The count is drawn with the first page of the list, once it has loaded.
  await page.locator('.row').first().waitFor();
  assert.equal(await page.locator('.list-head h1').textContent(), 'Чати');
  assert.match(await page.locator('.list-head .chip').textContent(), /Чекають на відповідь: \d+/);
  assert.equal(await page.locator('.tab[data-status="closed"]').textContent(), 'Закриті');
  assert.equal(await page.locator('html').getAttribute('lang'), 'uk');
  await page.locator('.row').first().click();
  await page.locator('#reply').waitFor();
  assert.equal(await page.locator('#reply').getAttribute('placeholder'), 'Напишіть відповідь…');
  assert.equal(await page.getByRole('button', { name: 'Закрити чат' }).count(), 1);
  // Switched to English, and it stays so.
  await page.locator('#lang').selectOption('en');
  await page.getByRole('button', { name: 'Close chat' }).waitFor();
  await page.reload();
  await page.locator('#reply').waitFor();
  assert.equal(await page.locator('#reply').getAttribute('placeholder'), 'Write a reply…');
  assertClean(page);
});

test('the panel shows times in the shop\'s time zone', async () => {
  server.cli('settings', 'set', 'timezone', 'Asia/Tokyo');
  try {
    const s = await visitorChat({ userName: 'Tokyo Time', messageText: 'What time is it there?' });
    const m = await managerSays(server, s.id, 'Here it is Tokyo time.');
    const page = await newPage(browser, { timezoneId: 'America/New_York' });
    await adminLogin(page, server);
    await page.goto(`${server.url}/chat/${s.id}`);
    const time = page.locator(`.transcript .msg[data-seq="${m.seq}"] time`);
    await time.waitFor();
    const tokyo = new Date(m.createdAt).toLocaleTimeString('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    assert.equal(await time.textContent(), tokyo);
    assert.match(await time.getAttribute('title'), /Asia\/Tokyo/);
    assertClean(page);
  } finally {
    server.cli('settings', 'unset', 'timezone');
  }
});
