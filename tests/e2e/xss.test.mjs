// Chat text is shown as text, never parsed as HTML: in the widget, the chat list and the transcript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, startWidgetChat, widgetSend, widgetMessages,
  widgetStore, adminLogin, adminMessages, managerSays,
} from './helpers.mjs';

let server, browser;
before(async () => { server = await startShopchat(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const PAYLOAD = '<img src=x onerror=alert(1)>';
const PAYLOAD2 = '<b id="bold">bold?</b> <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned=2">';

test('HTML in messages and names is shown as text everywhere, and runs nothing', async () => {
  const visitor = await newPage(browser);
  await visitor.goto(server.url + '/');
  await startWidgetChat(visitor, { name: '<i>Eve</i>', text: PAYLOAD });
  await widgetSend(visitor, PAYLOAD2);
  const { sessionId } = await widgetStore(visitor, server);

  const manager = await newPage(browser);
  await adminLogin(manager, server);
  const row = manager.locator(`.row[data-id="${sessionId}"]`);
  await row.waitFor();
  assert.equal(await row.locator('.name').textContent(), '<i>Eve</i>', 'the name is text in the list');
  assert.match(await row.locator('.preview').textContent(), /<b id="bold">bold\?<\/b>/, 'the preview is text');
  await row.click();
  await manager.locator('.transcript .msg.user >> nth=1').waitFor();
  assert.deepEqual((await adminMessages(manager)).map((m) => m.text), [PAYLOAD, PAYLOAD2]);
  assert.equal(await manager.locator('.chat-head h1').textContent(), '<i>Eve</i>');

  await managerSays(server, sessionId, 'Reply with ' + PAYLOAD);
  await visitor.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelector('.msg.manager'));
  await manager.locator('.transcript .msg.manager').waitFor();
  assert.deepEqual((await widgetMessages(visitor)).map((m) => m.text), [PAYLOAD, PAYLOAD2, 'Reply with ' + PAYLOAD]);
  assert.equal((await adminMessages(manager)).at(-1).text, 'Reply with ' + PAYLOAD);

  await visitor.waitForTimeout(500); // give a broken onerror handler time to fire
  for (const page of [visitor, manager]) {
    const found = await page.evaluate(() => {
      const roots = [document, document.querySelector('shopchat-widget')?.shadowRoot].filter(Boolean);
      return {
        imgs: roots.reduce((n, r) => n + r.querySelectorAll('.msg img, .row img, h1 img').length, 0),
        bold: roots.reduce((n, r) => n + r.querySelectorAll('#bold, i').length, 0),
        pwned: window.__pwned ?? null,
      };
    });
    assert.deepEqual(found, { imgs: 0, bold: 0, pwned: null }, 'no element was made from chat text');
    assertClean(page); // includes: no alert() dialog
  }
});
