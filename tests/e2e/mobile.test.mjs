// A 360 px wide phone: the widget becomes full-screen, and nothing needs sideways scrolling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, startWidgetChat, widgetSend, widgetStore,
  managerSays, seedChat, W,
} from './helpers.mjs';

let server, browser;
before(async () => { server = await startShopchat(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const noSideScroll = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test('at 360 px the widget is full-width and usable', async () => {
  const page = await newPage(browser, PHONE);
  await page.goto(server.url + '/');
  assert.ok(await noSideScroll(page), 'the demo page fits the phone');
  const lb = await page.locator(W.launcher).boundingBox();
  assert.ok(lb.x >= 0 && lb.x + lb.width <= 360 && lb.y + lb.height <= 740, 'the chat button is on screen');

  await page.locator(W.launcher).tap();
  const pb = await page.locator(W.panel).boundingBox();
  assert.deepEqual([pb.x, pb.y, pb.width, pb.height], [0, 0, 360, 740], 'the panel fills the screen');
  for (const sel of [W.input, 'shopchat-widget .send', W.close]) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 360, `${sel} fits the width`);
  }
  const fontSize = await page.locator(W.input).evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(fontSize >= 16, 'inputs are at least 16px so phones do not zoom in');

  await widgetSend(page, 'Writing from my phone, a fairly long message that has to wrap over several lines without overflowing.');
  await page.locator(W.ask).waitFor({ state: 'visible' });
  for (const sel of [W.name, W.phone, W.saveContact]) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 360, `${sel} fits the width`);
  }
  assert.ok(await page.locator(W.name).evaluate((el) => parseFloat(getComputedStyle(el).fontSize)) >= 16);
  await page.locator(W.name).fill('Mobile Visitor');
  await page.locator(W.saveContact).tap();
  await page.locator(W.ask).waitFor({ state: 'hidden' });
  const { sessionId } = await widgetStore(page, server);
  await managerSays(server, sessionId, 'Got it!');
  await page.locator(`${W.msg}.manager`).waitFor({ timeout: 5000 });
  const ib = await page.locator(W.input).boundingBox();
  assert.ok(ib.y + ib.height <= 740 && ib.x + ib.width <= 360, 'the send box is on screen');
  const widest = await page.evaluate(() => Math.max(...[...document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.msg')]
    .map((el) => el.getBoundingClientRect().right)));
  assert.ok(widest <= 360, 'messages wrap inside the screen');

  await page.locator(W.close).tap();
  assert.equal(await page.locator(W.panel).isVisible(), false, 'the close button closes the full-screen panel');
  assert.ok(await page.locator(W.launcher).isVisible());
  assertClean(page);
});

test('at 360 px the admin list and transcript fit the phone', async () => {
  const s = await seedChat(server, { userName: 'Phone Visitor', userPhone: '+380 63 000 11 22', messages: ['Hi from a phone'] });
  await managerSays(server, s.id, 'Hello! How can I help?');
  const page = await newPage(browser, PHONE);
  await page.addInitScript((t) => localStorage.setItem('shopchat.managerToken', t), server.token);
  await page.goto(server.url + '/chat');
  await page.locator('.row').first().waitFor();
  assert.ok(await noSideScroll(page), 'the list fits');
  await page.locator('.row').first().tap();
  await page.locator('.transcript .msg').first().waitFor();
  assert.ok(await noSideScroll(page), 'the transcript fits');
  for (const sel of ['#reply', '.reply .btn', '#assign', '.actions .btn.danger']) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b && b.x >= 0 && b.x + b.width <= 360, `${sel} fits the width`);
  }
  await page.locator('#reply').fill('Replying from a phone');
  await page.locator('.reply .btn').tap();
  await page.locator('.transcript .msg.manager[data-seq] >> nth=1').waitFor();
  assertClean(page);
});
