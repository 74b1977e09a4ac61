// The widget on someone else's site, from another origin, under CSS that styles every element.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startShopchat, launchBrowser, newPage, assertClean, startPageServer, startWidgetChat, widgetSend,
  widgetMessages, managerSays, W,
} from './helpers.mjs';

let server, browser, shop;

const HOSTILE_CSS = `
  html { font-size: 40px; }
  * { font-family: "Comic Sans MS", cursive !important; color: red !important; letter-spacing: 4px !important;
      line-height: 3 !important; text-transform: uppercase !important; box-sizing: content-box !important; }
  body { direction: rtl; white-space: nowrap; text-align: right; margin: 0; }
  body > * { transform: translateX(30px); opacity: .5; }
  div, section, form, ol, li, p, span, label, header, footer { display: block !important; padding: 40px !important;
      margin: 20px !important; border: 6px dashed lime !important; background: yellow !important; float: left !important;
      width: 200px !important; position: relative !important; z-index: 1 !important; overflow: visible !important; }
  button, input, textarea { all: unset; display: none !important; width: 3px !important; height: 3px !important; }
  svg { width: 400px !important; height: 400px !important; }
  [hidden] { display: block !important; }
`;

before(async () => {
  server = await startShopchat();
  browser = await launchBrowser();
  shop = await startPageServer((req) => `<!doctype html><html><head><meta charset="utf-8"><title>Hostile shop</title>
<style>${HOSTILE_CSS}</style></head><body>
<div class="content"><p class="probe">Our products</p><button class="shop-btn" type="button">Buy</button></div>
<script src="${server.url}/widget.js" data-api-key="${server.key}" ${req.url.includes('uk') ? 'data-lang="uk" data-position="left" data-accent="#ffd400" data-title="Крамниця"' : ''} defer></script>
</body></html>`);
});
after(async () => { await browser?.close(); await shop?.stop(); await server?.stop(); });

test('the widget keeps its look and works under CSS that styles every div and button', async () => {
  const page = await newPage(browser);
  await page.goto(shop.url + '/');
  const launcher = page.locator(W.launcher);
  await launcher.waitFor();
  const lb = await launcher.boundingBox();
  assert.ok(lb.width >= 56 && lb.width <= 64 && lb.height >= 56 && lb.height <= 64, `the chat button keeps its size: ${JSON.stringify(lb)}`);
  assert.ok(lb.x + lb.width > 1280 - 40 && lb.y + lb.height > 800 - 40, 'the chat button sits in the bottom-right corner');

  await launcher.click();
  const pb = await page.locator(W.panel).boundingBox();
  assert.ok(pb.width >= 340 && pb.width <= 400 && pb.height > 300, `the panel keeps its size: ${JSON.stringify(pb)}`);
  const look = await page.locator(W.input).evaluate((el) => {
    const cs = getComputedStyle(el);
    return { display: cs.display, font: cs.fontFamily, color: cs.color, transform: cs.textTransform, spacing: cs.letterSpacing };
  });
  assert.notEqual(look.display, 'none');
  assert.doesNotMatch(look.font, /Comic/);
  assert.notEqual(look.color, 'rgb(255, 0, 0)');
  assert.equal(look.transform, 'none');
  assert.equal(look.spacing, 'normal');

  await startWidgetChat(page, { name: 'Cross Origin', phone: '+1 (555) 010-0199', text: 'Works across origins?' });
  const sessionId = await page.evaluate((k) => JSON.parse(localStorage.getItem(k)).sessionId, 'shopchat:' + server.url);
  await managerSays(server, sessionId, 'It does.');
  await page.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelector('.msg.manager'), null, { timeout: 5000 });
  assert.deepEqual((await widgetMessages(page)).map((m) => [m.sender, m.text, m.state]), [['user', 'Works across origins?', 'sent'], ['manager', 'It does.', 'sent']]);
  const bubble = await page.locator(`${W.msg}.manager .bubble`).evaluate((el) => {
    const cs = getComputedStyle(el);
    return { border: cs.borderTopStyle, bg: cs.backgroundColor, font: cs.fontFamily };
  });
  assert.notEqual(bubble.border, 'dashed');
  assert.notEqual(bubble.bg, 'rgb(255, 255, 0)');
  assert.doesNotMatch(bubble.font, /Comic/);

  // ...and the widget changed nothing of the shop's own look.
  const shopLook = await page.evaluate(() => {
    const p = getComputedStyle(document.querySelector('.probe'));
    const b = getComputedStyle(document.querySelector('.shop-btn'));
    return { pColor: p.color, pBorder: p.borderTopStyle, btn: b.display, sheets: document.styleSheets.length };
  });
  assert.deepEqual(shopLook, { pColor: 'rgb(255, 0, 0)', pBorder: 'dashed', btn: 'none', sheets: 1 });
  assertClean(page);
});

test('data-lang, data-position, data-title and data-accent are honoured', async () => {
  const page = await newPage(browser);
  await page.goto(shop.url + '/uk');
  const launcher = page.locator(W.launcher);
  await launcher.waitFor();
  assert.equal(await launcher.getAttribute('aria-label'), 'Відкрити чат');
  const lb = await launcher.boundingBox();
  assert.ok(lb.x < 40, 'data-position=left puts the button on the left');
  await launcher.click();
  assert.equal(await page.locator('shopchat-widget .title').textContent(), 'Крамниця');
  assert.equal(await page.locator(W.input).getAttribute('placeholder'), 'Напишіть повідомлення…');
  const colours = await page.locator('shopchat-widget .send').evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
  assert.deepEqual(colours, ['rgb(255, 212, 0)', 'rgb(17, 17, 17)'], 'a light accent gets dark text');
  const pb = await page.locator(W.panel).boundingBox();
  assert.ok(pb.x < 40, 'the panel opens on the left too');
  assertClean(page);
});
