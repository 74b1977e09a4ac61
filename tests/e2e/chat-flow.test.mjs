// The whole conversation a shop lives on: a visitor writes from the demo page, a manager
// answers from /chat, the visitor sees it live, reloads, the manager closes, a new chat starts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, openWidget, startWidgetChat, widgetSend,
  widgetMessages, widgetStore, adminLogin, adminMessages, admin, W, trackRequests,
} from './helpers.mjs';

let server, browser, visitor, manager;

before(async () => {
  server = await startShopchat();
  browser = await launchBrowser();
  visitor = await newPage(browser);
  manager = await newPage(browser);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a visitor and a manager talk from start to a new chat', async (t) => {
  let sessionId;

  await t.test('the demo page embeds the widget with a working key', async () => {
    await visitor.goto(server.url + '/');
    const html = await visitor.content();
    assert.ok(!html.includes('{{API_KEY}}') && !html.includes('{{BASE_URL}}'), 'placeholders are replaced');
    assert.ok(html.includes(server.url + '/widget.js'), 'the embed snippet shows this server\'s address');
    await visitor.locator(W.launcher).waitFor();
    assert.equal(await visitor.locator(W.launcher).getAttribute('aria-expanded'), 'false');
    assert.equal(await visitor.locator(W.panel).isVisible(), false);
  });

  await t.test('the visitor opens the widget and writes at once, then leaves name and phone', async () => {
    await visitor.locator(W.launcher).click();
    assert.equal(await visitor.locator(W.launcher).getAttribute('aria-expanded'), 'true');
    await visitor.locator(W.input).waitFor({ state: 'visible' });
    assert.equal(await visitor.evaluate(() => document.querySelector('shopchat-widget').shadowRoot.activeElement?.tagName), 'TEXTAREA', 'focus moves into the message box');
    assert.equal(await visitor.locator(W.ask).isVisible(), false, 'no form before the first message');
    await startWidgetChat(visitor, { name: 'Olena Kovalenko', phone: '+380 67 123 45 67', text: 'Hello! Do you ship the teal mug to Lviv?' });
    const msgs = await widgetMessages(visitor);
    assert.deepEqual(msgs.map((m) => [m.sender, m.text, m.state]), [['user', 'Hello! Do you ship the teal mug to Lviv?', 'sent']]);
    const stored = await widgetStore(visitor, server);
    assert.ok(stored.sessionId && stored.userSessionId, 'sessionId and userSessionId are kept in localStorage');
    sessionId = stored.sessionId;
    assert.match(await visitor.locator(`${W.msg} time`).first().textContent(), /\d{1,2}:\d{2}/, 'a message shows its time');
  });

  await t.test('the manager signs in and sees the chat awaiting a reply', async () => {
    await adminLogin(manager, server);
    const row = manager.locator(`.row[data-id="${sessionId}"]`);
    await row.waitFor();
    assert.match(await row.getAttribute('class'), /\bawaiting\b/);
    assert.match(await row.textContent(), /Awaiting reply/);
    assert.match(await row.textContent(), /Olena Kovalenko/);
    assert.match(await row.textContent(), /\+380 67 123 45 67/);
    assert.match(await row.textContent(), /Do you ship the teal mug/);
    assert.match(await manager.locator('.list-head .chip').textContent(), /^1 awaiting reply$/);
  });

  await t.test('the manager opens the chat and replies', async () => {
    await manager.locator(`.row[data-id="${sessionId}"]`).click();
    await manager.waitForURL(server.url + '/chat/' + sessionId);
    await manager.locator('.transcript .msg.user').waitFor();
    assert.equal(await manager.locator('.chat-head h1').textContent(), 'Olena Kovalenko');
    assert.match(await manager.locator('.chat-head .sub').textContent(), /\+380 67 123 45 67/);
    assert.deepEqual((await adminMessages(manager)).map((m) => [m.sender, m.text]), [['user', 'Hello! Do you ship the teal mug to Lviv?']]);
    await manager.locator('#reply').fill('Yes, Nova Poshta delivers it in 1-2 days.');
    await manager.locator('#reply').press('Enter');
    await manager.locator('.transcript .msg.manager[data-seq]').waitFor();
    assert.equal(await manager.locator('#reply').inputValue(), '', 'the reply box is emptied');
  });

  await t.test('the visitor sees the reply within 5 s without reloading', async () => {
    const t0 = Date.now();
    await visitor.waitForFunction(() => [...document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.msg.manager .text')]
      .some((e) => e.textContent === 'Yes, Nova Poshta delivers it in 1-2 days.'), null, { timeout: 5000 });
    assert.ok(Date.now() - t0 < 5000);
    const msgs = await widgetMessages(visitor);
    assert.deepEqual(msgs.map((m) => [m.sender, m.text]), [
      ['user', 'Hello! Do you ship the teal mug to Lviv?'],
      ['manager', 'Yes, Nova Poshta delivers it in 1-2 days.'],
    ]);
    assert.equal(await visitor.locator(W.badge).isVisible(), false, 'no unread badge while the panel is open');
  });

  await t.test('the list shows the chat as answered', async () => {
    await manager.getByRole('link', { name: '← All chats' }).click();
    const row = manager.locator(`.row[data-id="${sessionId}"]`);
    await row.waitFor();
    assert.doesNotMatch(await row.getAttribute('class'), /\bawaiting\b/);
    assert.match(await manager.locator('.list-head .chip').textContent(), /^0 awaiting reply$/);
    assert.match(await row.textContent(), /You: Yes, Nova Poshta/);
    await row.click();
    await manager.locator('.transcript .msg.manager').waitFor();
  });

  await t.test('after a reload the conversation is still there, once', async () => {
    const polls = trackRequests(visitor, '/messages?since=');
    await visitor.reload();
    await openWidget(visitor);
    await visitor.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.list .msg[data-seq]').length >= 2);
    await polls.parked(); // waiting on the server: every answer before has been applied
    const msgs = await widgetMessages(visitor);
    assert.deepEqual(msgs.map((m) => [m.sender, m.text]), [
      ['user', 'Hello! Do you ship the teal mug to Lviv?'],
      ['manager', 'Yes, Nova Poshta delivers it in 1-2 days.'],
    ]);
    assert.equal(await visitor.locator(W.ask).isVisible(), false, 'no contact form again for a continued chat');
  });

  await t.test('a reply while the panel is closed shows an unread badge', async () => {
    await visitor.locator(W.input).press('Escape');
    assert.equal(await visitor.locator(W.panel).isVisible(), false, 'Escape closes the panel');
    assert.equal(await visitor.evaluate(() => document.activeElement?.tagName), 'SHOPCHAT-WIDGET');
    assert.equal(await visitor.evaluate(() => document.querySelector('shopchat-widget').shadowRoot.activeElement?.className), 'launcher', 'focus returns to the chat button');
    await manager.locator('#reply').fill('Shall I reserve one for you?');
    await manager.locator('#reply').press('Enter');
    await manager.locator('.transcript .msg.manager[data-seq] >> nth=1').waitFor();
    await visitor.reload(); // a closed panel polls slowly; a new page asks at once
    await visitor.locator(W.badge).waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await visitor.locator(W.badge).textContent(), '1');
    assert.match(await visitor.locator(W.launcher).getAttribute('aria-label'), /1/);
    await visitor.locator(W.launcher).click();
    await visitor.locator(`${W.msg}.manager >> nth=1`).waitFor();
    assert.equal(await visitor.locator(W.badge).isVisible(), false, 'opening the panel reads the messages');
    await visitor.reload();
    // The reloaded page's first poll has put both replies back in the list (and counted
    // them as read or unread in the same step).
    await visitor.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.list .msg.manager[data-seq]').length >= 2);
    assert.equal(await visitor.locator(W.badge).isVisible(), false, 'read messages stay read after a reload');
  });

  await t.test('the manager assigns the chat and closes it', async () => {
    await manager.locator('#assign').selectOption('alice');
    await manager.locator('.toast').waitFor({ state: 'visible' });
    const r = await admin(server, 'GET', `/api/chat/sessions/${sessionId}`);
    assert.equal(r.json.session.managerId, 'alice');
    await manager.getByRole('button', { name: 'Close chat' }).click();
    await manager.locator('.confirm').waitFor();
    await manager.locator('.confirm .btn.danger').click();
    await manager.locator('.closed-note').waitFor({ state: 'visible' });
    assert.equal(await manager.locator('.chat-title .pill').textContent(), 'Closed');
    assert.equal(await manager.locator('#reply').isVisible(), false);
    assert.equal((await admin(server, 'GET', `/api/chat/sessions/${sessionId}`)).json.session.status, 'closed');
  });

  await t.test('the widget shows the chat as closed within 5 s', async () => {
    await openWidget(visitor);
    await visitor.locator(W.closed).waitFor({ state: 'visible', timeout: 5000 });
    assert.match(await visitor.locator(W.closed).textContent(), /closed/i);
    assert.equal(await visitor.locator(W.input).isVisible(), false, 'no send box in a closed chat');
  });

  await t.test('"start a new chat": the same visitor, a new chat, their name prefilled', async () => {
    const before = await widgetStore(visitor, server);
    await visitor.locator(W.newChat).click();
    await visitor.locator(W.input).waitFor({ state: 'visible' });
    const cleared = await widgetStore(visitor, server);
    assert.equal(cleared.sessionId, undefined, 'the old chat is forgotten');
    assert.equal(cleared.userSessionId, before.userSessionId, 'the visitor is not');
    assert.equal((await widgetMessages(visitor)).length, 0);
    await widgetSend(visitor, 'One more question about the vase');
    const stored = await widgetStore(visitor, server);
    assert.ok(stored.sessionId && stored.sessionId !== sessionId, 'a different session');
    assert.deepEqual((await widgetMessages(visitor)).map((m) => m.text), ['One more question about the vase']);
    await visitor.locator(W.ask).waitFor({ state: 'visible' });
    assert.equal(await visitor.locator(W.name).inputValue(), 'Olena Kovalenko', 'a returning visitor sees their name prefilled');
    assert.equal(await visitor.locator(W.phone).inputValue(), '+380 67 123 45 67');
    await visitor.locator(W.later).click();
    await visitor.locator(W.ask).waitFor({ state: 'hidden' });

    await manager.goto(server.url + '/chat');
    const row = manager.locator(`.row[data-id="${stored.sessionId}"]`);
    await row.waitFor();
    assert.match(await row.getAttribute('class'), /\bawaiting\b/);
    assert.equal(await manager.locator(`.row[data-id="${sessionId}"]`).count(), 0, 'the closed chat is not under Active');
    await manager.getByRole('button', { name: 'Closed', exact: true }).click();
    await manager.locator(`.row[data-id="${sessionId}"]`).waitFor();
    assert.equal(await manager.locator(`.row[data-id="${stored.sessionId}"]`).count(), 0);
  });

  assertClean(visitor);
  assertClean(manager);
});
