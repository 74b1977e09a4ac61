/*! shopchat widget: a live chat button and panel for any page.
 * Embed: <script src="https://chat.shop.example/widget.js" data-api-key="KEY" defer></script>
 * Options (data-*): title, subtitle, greeting, accent, position (right|left), lang (uk|en), api-base.
 * Everything lives in a Shadow DOM root, and every text from the network is set with
 * textContent, never parsed as HTML. */
(() => {
  'use strict';
  if (window.ShopChat) return; // included twice: keep the first

  const script = document.currentScript ||
    [...document.querySelectorAll('script[src*="widget.js"][data-api-key]')].pop();
  if (!script) return;
  const ds = script.dataset;
  const KEY = ds.apiKey || '';
  const API = (ds.apiBase || script.src.replace(/\/widget\.js(?:[?#].*)?$/, '')).replace(/\/+$/, '');
  if (!KEY) { console.warn('shopchat: data-api-key is missing on the widget script'); return; }

  const TEXT = {
    en: {
      title: 'Chat with us', sub: 'We usually reply within minutes',
      greeting: 'Hi! Ask us anything about products, delivery or your order.',
      open: 'Open chat', close: 'Close chat', unread: (n) => `${n} unread`,
      intro: 'Leave your name and phone so we can call you back. Both are optional.',
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
      intro: 'Залиште ім’я та телефон, щоб ми могли вам передзвонити. Обидва поля необов’язкові.',
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
  const pickLang = (v) => (v || '').toLowerCase().slice(0, 2);
  const LANG = TEXT[pickLang(ds.lang)] ? pickLang(ds.lang)
    : ((navigator.languages || [navigator.language]).map(pickLang).find((l) => TEXT[l]) || 'en');
  const T = TEXT[LANG];
  const TITLE = ds.title || T.title;
  const GREETING = ds.greeting != null ? ds.greeting : T.greeting;
  const SUB = ds.subtitle != null ? ds.subtitle : T.sub;
  const LEFT = ds.position === 'left';

  const FAST = 2500, SLOW = 20000, HIDDEN = 30000;
  const PHONE_RE = /^[0-9 +()\-]*$/;
  const len = (s) => [...s].length;

  // ---- storage: {sessionId, userSessionId, readSeq} per chat server -------------------
  const SKEY = 'shopchat:' + API;
  const load = () => { try { return JSON.parse(localStorage.getItem(SKEY)) || {}; } catch (e) { return {}; } };
  const save = () => { try { localStorage.setItem(SKEY, JSON.stringify(st)); } catch (e) { /* private mode */ } };
  const ui = {
    get: () => { try { return sessionStorage.getItem(SKEY + ':open') === '1'; } catch (e) { return false; } },
    set: (v) => { try { sessionStorage.setItem(SKEY + ':open', v ? '1' : '0'); } catch (e) { /* ignore */ } },
  };
  let st = load();

  const rid = () => {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  };

  // ---- DOM helpers: text only ------------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k != null) el.append(k); // strings become Text nodes
    return el;
  }
  function icon(d, size) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', size || 24);
    svg.setAttribute('height', size || 24);
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    p.setAttribute('fill', 'currentColor');
    svg.append(p);
    return svg;
  }
  const ICON_CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01z';
  const ICON_X = 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z';
  const ICON_SEND = 'M3 20.5 21 12 3 3.5v6.6L15 12 3 13.9z';

  const STYLES = `
:host{all:initial}
.sc,.sc *,.sc *::before,.sc *::after{box-sizing:border-box;margin:0;padding:0;border:0;font:inherit;color:inherit;
 background:none;text-align:inherit;text-transform:none;letter-spacing:normal;text-decoration:none;line-height:inherit;
 float:none;max-width:none;min-width:0;min-height:0;box-shadow:none;text-shadow:none;outline:0;opacity:1;visibility:inherit;
 transform:none;filter:none;list-style:none;vertical-align:baseline;white-space:normal;direction:ltr}
.sc{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;
 -webkit-font-smoothing:antialiased;text-align:left}
.sc [hidden]{display:none!important}
.sc svg{display:block;flex:none}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;cursor:pointer;
 background:var(--acc);color:var(--on);display:flex;align-items:center;justify-content:center;
 box-shadow:0 6px 20px rgba(0,0,0,.22);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.left .launcher{right:auto;left:20px}
.sc button:focus-visible{outline:3px solid var(--ring);outline-offset:2px}
.badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#d1242f;
 color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;box-shadow:0 0 0 2px #fff}
.panel{position:fixed;bottom:92px;right:20px;z-index:2147483000;width:370px;height:min(600px,calc(100vh - 112px));
 display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;
 box-shadow:0 12px 48px rgba(0,0,0,.24),0 0 0 1px rgba(0,0,0,.06)}
.left .panel{right:auto;left:20px}
.head{display:flex;align-items:center;gap:12px;padding:16px 14px 16px 18px;background:var(--acc);color:var(--on)}
.head div{flex:1}
.title{font-size:16px;font-weight:650;line-height:1.25}
.sub{font-size:12.5px;opacity:.85}
.x{width:36px;height:36px;border-radius:50%;display:flex;align-items:center;justify-content:center;cursor:pointer}
.x:hover{background:rgba(127,127,127,.25)}
.notice{padding:9px 16px;font-size:13px;background:#fff8c5;color:#4d2d00;border-bottom:1px solid #eed888}
.body{flex:1;display:flex;flex-direction:column;min-height:0;background:#f6f7f9}
.form{padding:18px;display:flex;flex-direction:column;gap:12px;overflow:auto;flex:1}
.greet{background:#fff;border:1px solid #e4e7eb;border-radius:14px 14px 14px 4px;padding:10px 13px;white-space:pre-wrap;
 overflow-wrap:anywhere;align-self:flex-start;max-width:85%}
.intro{font-size:13px;color:#57606a}
.field{display:flex;flex-direction:column;gap:4px;font-weight:600;font-size:13px}
.opt{font-weight:400;color:#6e7781}
.sc input,.sc textarea{width:100%;background:#fff;border:1px solid #c9ced6;border-radius:10px;padding:10px 12px;font-weight:400;
 font-size:15px;color:#1f2328;line-height:1.35}
.sc input:focus,.sc textarea:focus{border-color:var(--acc);outline:1px solid var(--acc);outline-offset:-2px}
.sc input[aria-invalid=true]{border-color:#d1242f}
.err{color:#b3161f;font-size:12.5px;font-weight:400}
.primary{background:var(--acc);color:var(--on);border-radius:10px;padding:11px 14px;font-weight:650;text-align:center;cursor:pointer;font-size:15px}
.primary:disabled{opacity:.6;cursor:default}
.scroll{flex:1;overflow-y:auto;padding:16px 14px 8px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain}
.list{display:flex;flex-direction:column;gap:8px}
.msg{display:flex;flex-direction:column;max-width:82%;align-self:flex-start}
.msg.user{align-self:flex-end;align-items:flex-end}
.bubble{padding:9px 12px;border-radius:14px 14px 14px 4px;background:#fff;border:1px solid #e4e7eb;white-space:pre-wrap;overflow-wrap:anywhere}
.user .bubble{background:var(--acc);color:var(--on);border-color:transparent;border-radius:14px 14px 4px 14px}
.pending .bubble{opacity:.65}
.failed .bubble{background:#fff;color:#1f2328;border:1px dashed #d1242f}
.meta{font-size:11.5px;color:#6e7781;margin-top:3px;padding:0 4px;display:flex;gap:6px;align-items:center}
.failed .meta{color:#b3161f}
.retry{color:#0b5cad;text-decoration:underline;cursor:pointer;font-size:11.5px}
.retry:disabled{color:#8c959f;cursor:default}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.closed{padding:14px 16px;background:#fff;border-top:1px solid #e4e7eb;display:flex;flex-direction:column;gap:10px;text-align:center;color:#57606a}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px 10px 10px 12px;background:#fff;border-top:1px solid #e4e7eb}
.composer textarea{resize:none;height:42px;max-height:132px;overflow-y:auto;border-radius:21px;padding:10px 14px}
.send{width:42px;height:42px;border-radius:50%;background:var(--acc);color:var(--on);display:flex;align-items:center;justify-content:center;cursor:pointer}
.send:disabled{opacity:.5;cursor:default}
@media (max-width:480px){
 .panel,.left .panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0}
 .open .launcher{display:none}
 .launcher{bottom:16px;right:16px}.left .launcher{left:16px}
 .sc input,.sc textarea{font-size:16px}
}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}}
`;

  // ---- build the UI inside a Shadow DOM root ---------------------------------------------
  const host = document.createElement('shopchat-widget');
  host.style.setProperty('all', 'initial', 'important');
  host.style.setProperty('display', 'block', 'important');
  const root = host.attachShadow({ mode: 'open' });
  if (root.adoptedStyleSheets && window.CSSStyleSheet && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES); // constructed sheets are not blocked by a shop's style-src CSP
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(h('style', null, STYLES));
  }

  const badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
  const launcher = h('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'sc-panel', 'aria-label': T.open, onclick: () => toggle() }, icon(ICON_CHAT, 28), badge);
  const closeBtn = h('button', { type: 'button', class: 'x', 'aria-label': T.close, title: T.close, onclick: () => toggle(false) }, icon(ICON_X, 22));
  const notice = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });

  const nameIn = h('input', { id: 'sc-name', name: 'name', autocomplete: 'name', maxlength: '100', 'aria-describedby': 'sc-name-err' });
  const nameErr = h('span', { id: 'sc-name-err', class: 'err', hidden: true });
  const phoneIn = h('input', { id: 'sc-phone', name: 'phone', type: 'tel', autocomplete: 'tel', inputmode: 'tel', maxlength: '32', 'aria-describedby': 'sc-phone-err' });
  const phoneErr = h('span', { id: 'sc-phone-err', class: 'err', hidden: true });
  const startBtn = h('button', { type: 'submit', class: 'primary' }, T.start);
  const form = h('form', { class: 'form', novalidate: true, onsubmit: startChat },
    GREETING ? h('p', { class: 'greet' }, GREETING) : null,
    h('p', { class: 'intro' }, T.intro),
    h('label', { class: 'field', for: 'sc-name' }, h('span', null, T.name, ' ', h('span', { class: 'opt' }, `(${T.optional})`)), nameIn, nameErr),
    h('label', { class: 'field', for: 'sc-phone' }, h('span', null, T.phone, ' ', h('span', { class: 'opt' }, `(${T.optional})`)), phoneIn, phoneErr),
    startBtn);

  const list = h('ol', { class: 'list', role: 'log', 'aria-live': 'polite', 'aria-label': T.messages });
  const scroller = h('div', { class: 'scroll' }, GREETING ? h('p', { class: 'greet' }, GREETING) : null, list);
  const closedBox = h('div', { class: 'closed', role: 'status', hidden: true }, h('p', null, T.closed),
    h('button', { type: 'button', class: 'primary', onclick: newChat }, T.newChat));
  const ta = h('textarea', { rows: '1', 'aria-label': T.message, placeholder: T.placeholder, maxlength: '4000' });
  const sendBtn = h('button', { type: 'submit', class: 'send', 'aria-label': T.send, title: T.send }, icon(ICON_SEND, 20));
  const composer = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); send(); } }, ta, sendBtn);
  const chat = h('div', { class: 'body', hidden: true }, scroller, closedBox, composer);
  const formBox = h('div', { class: 'body' }, form);

  const panel = h('section', { id: 'sc-panel', class: 'panel', role: 'dialog', 'aria-label': TITLE, hidden: true },
    h('div', { class: 'head' }, h('div', null, h('h2', { class: 'title' }, TITLE), SUB ? h('p', { class: 'sub' }, SUB) : null), closeBtn),
    notice, formBox, chat);
  const wrap = h('div', { class: 'sc' + (LEFT ? ' left' : ''), lang: LANG }, panel, launcher);
  root.append(wrap);

  // accent colour, validated, with a readable text colour on top of it
  (function accent() {
    const acc = ds.accent && CSS.supports('color', ds.accent) ? ds.accent : '#2563eb';
    const cx = document.createElement('canvas').getContext('2d');
    cx.fillStyle = acc; // normalised to #rrggbb or rgba(...)
    const v = String(cx.fillStyle);
    const rgb = v[0] === '#' ? [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16)) : (v.match(/[\d.]+/g) || [37, 99, 235]).slice(0, 3).map(Number);
    const [r, g, b] = rgb.map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
    const light = 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4;
    wrap.style.setProperty('--acc', acc);
    wrap.style.setProperty('--on', light ? '#111' : '#fff');
    wrap.style.setProperty('--ring', light ? '#111' : acc);
  })();

  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  ta.addEventListener('input', autosize);
  wrap.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && isOpen) { e.stopPropagation(); toggle(false); }
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && isOpen) markRead();
    schedule(document.hidden ? null : 0);
  });

  // ---- state ---------------------------------------------------------------------------
  let isOpen = false;
  let status = 'active';
  let cursor = 0; // last seq received by polling; the only polling cursor
  const bySeq = new Map(); // seq -> <li>: one element per message, whatever arrives twice
  const pending = new Map(); // clientMessageId -> {li, text, state}
  let unread = 0;
  let timer = 0;
  let failures = 0;
  let pollPausedUntil = 0;
  let sendPausedUntil = 0;
  let queue = Promise.resolve(); // sends and polls run one at a time, so a poll never races a send

  const run = (fn) => (queue = queue.then(fn).catch((e) => console.warn('shopchat:', e)));
  const enc = encodeURIComponent;

  async function api(method, path, body) {
    const headers = { 'X-API-Key': KEY };
    if (st.userSessionId) headers['X-User-Session-Id'] = st.userSessionId;
    if (body) headers['Content-Type'] = 'application/json';
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), 15000);
    let res;
    try {
      res = await fetch(API + path, { method, headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store', credentials: 'omit', signal: ctl.signal });
    } finally { clearTimeout(t); }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      const err = new Error((data && data.error && data.error.message) || 'HTTP ' + res.status);
      err.status = res.status;
      err.code = data && data.error && data.error.code;
      const ra = res.headers.get('Retry-After');
      err.retryAfter = Math.min(Math.max(parseInt(ra, 10) || 5, 1), 300);
      throw err;
    }
    return { status: res.status, data: data || {} };
  }

  function say(text, ms) {
    notice.textContent = text || '';
    notice.hidden = !text;
    clearTimeout(say.t);
    if (text && ms) say.t = setTimeout(() => say(''), ms);
  }

  // ---- open / close --------------------------------------------------------------------
  function toggle(force, quiet) {
    const want = force == null ? !isOpen : !!force;
    if (want === isOpen) return;
    isOpen = want;
    ui.set(want);
    panel.hidden = !want;
    wrap.classList.toggle('open', want);
    launcher.setAttribute('aria-expanded', String(want));
    if (want) {
      markRead();
      scrollDown(true);
      const target = st.sessionId ? (status === 'active' ? ta : closedBox.querySelector('button')) : nameIn;
      if (!quiet) setTimeout(() => target.focus(), 0);
    } else if (!quiet) {
      launcher.focus();
    }
    schedule(want ? 0 : null);
  }

  function markRead() {
    let max = st.readSeq || 0;
    for (const s of bySeq.keys()) if (s > max) max = s;
    if (st.sessionId && max !== st.readSeq) { st.readSeq = max; save(); }
    setUnread(0);
  }
  function setUnread(n) {
    unread = n;
    badge.textContent = n > 9 ? '9+' : String(n);
    badge.hidden = !n;
    launcher.setAttribute('aria-label', n ? `${T.open} (${T.unread(n)})` : T.open);
  }

  function showForm() {
    formBox.hidden = false;
    chat.hidden = true;
  }
  function showChat() {
    formBox.hidden = true;
    chat.hidden = false;
    closedBox.hidden = status === 'active';
    composer.hidden = status !== 'active';
  }

  function setStatus(s) {
    if (!s || s === status) return;
    status = s;
    showChat();
    if (s !== 'active') {
      clearTimeout(timer);
      if (root.activeElement === ta) closedBox.querySelector('button').focus();
      scrollDown(true);
    }
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
    showForm();
    say(msg || '');
  }
  function newChat() {
    reset();
    if (isOpen) nameIn.focus();
  }

  // ---- messages ------------------------------------------------------------------------
  function fmtTime(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const time = d.toLocaleTimeString(LANG, { hour: '2-digit', minute: '2-digit' });
    return d.toDateString() === new Date().toDateString() ? time
      : d.toLocaleDateString(LANG, { day: 'numeric', month: 'short' }) + ', ' + time;
  }

  function renderMsg(sender, text) {
    const bubble = h('div', { class: 'bubble' }, h('span', { class: 'sr' }, (sender === 'user' ? T.you : T.shop) + ': '), h('span', { class: 'text' }, text));
    const meta = h('div', { class: 'meta' });
    return h('li', { class: 'msg ' + (sender === 'user' ? 'user' : 'manager') }, bubble, meta);
  }
  function setMeta(li, m) {
    li.dataset.seq = m.seq;
    li.classList.remove('pending', 'failed');
    const meta = li.querySelector('.meta');
    meta.replaceChildren(h('time', { datetime: m.createdAt }, fmtTime(m.createdAt)));
  }
  // Put a message in seq order; messages still being sent stay last.
  function place(li, seq) {
    let ref = null;
    for (const el of list.children) {
      if (!el.dataset.seq || Number(el.dataset.seq) > seq) { ref = el; break; }
    }
    if (li.nextSibling !== ref || li.parentNode !== list) list.insertBefore(li, ref);
  }

  function addServer(m) {
    if (typeof m.seq !== 'number' || bySeq.has(m.seq)) return;
    let li = null;
    if (m.sender === 'user') {
      // A send that looked failed (lost answer) but did arrive: adopt it, never show it twice.
      for (const [cid, p] of pending) {
        if (p.state === 'failed' && p.text === m.messageText) { li = p.li; pending.delete(cid); break; }
      }
    }
    if (!li) li = renderMsg(m.sender, m.messageText);
    setMeta(li, m);
    bySeq.set(m.seq, li);
    place(li, m.seq);
    if (m.sender === 'manager' && m.seq > (st.readSeq || 0)) {
      if (isOpen && !document.hidden) markRead(); else setUnread(unread + 1);
    }
  }

  function nearBottom() { return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80; }
  function scrollDown(force) {
    if (force || nearBottom()) requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });
  }

  function setPendingState(p, state, waitS) {
    p.state = state;
    p.li.classList.toggle('pending', state === 'sending');
    p.li.classList.toggle('failed', state === 'failed');
    const meta = p.li.querySelector('.meta');
    if (state === 'sending') { meta.replaceChildren(T.sending); return; }
    if (status !== 'active') { meta.replaceChildren(h('span', { role: 'alert' }, T.failed)); return; }
    const btn = h('button', { type: 'button', class: 'retry', onclick: () => deliver(p.cid) }, T.retry);
    if (waitS) {
      btn.disabled = true;
      setTimeout(() => { btn.disabled = false; if (p.state === 'failed' && pending.has(p.cid)) deliver(p.cid); }, waitS * 1000);
    }
    meta.replaceChildren(h('span', { role: 'alert' }, T.failed), ' · ', btn);
  }

  function send() {
    const text = ta.value.trim();
    if (!text || status !== 'active' || !st.sessionId) return;
    if (len(text) > 4000) { say(T.tooLong, 6000); return; }
    ta.value = '';
    autosize();
    const cid = rid();
    const li = renderMsg('user', text);
    const p = { cid, li, text, state: 'sending' };
    pending.set(cid, p);
    list.append(li);
    scrollDown(true);
    deliver(cid);
  }

  function deliver(cid) {
    const p = pending.get(cid);
    if (!p) return;
    setPendingState(p, 'sending');
    run(async () => {
      if (!pending.has(cid)) return;
      const wait = Math.ceil((sendPausedUntil - Date.now()) / 1000);
      if (wait > 0) { setPendingState(p, 'failed', wait); say(T.rate(wait), wait * 1000); return; }
      const sid = st.sessionId;
      try {
        const { data } = await api('POST', `/api/public/chat/sessions/${enc(sid)}/messages`, { messageText: p.text, clientMessageId: cid });
        const m = data.message;
        pending.delete(cid);
        if (!m || typeof m.seq !== 'number') return;
        if (bySeq.has(m.seq)) { if (bySeq.get(m.seq) !== p.li) p.li.remove(); return; }
        setMeta(p.li, m);
        bySeq.set(m.seq, p.li);
        place(p.li, m.seq);
        failures = 0;
        if (notice.textContent === T.offline) say('');
      } catch (e) {
        if (sid !== st.sessionId) return;
        if (e.status === 409) { setStatus('closed'); setPendingState(p, 'failed'); return; }
        if (e.status === 404) { reset(T.gone); return; }
        if (e.status === 429) {
          sendPausedUntil = Date.now() + e.retryAfter * 1000;
          setPendingState(p, 'failed', e.retryAfter);
          say(T.rate(e.retryAfter), e.retryAfter * 1000);
          return;
        }
        setPendingState(p, 'failed');
        if (e.status === 400 || e.status === 413) say(e.message, 8000);
        else if (e.status === 401) say(T.unavailable);
        else say(T.offline, 8000);
      }
    });
  }

  // ---- polling -------------------------------------------------------------------------
  function interval() {
    const base = document.hidden ? HIDDEN : isOpen ? FAST : SLOW;
    return failures ? Math.min(base * 2 ** Math.min(failures, 4), 60000) : base;
  }
  function schedule(ms) {
    clearTimeout(timer);
    if (!st.sessionId || status !== 'active') return;
    const wait = Math.max(ms == null ? interval() : ms, pollPausedUntil - Date.now());
    timer = setTimeout(() => run(poll).then(() => schedule()), wait);
  }

  async function poll() {
    if (!st.sessionId || status !== 'active' || Date.now() < pollPausedUntil) return;
    const sid = st.sessionId;
    try {
      for (let i = 0; i < 20; i++) {
        const { data } = await api('GET', `/api/public/chat/sessions/${enc(sid)}/messages?since=${cursor}&userSessionId=${enc(st.userSessionId || '')}`);
        if (sid !== st.sessionId) return;
        const wasBottom = nearBottom();
        const msgs = Array.isArray(data.messages) ? data.messages : [];
        for (const m of msgs) {
          addServer(m);
          if (m.seq > cursor) cursor = m.seq;
        }
        if (typeof data.cursor === 'number' && data.cursor > cursor) cursor = data.cursor;
        if (msgs.length) scrollDown(wasBottom);
        setStatus(data.sessionStatus);
        if (!data.hasMore || !msgs.length) break;
      }
      if (failures && notice.textContent === T.offline) say('');
      failures = 0;
    } catch (e) {
      if (sid !== st.sessionId) return;
      if (e.status === 404) { reset(T.gone); return; }
      if (e.status === 429) { pollPausedUntil = Date.now() + e.retryAfter * 1000; return; }
      failures++;
      if (e.status === 401) say(T.unavailable);
      else if (failures >= 2) say(T.offline);
    }
  }

  // ---- pre-chat form -------------------------------------------------------------------
  function fieldError(input, errEl, msg) {
    errEl.textContent = msg || '';
    errEl.hidden = !msg;
    input.setAttribute('aria-invalid', msg ? 'true' : 'false');
  }
  function startChat(e) {
    e.preventDefault();
    const name = nameIn.value.trim();
    const phone = phoneIn.value.trim();
    const nameBad = len(name) > 100 ? T.nameLong : '';
    const phoneBad = len(phone) > 32 || !PHONE_RE.test(phone) ? T.phoneBad : '';
    fieldError(nameIn, nameErr, nameBad);
    fieldError(phoneIn, phoneErr, phoneBad);
    if (nameBad) { nameIn.focus(); return; }
    if (phoneBad) { phoneIn.focus(); return; }
    startBtn.disabled = true;
    run(async () => {
      try {
        const body = {};
        if (name) body.userName = name;
        if (phone) body.userPhone = phone;
        const { data } = await api('POST', '/api/public/chat/sessions', body);
        const s = data.session;
        st = { sessionId: s.id, userSessionId: s.userSessionId, readSeq: 0 };
        save();
        status = s.status || 'active';
        cursor = 0;
        say('');
        showChat();
        if (isOpen) ta.focus();
        schedule(0);
      } catch (err) {
        if (err.status === 429) say(T.rate(err.retryAfter), err.retryAfter * 1000);
        else if (err.status === 400) say(err.message, 8000);
        else say(T.unavailable, 8000);
      } finally {
        startBtn.disabled = false;
      }
    });
  }

  function autosize() {
    ta.style.height = 'auto';
    ta.style.height = Math.min(ta.scrollHeight + 2, 132) + 'px';
  }

  // ---- start ---------------------------------------------------------------------------
  function mount() {
    document.body.append(host);
    if (st.sessionId) { showChat(); schedule(0); } else showForm();
    if (ui.get()) toggle(true, true); // continue an open chat on the next page, without stealing focus
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);

  window.ShopChat = { open: () => toggle(true), close: () => toggle(false), toggle: () => toggle(), newChat };
})();
