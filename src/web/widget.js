/*! shopchat widget. <script src="https://chat.shop.example/widget.js" data-api-key="KEY" defer></script>
 * Options (data-*): title, subtitle, greeting, accent, position (right|left), lang (uk|en), api-base.
 * Lives in a Shadow DOM root; text from the network is only ever set as text, never parsed as HTML. */
(() => {
'use strict';
if (window.ShopChat) return; // included twice: keep the first

const script = document.currentScript || [...document.querySelectorAll('script[src*="widget.js"][data-api-key]')].pop();
if (!script) return;
const ds = script.dataset;
const KEY = ds.apiKey;
const API = (ds.apiBase || script.src.replace(/\/widget\.js([?#].*)?$/, '')).replace(/\/+$/, '');
if (!KEY) { console.warn('shopchat: the widget script needs data-api-key'); return; }

const TEXT = {
  en: {
    title: 'Chat with us', sub: 'We usually reply within minutes',
    greeting: 'Hi! Ask us anything about products, delivery or your order.',
    open: 'Open chat', close: 'Close chat', unread: (n) => `${n} unread`,
    intro: 'Leave your name and phone so we can call you back.',
    name: 'Your name', phone: 'Phone', optional: 'optional', start: 'Start chat',
    message: 'Message', placeholder: 'Write a message…', send: 'Send', messages: 'Messages',
    you: 'You', shop: 'Shop', sending: 'Sending…', failed: 'Not sent', retry: 'Retry',
    closed: 'This chat has been closed.', newChat: 'Start a new chat',
    rate: (s) => `Too many requests. Please wait ${s} s and try again.`,
    offline: 'Connection problem. Trying again…', gone: 'Your previous chat is no longer available. You can start a new one.',
    nameLong: 'Name must be at most 100 characters.',
    phoneBad: 'Phone may contain only digits, spaces and + ( ) -, at most 32 characters.',
    tooLong: 'The message is too long (at most 4000 characters).',
    unavailable: 'The chat is unavailable right now. Please try again later.',
  },
  uk: {
    title: 'Напишіть нам', sub: 'Зазвичай відповідаємо за кілька хвилин',
    greeting: 'Вітаємо! Запитайте про товари, доставку чи ваше замовлення.',
    open: 'Відкрити чат', close: 'Закрити чат', unread: (n) => `Непрочитані: ${n}`,
    intro: 'Залиште ім’я та телефон, щоб ми могли вам передзвонити.',
    name: 'Ваше ім’я', phone: 'Телефон', optional: 'необов’язково', start: 'Почати чат',
    message: 'Повідомлення', placeholder: 'Напишіть повідомлення…', send: 'Надіслати', messages: 'Повідомлення',
    you: 'Ви', shop: 'Магазин', sending: 'Надсилання…', failed: 'Не надіслано', retry: 'Повторити',
    closed: 'Цей чат закрито.', newChat: 'Почати новий чат',
    rate: (s) => `Забагато запитів. Зачекайте ${s} с і спробуйте знову.`,
    offline: 'Проблема зі з’єднанням. Пробуємо ще раз…', gone: 'Попередній чат більше недоступний. Можна почати новий.',
    nameLong: 'Ім’я — не більше 100 символів.',
    phoneBad: 'Телефон: лише цифри, пробіли та + ( ) -, не більше 32 символів.',
    tooLong: 'Повідомлення задовге (не більше 4000 символів).',
    unavailable: 'Чат зараз недоступний. Спробуйте пізніше.',
  },
};
const lang2 = (v) => (v || '').slice(0, 2).toLowerCase();
const LANG = TEXT[lang2(ds.lang)] ? lang2(ds.lang) : (navigator.languages || [navigator.language]).map(lang2).find((l) => TEXT[l]) || 'en';
const T = TEXT[LANG];
const TITLE = ds.title || T.title;
const SUB = ds.subtitle ?? T.sub;
const GREETING = ds.greeting ?? T.greeting;
const FAST = 2500, SLOW = 20000, HIDDEN = 30000; // poll pace: open, closed, tab hidden
const len = (s) => [...s].length;

// Stored per chat server: {sessionId, userSessionId, readSeq}; the panel's open state per tab.
const SKEY = 'shopchat:' + API;
const tryDo = (f, d) => { try { return f(); } catch (e) { return d; } }; // storage may be blocked
let st = tryDo(() => JSON.parse(localStorage.getItem(SKEY)), null) || {};
const save = () => tryDo(() => localStorage.setItem(SKEY, JSON.stringify(st)));
const rid = () => [...crypto.getRandomValues(new Uint8Array(16))].map((x) => x.toString(16).padStart(2, '0')).join('');

// ---- DOM, text only
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids) if (k != null) el.append(k); // a string becomes a Text node
  return el;
}
function icon(d, size) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const p = document.createElementNS(ns, 'path');
  for (const [k, v] of [['viewBox', '0 0 24 24'], ['width', size], ['height', size], ['aria-hidden', 'true'], ['focusable', 'false']]) svg.setAttribute(k, v);
  p.setAttribute('d', d);
  p.setAttribute('fill', 'currentColor');
  svg.append(p);
  return svg;
}

const STYLES = `
.sc *{box-sizing:border-box;margin:0;padding:0;border:0;font:inherit;color:inherit;background:none;text-align:inherit}
.sc{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;-webkit-font-smoothing:antialiased}
.sc [hidden]{display:none!important}
.sc svg{display:block;flex:none}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;cursor:pointer;
 background:var(--acc);color:var(--on);display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(0,0,0,.22);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.left .launcher,.left .panel{right:auto;left:20px}
.sc button:focus-visible{outline:3px solid var(--ring);outline-offset:2px}
.badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#d1242f;
 color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;box-shadow:0 0 0 2px #fff}
.panel{position:fixed;bottom:92px;right:20px;z-index:2147483000;width:370px;height:min(600px,calc(100vh - 112px));display:flex;
 flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(0,0,0,.24),0 0 0 1px rgba(0,0,0,.06)}
.head{display:flex;align-items:center;gap:12px;padding:16px 14px 16px 18px;background:var(--acc);color:var(--on)}
.head div{flex:1}
.title{font-size:16px;font-weight:650;line-height:1.25}
.sub{font-size:12.5px;opacity:.85}
.x{width:36px;height:36px;border-radius:50%;display:flex;align-items:center;justify-content:center;cursor:pointer}
.x:hover{background:rgba(127,127,127,.25)}
.notice{padding:9px 16px;font-size:13px;background:#fff8c5;color:#4d2d00;border-bottom:1px solid #eed888}
.body{flex:1;display:flex;flex-direction:column;min-height:0;background:#f6f7f9}
.form{padding:18px;display:flex;flex-direction:column;gap:12px;overflow:auto;flex:1}
.greet,.bubble{background:#fff;border:1px solid #e4e7eb;border-radius:14px 14px 14px 4px;padding:9px 12px;white-space:pre-wrap;overflow-wrap:anywhere}
.greet{align-self:flex-start;max-width:85%}
.intro{font-size:13px;color:#57606a}
.field{display:flex;flex-direction:column;gap:4px;font-weight:600;font-size:13px}
.opt{font-weight:400;color:#6e7781}
.sc input,.sc textarea{width:100%;background:#fff;border:1px solid #c9ced6;border-radius:10px;padding:10px 12px;font-size:15px;font-weight:400;line-height:1.35}
.sc input:focus,.sc textarea:focus{border-color:var(--acc);outline:1px solid var(--acc);outline-offset:-2px}
.sc input[aria-invalid=true]{border-color:#d1242f}
.err{color:#b3161f;font-size:12.5px;font-weight:400}
.primary{background:var(--acc);color:var(--on);border-radius:10px;padding:11px 14px;font-weight:650;text-align:center;cursor:pointer;font-size:15px}
.primary:disabled{opacity:.6}
.scroll{flex:1;overflow-y:auto;padding:16px 14px 8px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain}
.list{display:flex;flex-direction:column;gap:8px;list-style:none}
.msg{display:flex;flex-direction:column;max-width:82%;align-self:flex-start}
.msg.user{align-self:flex-end;align-items:flex-end}
.user .bubble{background:var(--acc);color:var(--on);border-color:transparent;border-radius:14px 14px 4px 14px}
.pending .bubble{opacity:.65}
.failed .bubble{background:#fff;color:#1f2328;border:1px dashed #d1242f}
.meta{font-size:11.5px;color:#6e7781;margin-top:3px;padding:0 4px}
.failed .meta{color:#b3161f}
.retry{color:#0b5cad;text-decoration:underline;cursor:pointer}
.retry:disabled{color:#8c959f;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.closed{padding:14px 16px;background:#fff;border-top:1px solid #e4e7eb;display:flex;flex-direction:column;gap:10px;text-align:center;color:#57606a}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px 10px 10px 12px;background:#fff;border-top:1px solid #e4e7eb}
.composer textarea{resize:none;height:42px;max-height:132px;overflow-y:auto;border-radius:21px;padding:10px 14px}
.send{width:42px;height:42px;border-radius:50%;background:var(--acc);color:var(--on);display:flex;align-items:center;justify-content:center;cursor:pointer}
@media (max-width:480px){
 .panel,.left .panel{inset:0;width:100%;height:100%;border-radius:0}
 .open .launcher{display:none}
 .sc input,.sc textarea{font-size:16px}
}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}}`;

// ---- the UI, in a Shadow DOM root the shop's CSS cannot reach
const host = document.createElement('shopchat-widget');
host.style.setProperty('all', 'initial', 'important'); // nothing inherited from the shop
host.style.setProperty('display', 'block', 'important');
const root = host.attachShadow({ mode: 'open' });
if ('adoptedStyleSheets' in root) {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(STYLES); // a constructed sheet is not blocked by the shop's style-src CSP
  root.adoptedStyleSheets = [sheet];
} else root.append(h('style', null, STYLES));

const btn = (cls, label, onclick, ...kids) => h('button', { type: 'button', class: cls, 'aria-label': label, onclick }, ...kids);
const badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
const launcher = btn('launcher', T.open, () => toggle(), icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01z', 28), badge);
launcher.setAttribute('aria-expanded', 'false');
launcher.setAttribute('aria-controls', 'sc-panel');
const notice = h('div', { class: 'notice', role: 'status', hidden: true });

const field = (id, label, attrs) => {
  const input = h('input', { id, 'aria-describedby': id + '-err', ...attrs });
  const err = h('span', { id: id + '-err', class: 'err', hidden: true });
  return [input, err, h('label', { class: 'field', for: id }, h('span', null, label, ' ', h('span', { class: 'opt' }, `(${T.optional})`)), input, err)];
};
const [nameIn, nameErr, nameLabel] = field('sc-name', T.name, { autocomplete: 'name', maxlength: 100 });
const [phoneIn, phoneErr, phoneLabel] = field('sc-phone', T.phone, { type: 'tel', autocomplete: 'tel', inputmode: 'tel', maxlength: 32 });
const startBtn = h('button', { type: 'submit', class: 'primary' }, T.start);
const greet = () => (GREETING ? h('p', { class: 'greet' }, GREETING) : null);
const formBox = h('div', { class: 'body' },
  h('form', { class: 'form', novalidate: true, onsubmit: startChat }, greet(), h('p', { class: 'intro' }, T.intro), nameLabel, phoneLabel, startBtn));

const list = h('ol', { class: 'list', role: 'log', 'aria-live': 'polite', 'aria-label': T.messages });
const scroller = h('div', { class: 'scroll' }, greet(), list);
const newBtn = h('button', { type: 'button', class: 'primary', onclick: newChat }, T.newChat);
const closedBox = h('div', { class: 'closed', role: 'status', hidden: true }, h('p', null, T.closed), newBtn);
const ta = h('textarea', { rows: 1, maxlength: 4000, 'aria-label': T.message, placeholder: T.placeholder });
const composer = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); send(); } }, ta,
  h('button', { type: 'submit', class: 'send', 'aria-label': T.send, title: T.send }, icon('M3 20.5 21 12 3 3.5v6.6L15 12 3 13.9z', 20)));
const chat = h('div', { class: 'body', hidden: true }, scroller, closedBox, composer);
const panel = h('section', { id: 'sc-panel', class: 'panel', role: 'dialog', 'aria-label': TITLE, hidden: true },
  h('div', { class: 'head' }, h('div', null, h('h2', { class: 'title' }, TITLE), SUB ? h('p', { class: 'sub' }, SUB) : null),
    btn('x', T.close, () => toggle(false), icon('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z', 22))),
  notice, formBox, chat);
const wrap = h('div', { class: ds.position === 'left' ? 'sc left' : 'sc', lang: LANG }, panel, launcher);
root.append(wrap);

{ // the accent colour, validated, with a readable colour on top of it
  const acc = ds.accent && CSS.supports('color', ds.accent) ? ds.accent : '#2563eb';
  const cx = document.createElement('canvas').getContext('2d');
  cx.fillStyle = acc; // reads back as #rrggbb or rgba(...)
  const v = String(cx.fillStyle);
  const rgb = v[0] === '#' ? [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16)) : v.match(/[\d.]+/g).slice(0, 3);
  const [r, g, b] = rgb.map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  const light = 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4;
  wrap.style.setProperty('--acc', acc);
  wrap.style.setProperty('--on', light ? '#111' : '#fff');
  wrap.style.setProperty('--ring', light ? '#111' : acc);
}

ta.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
});
ta.addEventListener('input', autosize);
wrap.addEventListener('keydown', (e) => { if (e.key === 'Escape' && isOpen) { e.stopPropagation(); toggle(false); } });
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && isOpen) markRead();
  schedule(document.hidden ? null : 0);
});

// ---- state
let isOpen = false;
let status = 'active';
let cursor = 0; // the last seq polling returned: the only polling cursor
const bySeq = new Map(); // seq -> <li>: one element per message, however often it arrives
const pending = new Map(); // clientMessageId -> {cid, li, text, state}
let unread = 0, timer = 0, failures = 0, pollPause = 0, sendPause = 0;
let queue = Promise.resolve(); // sends and polls run one at a time, so a poll never races a send
const run = (fn) => (queue = queue.then(fn).catch((e) => console.warn('shopchat:', e)));
const enc = encodeURIComponent;

async function api(method, path, body) {
  const headers = { 'X-API-Key': KEY };
  if (st.userSessionId) headers['X-User-Session-Id'] = st.userSessionId;
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(API + path, {
    method, headers, body: body && JSON.stringify(body), cache: 'no-store', signal: AbortSignal.timeout && AbortSignal.timeout(15000),
  });
  const data = await res.json().catch(() => ({}));
  if (res.ok) return data;
  const err = new Error((data.error && data.error.message) || 'HTTP ' + res.status);
  err.status = res.status;
  err.wait = Math.min(Math.max(parseInt(res.headers.get('Retry-After'), 10) || 5, 1), 300); // seconds
  throw err;
}

function say(text, ms) {
  notice.textContent = text || '';
  notice.hidden = !text;
  clearTimeout(say.t);
  if (text && ms) say.t = setTimeout(say, ms);
}

// ---- open and close
function toggle(want = !isOpen, quiet) {
  if (want === isOpen) return;
  isOpen = want;
  tryDo(() => sessionStorage.setItem(SKEY, want ? '1' : ''));
  panel.hidden = !want;
  wrap.classList.toggle('open', want);
  launcher.setAttribute('aria-expanded', want);
  if (want) {
    markRead();
    scrollDown(true);
    const target = !st.sessionId ? nameIn : status === 'active' ? ta : newBtn;
    if (!quiet) setTimeout(() => target.focus());
  } else if (!quiet) launcher.focus();
  schedule(want ? 0 : null);
}

function markRead() {
  const max = Math.max(st.readSeq || 0, ...bySeq.keys());
  if (st.sessionId && max !== st.readSeq) { st.readSeq = max; save(); }
  setUnread(0);
}
function setUnread(n) {
  unread = n;
  badge.textContent = n > 9 ? '9+' : n;
  badge.hidden = !n;
  launcher.setAttribute('aria-label', n ? `${T.open} (${T.unread(n)})` : T.open);
}

function showChat(yes) {
  formBox.hidden = yes;
  chat.hidden = !yes;
  closedBox.hidden = status === 'active';
  composer.hidden = status !== 'active';
}
function setStatus(s) {
  if (!s || s === status) return;
  status = s;
  showChat(true);
  if (s === 'active') return;
  clearTimeout(timer);
  if (root.activeElement === ta) newBtn.focus();
  scrollDown(true);
}

// Forget the stored chat and show the pre-chat form again.
function reset(msg) {
  clearTimeout(timer);
  st = {};
  save();
  status = 'active';
  cursor = 0;
  bySeq.clear();
  pending.clear();
  list.replaceChildren();
  setUnread(0);
  showChat(false);
  say(msg);
}
function newChat() {
  reset();
  if (isOpen) nameIn.focus();
}

// ---- messages
function fmtTime(iso) {
  const d = new Date(iso);
  const time = d.toLocaleTimeString(LANG, { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? time : d.toLocaleDateString(LANG, { day: 'numeric', month: 'short' }) + ', ' + time;
}
const msgEl = (sender, text) => h('li', { class: 'msg ' + (sender === 'user' ? 'user' : 'manager') },
  h('div', { class: 'bubble' }, h('span', { class: 'sr' }, (sender === 'user' ? T.you : T.shop) + ': '), h('span', { class: 'text' }, text)),
  h('div', { class: 'meta' }));
function place(li, m) {
  li.dataset.seq = m.seq;
  li.classList.remove('pending', 'failed');
  li.lastChild.replaceChildren(h('time', { datetime: m.createdAt }, fmtTime(m.createdAt)));
  bySeq.set(m.seq, li);
  // in seq order; messages still being sent stay last
  const ref = [...list.children].find((el) => el !== li && (!el.dataset.seq || +el.dataset.seq > m.seq));
  list.insertBefore(li, ref || null);
}

function addServer(m) {
  if (typeof m.seq !== 'number' || bySeq.has(m.seq)) return;
  let li;
  if (m.sender === 'user') { // a send that looked failed (its answer was lost) but arrived: adopt it
    const p = [...pending.values()].find((x) => x.state === 'failed' && x.text === m.messageText);
    if (p) { li = p.li; pending.delete(p.cid); }
  }
  place(li || msgEl(m.sender, m.messageText), m);
  if (m.sender === 'manager' && m.seq > (st.readSeq || 0)) {
    if (isOpen && !document.hidden) markRead(); else setUnread(unread + 1);
  }
}

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
function scrollDown(force) {
  if (force || nearBottom()) requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });
}

function setState(p, state, wait) {
  p.state = state;
  p.li.classList.toggle('pending', state === 'sending');
  p.li.classList.toggle('failed', state === 'failed');
  const meta = p.li.lastChild;
  if (state === 'sending') return meta.replaceChildren(T.sending);
  meta.replaceChildren(h('span', { role: 'alert' }, T.failed));
  if (status !== 'active') return;
  const b = h('button', { type: 'button', class: 'retry', onclick: () => deliver(p.cid) }, T.retry);
  meta.append(' · ', b);
  if (wait) { // honour Retry-After, then try once more by itself
    b.disabled = true;
    setTimeout(() => { b.disabled = false; if (p.state === 'failed') deliver(p.cid); }, wait * 1000);
  }
}

function send() {
  const text = ta.value.trim();
  if (!text || status !== 'active' || !st.sessionId) return;
  if (len(text) > 4000) return say(T.tooLong, 6000);
  ta.value = '';
  autosize();
  const p = { cid: rid(), li: msgEl('user', text), text };
  pending.set(p.cid, p);
  list.append(p.li);
  scrollDown(true);
  deliver(p.cid);
}

function deliver(cid) {
  const p = pending.get(cid);
  if (!p) return;
  setState(p, 'sending');
  run(async () => {
    if (!pending.has(cid)) return;
    const wait = Math.ceil((sendPause - Date.now()) / 1000);
    if (wait > 0) { setState(p, 'failed', wait); return say(T.rate(wait), wait * 1000); }
    const sid = st.sessionId;
    try {
      const m = (await api('POST', `/api/public/chat/sessions/${enc(sid)}/messages`, { messageText: p.text, clientMessageId: cid })).message;
      pending.delete(cid);
      if (bySeq.has(m.seq)) { if (bySeq.get(m.seq) !== p.li) p.li.remove(); } else place(p.li, m);
      if (notice.textContent === T.offline) say();
    } catch (e) {
      if (sid !== st.sessionId) return;
      if (e.status === 404) return reset(T.gone);
      if (e.status === 409) setStatus('closed');
      if (e.status === 429) {
        sendPause = Date.now() + e.wait * 1000;
        setState(p, 'failed', e.wait);
        return say(T.rate(e.wait), e.wait * 1000);
      }
      setState(p, 'failed');
      if (e.status === 400 || e.status === 413) say(e.message, 8000);
      else if (e.status === 401) say(T.unavailable);
      else if (e.status !== 409) say(T.offline, 8000);
    }
  });
}

// ---- polling
function schedule(ms) {
  clearTimeout(timer);
  if (!st.sessionId || status !== 'active') return;
  const base = document.hidden ? HIDDEN : isOpen ? FAST : SLOW;
  const wait = ms ?? (failures ? Math.min(base * 2 ** Math.min(failures, 4), 60000) : base);
  timer = setTimeout(() => run(poll).then(() => schedule()), Math.max(wait, pollPause - Date.now()));
}

async function poll() {
  const sid = st.sessionId;
  if (!sid || status !== 'active' || Date.now() < pollPause) return;
  try {
    for (let i = 0; i < 20; i++) { // hasMore: keep reading, within reason
      const data = await api('GET', `/api/public/chat/sessions/${enc(sid)}/messages?since=${cursor}`);
      if (sid !== st.sessionId) return;
      const bottom = nearBottom();
      const msgs = data.messages || [];
      for (const m of msgs) { addServer(m); cursor = Math.max(cursor, m.seq); }
      if (data.cursor > cursor) cursor = data.cursor;
      if (msgs.length) scrollDown(bottom);
      setStatus(data.sessionStatus);
      if (!data.hasMore || !msgs.length) break;
    }
    if (notice.textContent === T.offline) say();
    failures = 0;
  } catch (e) {
    if (sid !== st.sessionId) return;
    if (e.status === 404) return reset(T.gone);
    if (e.status === 429) { pollPause = Date.now() + e.wait * 1000; return; }
    failures++;
    if (e.status === 401) say(T.unavailable);
    else if (failures > 1) say(T.offline);
  }
}

// ---- the pre-chat form
function fieldError(input, errEl, msg) {
  errEl.textContent = msg;
  errEl.hidden = !msg;
  input.setAttribute('aria-invalid', !!msg);
  return !!msg;
}
function startChat(e) {
  e.preventDefault();
  const userName = nameIn.value.trim();
  const userPhone = phoneIn.value.trim();
  const badName = fieldError(nameIn, nameErr, len(userName) > 100 ? T.nameLong : '');
  const badPhone = fieldError(phoneIn, phoneErr, len(userPhone) > 32 || !/^[0-9 +()-]*$/.test(userPhone) ? T.phoneBad : '');
  if (badName || badPhone) return (badName ? nameIn : phoneIn).focus();
  startBtn.disabled = true;
  run(async () => {
    try {
      const s = (await api('POST', '/api/public/chat/sessions', { userName: userName || undefined, userPhone: userPhone || undefined })).session;
      st = { sessionId: s.id, userSessionId: s.userSessionId, readSeq: 0 };
      save();
      status = s.status || 'active';
      cursor = 0;
      say();
      showChat(true);
      if (isOpen) ta.focus();
      schedule(0);
    } catch (err) {
      if (err.status === 429) say(T.rate(err.wait), err.wait * 1000);
      else say(err.status === 400 ? err.message : T.unavailable, 8000);
    } finally {
      startBtn.disabled = false;
    }
  });
}

function autosize() {
  ta.style.height = 'auto';
  ta.style.height = Math.min(ta.scrollHeight + 2, 132) + 'px';
}

// ---- start
function mount() {
  document.body.append(host);
  showChat(!!st.sessionId);
  schedule(0);
  if (tryDo(() => sessionStorage.getItem(SKEY))) toggle(true, true); // an open chat stays open on the next page
}
if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);

window.ShopChat = { open: () => toggle(true), close: () => toggle(false), toggle: () => toggle(), newChat };
})();
