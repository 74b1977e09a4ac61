// Takes the screenshots in docs/screenshots/ from a real server with a few realistic chats.
// Run: SHOPCHAT_BIN=target/release/shopchat node tests/e2e/screenshots.mjs
import path from 'node:path';
import fs from 'node:fs';
import {
  REPO, startShopchat, launchBrowser, newPage, seedChat, visitorSays, managerSays, admin,
  startWidgetChat, widgetSend, adminLogin, W, clockPast,
} from './helpers.mjs';

const OUT = path.join(REPO, 'docs', 'screenshots');
fs.mkdirSync(OUT, { recursive: true });

const server = await startShopchat();
const browser = await launchBrowser();
try {
  // A few chats from other visitors, so the list looks like a working day.
  const anna = await seedChat(server, { userName: 'Anna Melnyk', userPhone: '+380 50 222 31 07', messages: ['Hi! Is the linen napkin set in stock?'] });
  await managerSays(server, anna.id, 'Hello Anna! Yes, we have 6 sets left.');
  await visitorSays(server, anna, 'Great, I will order two.');
  await admin(server, 'POST', `/api/chat/sessions/${anna.id}/assign`, { managerId: 'alice' });
  const tom = await seedChat(server, { userName: 'Tom Baker', messages: ['Can I pay by bank transfer?'] });
  await managerSays(server, tom.id, 'Yes: the details are in the order confirmation email.');
  await visitorSays(server, tom, 'Thanks, paid!');
  await managerSays(server, tom.id, 'Received, your order ships tomorrow.');
  await admin(server, 'POST', `/api/chat/sessions/${tom.id}/close`, {});
  const poland = await seedChat(server, { userPhone: '+48 601 555 019', messages: ['Do you deliver to Poland?'] });
  // Olena's chat below starts after it, so the list shows hers on top.
  await clockPast(poland.updatedAt);

  // The visitor on the demo page.
  const visitor = await newPage(browser);
  await visitor.goto(server.url + '/');
  await startWidgetChat(visitor, { name: 'Olena Kovalenko', phone: '+380 67 123 45 67', text: 'Hello! Do you ship the teal mug to Lviv?' });
  const sessionId = await visitor.evaluate((k) => JSON.parse(localStorage.getItem(k)).sessionId, 'shopchat:' + server.url);
  await managerSays(server, sessionId, 'Hi Olena! Yes, Nova Poshta delivers to Lviv in 1-2 days.');
  await visitor.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.msg.manager').length === 1);
  await widgetSend(visitor, 'Perfect. Is it dishwasher safe?\nI want to give it as a gift.');
  await visitor.locator(W.input).fill('Thank you');
  await visitor.mouse.move(0, 0);
  await visitor.screenshot({ path: path.join(OUT, 'widget-open.png'), animations: 'disabled' });

  // The same chat on a phone.
  const phone = await newPage(browser, { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.goto(server.url + '/');
  await phone.screenshot({ path: path.join(OUT, 'demo-mobile.png'), animations: 'disabled' });
  await phone.evaluate(({ k, v }) => localStorage.setItem(k, v), { k: 'shopchat:' + server.url, v: await visitor.evaluate((k) => localStorage.getItem(k), 'shopchat:' + server.url) });
  await phone.reload();
  await phone.locator(W.launcher).click();
  await phone.waitForFunction(() => document.querySelector('shopchat-widget').shadowRoot.querySelectorAll('.msg[data-seq]').length >= 3);
  await phone.screenshot({ path: path.join(OUT, 'widget-mobile.png'), animations: 'disabled' });

  // The manager's list and transcript.
  const manager = await newPage(browser, { viewport: { width: 1200, height: 760 } });
  await adminLogin(manager, server);
  await manager.getByRole('button', { name: 'All', exact: true }).click();
  await manager.locator('.row').nth(3).waitFor();
  await manager.mouse.move(0, 0);
  await manager.screenshot({ path: path.join(OUT, 'admin-list.png'), animations: 'disabled' });
  await manager.goto(server.url + '/chat/' + sessionId);
  await manager.locator('.transcript .msg').nth(2).waitFor();
  await manager.locator('#reply').fill('It is, and we can gift-wrap it for free.');
  await manager.screenshot({ path: path.join(OUT, 'admin-chat.png'), animations: 'disabled' });

  const managerPhone = await newPage(browser, { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await managerPhone.addInitScript((t) => localStorage.setItem('shopchat.managerToken', t), server.token);
  await managerPhone.goto(server.url + '/chat');
  await managerPhone.locator('.row').nth(2).waitFor();
  await managerPhone.screenshot({ path: path.join(OUT, 'admin-list-mobile.png'), animations: 'disabled' });
  await managerPhone.goto(server.url + '/chat/' + sessionId);
  await managerPhone.locator('.transcript .msg').nth(2).waitFor();
  await managerPhone.screenshot({ path: path.join(OUT, 'admin-chat-mobile.png'), animations: 'disabled' });

  // A chat the manager closed, as the visitor sees it.
  await admin(server, 'POST', `/api/chat/sessions/${sessionId}/close`, {});
  await visitor.locator(W.closed).waitFor({ state: 'visible', timeout: 6000 });
  await visitor.screenshot({ path: path.join(OUT, 'widget-closed.png'), animations: 'disabled' });

  // She comes back: a new chat, linked to the first, her name and phone prefilled.
  await visitor.locator(W.newChat).click();
  await widgetSend(visitor, 'Back again: is the terracotta vase still in stock?');
  await visitor.locator(W.ask).waitFor({ state: 'visible' });
  await visitor.screenshot({ path: path.join(OUT, 'widget-returning.png'), animations: 'disabled' });
  const second = await visitor.evaluate((k) => JSON.parse(localStorage.getItem(k)).sessionId, 'shopchat:' + server.url);

  // The manager's panel in Ukrainian: the chat and the visitor's earlier one.
  const uk = await newPage(browser, { viewport: { width: 1200, height: 760 }, locale: 'uk-UA' });
  await uk.addInitScript((t) => localStorage.setItem('shopchat.managerToken', t), server.token);
  await uk.goto(server.url + '/chat/' + second);
  await uk.locator('.others').waitFor({ state: 'visible' });
  await uk.mouse.move(0, 0);
  await uk.screenshot({ path: path.join(OUT, 'admin-chat-uk.png'), animations: 'disabled' });

  // At night: the shop's hours say it is closed; the widget says when it answers and asks for an email.
  const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 1) % 7];
  server.cli('settings', 'set', 'hours', `${day} 09:00-18:00`);
  const night = await newPage(browser);
  await night.goto(server.url + '/');
  await night.locator(W.launcher).click();
  await widgetSend(night, 'Hi, is the mug available in white?');
  await night.locator(W.away).waitFor({ state: 'visible', timeout: 10000 });
  await night.locator(W.email).fill('maria@example.com');
  await night.mouse.move(0, 0);
  await night.screenshot({ path: path.join(OUT, 'widget-away.png'), animations: 'disabled' });
  server.cli('settings', 'unset', 'hours');

  const login = await newPage(browser, { viewport: { width: 1000, height: 640 } });
  await login.goto(server.url + '/chat');
  await login.locator('#token').waitFor();
  await login.screenshot({ path: path.join(OUT, 'admin-login.png'), animations: 'disabled' });
  console.log('screenshots written to ' + OUT);
} finally {
  await browser.close();
  await server.stop();
}
