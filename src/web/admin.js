// shopchat manager panel: /chat lists the chats, /chat/<id> shows one transcript.
// Served under a strict CSP (no inline script or style): all markup is built here with
// textContent and classes, never innerHTML and never style attributes.
(() => {
  'use strict';

  const TOKEN_KEY = 'shopchat.managerToken';
  // The feed brings every change at once; this only ages "5 min ago" in the list.
  const LIST_REFRESH = 30000;
  const PAGE = 50;

  // ---- languages: English and Ukrainian; the browser's choice, switchable in the top bar
  const LANG_KEY = 'shopchat.lang';
  const DICT = {
    en: {
      signIn: 'Sign in', signInTitle: 'Sign in to the chats', token: 'Manager token', pasteToken: 'Paste your manager token.',
      tokenHelp1: 'Create one with ', tokenHelp2: '. The first start of the server also prints a token for “admin”. It is kept in this browser until you log out.',
      tokenRefused: 'That token was not accepted. Check it and try again.', tokenGone: 'Your token was not accepted any more. Please sign in again.',
      unreachable: 'Cannot reach the server: {m}', unreachableRetry: 'Cannot reach the server. {m}', tryAgain: 'Try again', logOut: 'Log out',
      chats: 'Chats', tabActive: 'Active', tabClosed: 'Closed', tabArchived: 'Archived', tabAll: 'All', status: 'Status',
      search: 'Search by name or phone', awaitingN: '{n} awaiting reply', showAll: 'Show all chats', showAwaiting: 'Show only chats awaiting a reply',
      nChats: '{n} chats', noMatch: 'No chats match.', tryOther: 'Try another search or filter.',
      noChatsYet: 'No chats yet.', noStatusChats: 'No {s} chats yet.', whenVisitor: 'When a visitor writes from the widget, the chat appears here within a few seconds.',
      newer: '← Newer', older: 'Older →', ofTotal: '{a}–{b} of {n}', refreshFailed: 'Could not refresh the chats: {m}',
      noMessages: 'No messages yet', you: 'You', manager: 'Manager', waiting: 'The visitor is waiting for a reply', awaiting: 'Awaiting reply',
      assignedTo: 'Assigned to {n}', nMessages: '{n} messages', visitor: 'Visitor {id}',
      active: 'Active', closed: 'Closed', archived: 'Archived',
      allChats: '← All chats', loading: 'Loading…', assigned: 'Assigned to', closeChat: 'Close chat', reopen: 'Reopen chat',
      closeQ: 'Close this chat?', closeConfirm: 'Close this chat? The visitor will see it as closed and can start a new one.', cancel: 'Cancel',
      lost: 'Connection lost. Retrying…', reply: 'Reply', writeReply: 'Write a reply…', send: 'Send', hint: 'Enter sends · Shift+Enter adds a line',
      assignedToast: 'Assigned to {n}', unassignedToast: 'Unassigned', assignFailed: 'Could not assign: {m}', closedToast: 'Chat closed',
      closeFailed: 'Could not close the chat: {m}', reopenedToast: 'Chat reopened', reopenFailed: 'Could not reopen the chat: {m}',
      unassigned: 'Unassigned', youMark: ' (you)', noPhone: 'No phone given',
      startedNow: 'started just now', startedMin: 'started {n} min ago', startedToday: 'started today at {t}', startedOn: 'started {d} at {t}',
      archivedNote: 'This chat is archived.', closedNote: 'This chat is closed. The visitor can start a new one from the widget.',
      sending: 'Sending…', notSent: 'Not sent', retry: 'Retry', notSentClosed: 'Not sent: the chat is closed', tooMany: 'Too many messages, wait a moment',
      notSentWhy: 'Not sent: {m}', notSentOffline: 'Not sent: no connection', tooLong: 'A message can be at most 4000 characters.',
      notFound: 'Chat not found', notFoundWhy: 'It may have been removed, or the link is wrong.', loadFailed: 'Could not load this chat: {m}',
      now: 'now', min: '{n} min', yesterday: 'yesterday', today: 'Today', yesterdayCap: 'Yesterday', messages: 'Messages',
      earlier: 'This visitor’s other chats', auto: 'Auto-reply', language: 'Language', email: 'Email',
      typing: '{n} is typing…', seen: 'Seen', unreadN: '{n} unread', alertsOn: 'Alerts on', alertsOff: 'Alerts off',
      alertsHelp: 'A sound and a desktop notification for a new chat or message while this tab is hidden or another chat is open',
      alertsBlocked: 'The browser blocks notifications for this site; the sound still plays.',
      newIn: 'New message from {n}', newChatFrom: 'New chat: {n}', otherChats: '{n} other chats have new messages',
    },
    uk: {
      signIn: 'Увійти', signInTitle: 'Вхід до чатів', token: 'Токен менеджера', pasteToken: 'Вставте свій токен менеджера.',
      tokenHelp1: 'Створіть його командою ', tokenHelp2: '. Перший запуск сервера також друкує токен для «admin». Він зберігається в цьому браузері, доки ви не вийдете.',
      tokenRefused: 'Цей токен не прийнято. Перевірте його й спробуйте ще раз.', tokenGone: 'Ваш токен більше не приймається. Увійдіть знову.',
      unreachable: 'Сервер недоступний: {m}', unreachableRetry: 'Сервер недоступний. {m}', tryAgain: 'Спробувати ще', logOut: 'Вийти',
      chats: 'Чати', tabActive: 'Активні', tabClosed: 'Закриті', tabArchived: 'Архів', tabAll: 'Усі', status: 'Стан',
      search: 'Пошук за ім’ям або телефоном', awaitingN: 'Чекають на відповідь: {n}', showAll: 'Показати всі чати', showAwaiting: 'Лише ті, що чекають на відповідь',
      nChats: 'Чатів: {n}', noMatch: 'Нічого не знайдено.', tryOther: 'Спробуйте інший пошук чи фільтр.',
      noChatsYet: 'Чатів ще немає.', noStatusChats: 'Чатів ще немає.', whenVisitor: 'Коли відвідувач напише у віджеті, чат з’явиться тут за кілька секунд.',
      newer: '← Новіші', older: 'Старіші →', ofTotal: '{a}–{b} з {n}', refreshFailed: 'Не вдалося оновити чати: {m}',
      noMessages: 'Повідомлень ще немає', you: 'Ви', manager: 'Менеджер', waiting: 'Відвідувач чекає на відповідь', awaiting: 'Чекає на відповідь',
      assignedTo: 'Призначено: {n}', nMessages: 'Повідомлень: {n}', visitor: 'Відвідувач {id}',
      active: 'Активний', closed: 'Закритий', archived: 'В архіві',
      allChats: '← Усі чати', loading: 'Завантаження…', assigned: 'Відповідальний', closeChat: 'Закрити чат', reopen: 'Відкрити знову',
      closeQ: 'Закрити цей чат?', closeConfirm: 'Закрити цей чат? Відвідувач побачить, що його закрито, і зможе почати новий.', cancel: 'Скасувати',
      lost: 'Зв’язок втрачено. Пробуємо ще раз…', reply: 'Відповідь', writeReply: 'Напишіть відповідь…', send: 'Надіслати', hint: 'Enter надсилає · Shift+Enter — новий рядок',
      assignedToast: 'Призначено: {n}', unassignedToast: 'Без відповідального', assignFailed: 'Не вдалося призначити: {m}', closedToast: 'Чат закрито',
      closeFailed: 'Не вдалося закрити чат: {m}', reopenedToast: 'Чат знову відкрито', reopenFailed: 'Не вдалося відкрити чат: {m}',
      unassigned: 'Не призначено', youMark: ' (ви)', noPhone: 'Телефон не вказано',
      startedNow: 'почато щойно', startedMin: 'почато {n} хв тому', startedToday: 'почато сьогодні о {t}', startedOn: 'почато {d} о {t}',
      archivedNote: 'Цей чат в архіві.', closedNote: 'Цей чат закрито. Відвідувач може почати новий у віджеті.',
      sending: 'Надсилання…', notSent: 'Не надіслано', retry: 'Повторити', notSentClosed: 'Не надіслано: чат закрито', tooMany: 'Забагато повідомлень, зачекайте',
      notSentWhy: 'Не надіслано: {m}', notSentOffline: 'Не надіслано: немає зв’язку', tooLong: 'Повідомлення — не більше 4000 символів.',
      notFound: 'Чат не знайдено', notFoundWhy: 'Можливо, його видалено, або посилання хибне.', loadFailed: 'Не вдалося завантажити чат: {m}',
      now: 'щойно', min: '{n} хв', yesterday: 'учора', today: 'Сьогодні', yesterdayCap: 'Учора', messages: 'Повідомлення',
      earlier: 'Інші чати цього відвідувача', auto: 'Автовідповідь', language: 'Мова', email: 'Email',
      typing: '{n} пише…', seen: 'Переглянуто', unreadN: 'Непрочитані: {n}', alertsOn: 'Сповіщення увімк.', alertsOff: 'Сповіщення вимк.',
      alertsHelp: 'Звук і сповіщення на робочому столі про новий чат чи повідомлення, коли ця вкладка прихована або відкрито інший чат',
      alertsBlocked: 'Браузер блокує сповіщення для цього сайту; звук усе одно лунає.',
      newIn: 'Нове повідомлення від {n}', newChatFrom: 'Новий чат: {n}', otherChats: 'Нові повідомлення в інших чатах: {n}',
    },
  };
  const pick = (v) => (String(v || '').toLowerCase().startsWith('uk') ? 'uk' : 'en');
  let lang = read(LANG_KEY) ? pick(read(LANG_KEY)) : pick((navigator.languages || [navigator.language]).find((l) => /^(uk|en)/i.test(l)));
  const t = (k, v = {}) => String((DICT[lang] && DICT[lang][k]) ?? DICT.en[k] ?? k).replace(/\{(\w+)\}/g, (m, x) => (x in v ? v[x] : m));
  let tz; // the shop's time zone (from /api/chat/me): days and times are the shop's

  let token = read(TOKEN_KEY);
  let me = null;
  let managers = [];
  let view = null; // the live view: {stop()}
  let routeSeq = 0;

  const main = document.getElementById('main');
  const langSel = document.getElementById('lang');
  const bar = document.getElementById('bar');
  const toastEl = document.getElementById('toast');

  function read(k) { try { return localStorage.getItem(k) || ''; } catch (e) { return ''; } }
  function write(k, v) { try { if (v) localStorage.setItem(k, v); else localStorage.removeItem(k); } catch (e) { /* private mode */ } }

  // ---- DOM: text only ------------------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids.flat()) if (k != null && k !== false) el.append(k);
    return el;
  }

  let toastTimer = 0;
  function toast(text, kind) {
    toastEl.textContent = text;
    toastEl.className = 'toast' + (kind ? ' ' + kind : '');
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, 4000);
  }

  // ---- API -----------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  async function api(method, path, body, withToken, signal) {
    const headers = { Authorization: 'Bearer ' + (withToken || token) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', signal });
    let data = null;
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    if (!res.ok) {
      const e = (data && data.error) || {};
      const err = new ApiError(res.status, e.code || 'http_' + res.status, e.message || 'HTTP ' + res.status);
      if (res.status === 401 && !withToken) signOut(t('tokenGone'));
      throw err;
    }
    return data || {};
  }
  const enc = encodeURIComponent;
  const rid = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

  // ---- formatting ----------------------------------------------------------------------
  const opt = (o) => (tz ? { ...o, timeZone: tz } : o);
  const loc = () => (lang === 'uk' ? 'uk-UA' : 'en-GB');
  const hm = (d) => d.toLocaleTimeString(loc(), opt({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }));
  const dayKey = (d) => d.toLocaleDateString('en-CA', opt({})); // YYYY-MM-DD in the shop's zone
  const sameDay = (a, b) => dayKey(a) === dayKey(b);
  const yesterdayOf = (now) => new Date(now.getTime() - 864e5);
  function shortWhen(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const now = new Date();
    const mins = Math.round((now - d) / 60000);
    if (mins < 1) return t('now');
    if (mins < 60) return t('min', { n: mins });
    if (sameDay(d, now)) return hm(d);
    if (sameDay(d, yesterdayOf(now))) return t('yesterday');
    const sameYear = d.toLocaleDateString('en-CA', opt({ year: 'numeric' })) === now.toLocaleDateString('en-CA', opt({ year: 'numeric' }));
    return d.toLocaleDateString(loc(), opt({ day: 'numeric', month: 'short', year: sameYear ? undefined : 'numeric' }));
  }
  function dayLabel(d) {
    const now = new Date();
    if (sameDay(d, now)) return t('today');
    if (sameDay(d, yesterdayOf(now))) return t('yesterdayCap');
    return d.toLocaleDateString(loc(), opt({ weekday: 'short', day: 'numeric', month: 'long', year: 'numeric' }));
  }
  function started(iso) {
    const d = new Date(iso);
    const mins = Math.round((Date.now() - d) / 60000);
    if (isNaN(d)) return '';
    if (mins < 1) return t('startedNow');
    if (mins < 60) return t('startedMin', { n: mins });
    if (sameDay(d, new Date())) return t('startedToday', { t: hm(d) });
    return t('startedOn', { d: d.toLocaleDateString(loc(), opt({ day: 'numeric', month: 'short', year: 'numeric' })), t: hm(d) });
  }
  const fullWhen = (iso) => { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleString(loc(), opt({})) + (tz ? ' (' + tz + ')' : ''); };
  const visitorName = (s) => (s.userName && s.userName.trim()) || t('visitor', { id: s.id.slice(0, 4) });
  const managerName = (id) => { const m = managers.find((x) => x.id === id); return m ? m.displayName || m.id : id; };
  function initials(s) {
    const n = (s.userName || '').trim();
    if (!n) return '?';
    const parts = n.split(/\s+/);
    return [...parts[0]][0].toUpperCase() + (parts[1] ? [...parts[1]][0].toUpperCase() : '');
  }
  function hue(id) { let x = 0; for (const c of id) x = (x * 31 + c.charCodeAt(0)) >>> 0; return 'c' + (x % 8); }
  const statusPill = (st) => h('span', { class: 'pill ' + st }, t(st));

  // ---- routing -------------------------------------------------------------------------
  function go(url, replace) {
    if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
    route();
  }
  window.addEventListener('popstate', route);
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[data-nav]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    go(a.getAttribute('href'));
  });
  document.getElementById('logout').addEventListener('click', () => signOut());

  async function route() {
    const mine = ++routeSeq;
    if (view) { view.stop(); view = null; }
    if (!token) { showLogin(); return; }
    if (!me) {
      try {
        const who = await api('GET', '/api/chat/me');
        me = who.manager;
        tz = who.shop && who.shop.timezone;
        managers = (await api('GET', '/api/chat/managers')).managers || [];
      } catch (e) {
        if (e.status !== 401) showFatal(t('unreachableRetry', { m: e.message }), route);
        return;
      }
      if (mine !== routeSeq) return;
    }
    bar.hidden = false;
    document.getElementById('who').textContent = me.displayName || me.id;
    alerts.show();
    live.start();
    const m = location.pathname.match(/^\/chat\/([^/]+)\/?$/);
    view = m ? chatView(decodeURIComponent(m[1])) : listView();
  }

  function signOut(message) {
    live.stop();
    token = '';
    me = null;
    write(TOKEN_KEY, '');
    if (view) { view.stop(); view = null; }
    showLogin(message);
  }

  function mount(...nodes) {
    main.replaceChildren(...nodes);
  }
  function showFatal(text, retry) {
    mount(h('section', { class: 'card empty' }, h('p', null, text),
      h('button', { type: 'button', class: 'btn', onclick: retry }, t('tryAgain'))));
  }

  // ---- login ---------------------------------------------------------------------------
  function showLogin(message) {
    bar.hidden = true;
    document.title = t('signIn') + ' — shopchat';
    const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', spellcheck: 'false', required: true, 'aria-describedby': 'token-help token-err' });
    const err = h('p', { id: 'token-err', class: 'err', role: 'alert', hidden: !message }, message || '');
    const btn = h('button', { type: 'submit', class: 'btn primary wide' }, t('signIn'));
    const form = h('form', { class: 'login card', onsubmit: async (e) => {
      e.preventDefault();
      const tok = input.value.trim();
      if (!tok) { err.textContent = t('pasteToken'); err.hidden = false; input.focus(); return; }
      btn.disabled = true;
      err.hidden = true;
      try {
        const who = await api('GET', '/api/chat/me', undefined, tok);
        me = who.manager;
        tz = who.shop && who.shop.timezone;
        token = tok;
        write(TOKEN_KEY, tok);
        managers = (await api('GET', '/api/chat/managers')).managers || [];
        route();
      } catch (ex) {
        me = null;
        err.textContent = ex.status === 401 ? t('tokenRefused') : t('unreachable', { m: ex.message });
        err.hidden = false;
        input.focus();
        input.select();
      } finally { btn.disabled = false; }
    } },
    h('div', { class: 'login-brand' }, h('span', { class: 'logo big', 'aria-hidden': 'true' }), 'shopchat', langPicker()),
    h('h1', null, t('signInTitle')),
    h('label', { for: 'token' }, t('token')),
    input,
    h('p', { id: 'token-help', class: 'help' }, t('tokenHelp1'), h('code', null, 'shopchat managers add NAME'), t('tokenHelp2')),
    err, btn);
    mount(form);
    input.focus();
  }

  // ---- live: one long-poll on the feed keeps the list, an open chat, the tab's title and the
  // alerts current. When long-polls keep failing (a proxy that cuts waiting requests), the
  // same feed is asked every few seconds instead, for a while, by itself.
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const live = (() => {
    let cursor = null, state = '', ctl = null, running = false, fails = 0, plainUntil = 0, gen = 0;
    let typing = new Set();
    let awaiting = 0, titleBase = 'shopchat';
    let topSeq = 0; // the newest visitor message known: newer ones are news

    function start() {
      if (running) return;
      running = true;
      cursor = null;
      loop(++gen);
    }
    function stop() { running = false; gen++; if (ctl) ctl.abort(); }

    async function loop(mine) {
      while (running && mine === gen) {
        const plain = Date.now() < plainUntil;
        const c = (ctl = new AbortController());
        const timer = setTimeout(() => c.abort(), 40000);
        try {
          if (cursor === null) {
            const [r, recent] = await Promise.all([
              api('GET', '/api/chat/feed', undefined, undefined, c.signal),
              api('GET', '/api/chat/sessions?status=all&limit=50', undefined, undefined, c.signal)]);
            for (const x of recent.sessions || []) if (x.lastMessage) topSeq = Math.max(topSeq, x.lastMessage.seq);
            cursor = r.cursor; state = r.state || ''; typing = new Set(r.visitorTyping || []);
            await countAwaiting();
            continue;
          }
          const r = await api('GET', `/api/chat/feed?since=${cursor}&wait=${plain ? 0 : 25}&state=${enc(state)}`, undefined, undefined, c.signal);
          if (mine !== gen) return;
          fails = 0;
          cursor = r.cursor; state = r.state || '';
          const now = new Set(r.visitorTyping || []);
          const typingChanged = now.size !== typing.size || [...now].some((id) => !typing.has(id));
          typing = now;
          const items = r.sessions || [];
          for (const x of items) news(x);
          if (items.length) await countAwaiting();
          if (view && view.onFeed && (items.length || typingChanged)) view.onFeed(items, typing);
          if (r.hasMore) continue;
          if (plain) await sleep(3000);
        } catch (e) {
          if (mine !== gen || e.status === 401) return;
          if (++fails >= 2 && !plain) plainUntil = Date.now() + 5 * 60000;
          await sleep(Math.min(1000 * 2 ** fails, 15000));
        } finally { clearTimeout(timer); }
      }
    }

    async function countAwaiting() {
      try {
        setAwaiting((await api('GET', '/api/chat/sessions?status=active&awaitingReply=true&limit=1')).total || 0);
      } catch (e) { /* the next change tries again */ }
    }
    function setAwaiting(n) { awaiting = n; title(); }
    // The tab's title counts the chats awaiting a reply, whatever is open.
    function title(base) {
      if (base !== undefined) titleBase = base;
      document.title = (awaiting ? `(${awaiting}) ` : '') + titleBase + ' — shopchat';
    }

    // A visitor's message newer than any seen so far: an alert when nobody is looking at it.
    function news(x) {
      const m = x.lastMessage;
      if (!m || m.sender !== 'user' || m.seq <= topSeq) return;
      topSeq = m.seq;
      const openId = view && view.chatId;
      if (openId === x.id && !document.hidden) return;
      if (openId && openId !== x.id && view.onOtherNews) view.onOtherNews(x);
      if (document.hidden || openId) alerts.fire(x, m);
    }
    return { start, stop, title, setAwaiting, typingIn: (id) => typing.has(id) };
  })();

  // ---- alerts: opt-in, per browser. A short tone (Web Audio, nothing to download) and a
  // desktop notification (Notification API) for a new chat or message while this tab is
  // hidden or another chat is open.
  const alerts = (() => {
    const KEY = 'shopchat.alerts';
    const btn = document.getElementById('alerts');
    let on = read(KEY) === '1';
    let audio = null;
    function show() {
      if (!btn) return;
      btn.replaceChildren(h('span', { class: 'alert-dot' + (on ? ' on' : ''), 'aria-hidden': 'true' }), t(on ? 'alertsOn' : 'alertsOff'));
      btn.setAttribute('aria-pressed', String(on));
      btn.title = t('alertsHelp');
    }
    if (btn) btn.addEventListener('click', async () => {
      on = !on;
      write(KEY, on ? '1' : '');
      show();
      if (!on) return;
      beep(); // the click lets the page play sound from now on
      if ('Notification' in window && Notification.permission === 'default') {
        try { await Notification.requestPermission(); } catch (e) { /* old browsers */ }
      }
      if ('Notification' in window && Notification.permission === 'denied') toast(t('alertsBlocked'));
    });
    function beep() {
      try {
        audio = audio || new AudioContext();
        if (audio.state === 'suspended') audio.resume();
        const o = audio.createOscillator(), g = audio.createGain(), at = audio.currentTime;
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.0001, at);
        g.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
        o.connect(g).connect(audio.destination);
        o.start(at);
        o.stop(at + 0.4);
      } catch (e) { /* no audio here */ }
    }
    function fire(x, m) {
      if (!on) return;
      beep();
      if (!('Notification' in window) || Notification.permission !== 'granted') return;
      const n = new Notification((x.messageCount || 0) <= 1 ? t('newChatFrom', { n: visitorName(x) }) : t('newIn', { n: visitorName(x) }),
        { body: m.messageText.slice(0, 200), tag: 'shopchat-' + x.id });
      n.onclick = () => { window.focus(); go('/chat/' + enc(x.id)); n.close(); };
    }
    return { fire, show };
  })();

  // ---- list of chats -------------------------------------------------------------------
  const TABS = [['active', 'tabActive'], ['closed', 'tabClosed'], ['archived', 'tabArchived'], ['all', 'tabAll']];

  function listView() {
    const params = new URLSearchParams(location.search);
    const state = {
      status: TABS.some((t) => t[0] === params.get('status')) ? params.get('status') : 'active',
      q: params.get('q') || '',
      awaiting: params.get('awaiting') === '1',
      page: Math.max(parseInt(params.get('page'), 10) || 1, 1),
    };
    let timer = 0;
    let stopped = false;
    let loadSeq = 0;
    const rows = new Map(); // id -> {li, sig}

    const tabs = TABS.map(([id, label]) => h('button', { type: 'button', class: 'tab', 'data-status': id, 'aria-pressed': String(state.status === id), onclick: () => { state.status = id; state.page = 1; sync(); } }, t(label)));
    const search = h('input', { type: 'search', class: 'search', placeholder: t('search'), 'aria-label': t('search'), value: state.q });
    let debounce = 0;
    search.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(() => { state.q = search.value.trim(); state.page = 1; sync(); }, 250); });
    // The count is of active chats awaiting a reply, whatever the tab; pressing it shows them.
    const awaitingBtn = h('button', { type: 'button', class: 'chip', 'aria-pressed': String(state.awaiting), onclick: () => {
      state.awaiting = !state.awaiting;
      if (state.awaiting) state.status = 'active';
      state.page = 1;
      sync();
    } });
    const ul = h('ul', { class: 'sessions', 'aria-label': t('chats') });
    const empty = h('div', { class: 'empty', hidden: true });
    const pager = h('div', { class: 'pager', hidden: true });
    const status = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite' });

    mount(h('section', { class: 'list-view' },
      h('div', { class: 'list-head' }, h('h1', null, t('chats')), awaitingBtn),
      h('div', { class: 'toolbar' }, h('div', { class: 'tabs', role: 'group', 'aria-label': t('status') }, tabs), search),
      h('div', { class: 'card list-card' }, ul, empty),
      pager, status));

    function sync() {
      const p = new URLSearchParams();
      if (state.status !== 'active') p.set('status', state.status);
      if (state.q) p.set('q', state.q);
      if (state.awaiting) p.set('awaiting', '1');
      if (state.page > 1) p.set('page', state.page);
      const qs = p.toString();
      history.replaceState(null, '', '/chat' + (qs ? '?' + qs : ''));
      for (const t of tabs) t.setAttribute('aria-pressed', String(t.dataset.status === state.status));
      awaitingBtn.setAttribute('aria-pressed', String(state.awaiting));
      load(true);
    }

    async function load(userAction) {
      clearTimeout(timer);
      const mine = ++loadSeq;
      const q = new URLSearchParams({ status: state.status, limit: PAGE, offset: (state.page - 1) * PAGE });
      if (state.q) q.set('search', state.q);
      if (state.awaiting) q.set('awaitingReply', 'true');
      const aq = new URLSearchParams({ status: 'active', awaitingReply: 'true', limit: 1 });
      try {
        const [list, aw] = await Promise.all([api('GET', '/api/chat/sessions?' + q), api('GET', '/api/chat/sessions?' + aq)]);
        if (stopped || mine !== loadSeq) return;
        render(list.sessions || [], list.total || 0, aw.total || 0);
        if (userAction) status.textContent = t('nChats', { n: list.total || 0 });
      } catch (e) {
        if (stopped || e.status === 401) return;
        toast(t('refreshFailed', { m: e.message }), 'error');
      }
      if (!stopped) timer = setTimeout(load, document.hidden ? LIST_REFRESH * 4 : LIST_REFRESH);
    }

    function render(sessions, total, awaitingTotal) {
      awaitingBtn.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), t('awaitingN', { n: awaitingTotal }));
      awaitingBtn.classList.toggle('zero', !awaitingTotal);
      awaitingBtn.title = state.awaiting ? t('showAll') : t('showAwaiting');
      live.setAwaiting(awaitingTotal);
      live.title(t('chats'));

      const seen = new Set();
      sessions.forEach((s, i) => {
        seen.add(s.id);
        const sig = JSON.stringify([s.updatedAt, s.status, s.managerId, s.awaitingReply, s.messageCount, s.unreadCount, live.typingIn(s.id), s.userName, s.userPhone, managers.length, shortWhen(s.updatedAt)]);
        let row = rows.get(s.id);
        if (!row || row.sig !== sig) {
          const li = row ? row.li : h('li');
          li.replaceChildren(sessionRow(s));
          row = { li, sig };
          rows.set(s.id, row);
        }
        if (ul.children[i] !== row.li) ul.insertBefore(row.li, ul.children[i] || null);
      });
      for (const [id, row] of rows) if (!seen.has(id)) { row.li.remove(); rows.delete(id); }

      empty.hidden = sessions.length > 0;
      ul.hidden = !sessions.length;
      if (!sessions.length) {
        const filtered = state.q || state.awaiting || state.page > 1;
        empty.replaceChildren(h('p', { class: 'empty-title' }, filtered ? t('noMatch') : state.status === 'all' ? t('noChatsYet') : t('noStatusChats', { s: t(state.status).toLowerCase() })),
          h('p', null, filtered ? t('tryOther') : t('whenVisitor')));
      }
      const pages = Math.max(1, Math.ceil(total / PAGE));
      pager.hidden = total <= PAGE;
      if (!pager.hidden) {
        const from = (state.page - 1) * PAGE + 1;
        pager.replaceChildren(
          h('button', { type: 'button', class: 'btn small', disabled: state.page <= 1, onclick: () => { state.page--; sync(); } }, t('newer')),
          h('span', null, t('ofTotal', { a: from, b: Math.min(total, from + PAGE - 1), n: total })),
          h('button', { type: 'button', class: 'btn small', disabled: state.page >= pages, onclick: () => { state.page++; sync(); } }, t('older')));
      }
    }

    function sessionRow(s) {
      const last = s.lastMessage;
      let preview;
      if (s.status === 'active' && live.typingIn(s.id)) preview = h('span', { class: 'typing-note' }, t('typing', { n: visitorName(s) }));
      else if (!last) preview = h('span', { class: 'muted' }, t('noMessages'));
      else {
        const who = last.sender === 'manager' ? (last.managerId === me.id ? t('you') : managerName(last.managerId || '') || t('manager')) + ': ' : '';
        preview = [who ? h('span', { class: 'who-said' }, who) : null, last.messageText];
      }
      const name = visitorName(s);
      // Only an open chat waits for anyone: a closed one that ended with the visitor's message does not.
      const waiting = s.awaitingReply && s.status === 'active';
      return h('a', { href: '/chat/' + enc(s.id), 'data-nav': true, 'data-id': s.id, class: 'row' + (waiting ? ' awaiting' : '') },
        h('span', { class: 'avatar ' + hue(s.id), 'aria-hidden': 'true' }, initials(s)),
        h('span', { class: 'row-main' },
          h('span', { class: 'row-top' },
            h('span', { class: 'name' }, name),
            s.userPhone ? h('span', { class: 'phone' }, s.userPhone) : null),
          h('span', { class: 'preview' }, preview)),
        h('span', { class: 'row-side' },
          h('time', { datetime: s.updatedAt, title: fullWhen(s.updatedAt) }, shortWhen(s.updatedAt)),
          h('span', { class: 'tags' },
            waiting ? h('span', { class: 'await-mark', title: t('waiting') }, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'await-text' }, t('awaiting'))) : null,
            s.status !== 'active' ? statusPill(s.status) : null,
            s.managerId ? h('span', { class: 'assignee', title: t('assignedTo', { n: managerName(s.managerId) }) }, managerName(s.managerId)) : null,
            s.unreadCount > 0 && s.status === 'active' ? h('span', { class: 'unread', title: t('unreadN', { n: s.unreadCount }) }, String(s.unreadCount)) : null,
            h('span', { class: 'count', title: t('nMessages', { n: s.messageCount }) }, String(s.messageCount)))));
    }

    const onVis = () => { if (!document.hidden) load(); };
    document.addEventListener('visibilitychange', onVis);
    load(false);
    let soon = 0;
    return {
      // A change anywhere: read this page of the list again (once for a burst of changes).
      onFeed() { clearTimeout(soon); soon = setTimeout(() => { if (!stopped) load(); }, 100); },
      stop() { stopped = true; clearTimeout(timer); clearTimeout(debounce); clearTimeout(soon); document.removeEventListener('visibilitychange', onVis); },
    };
  }

  // ---- one chat ------------------------------------------------------------------------
  function chatView(id) {
    let stopped = false;
    let timer = 0;
    let session = null;
    let cursor = 0;
    let failures = 0;
    const bySeq = new Map();
    const pending = new Map(); // clientMessageId -> {li, text, state}
    let queue = Promise.resolve(); // sends and polls one at a time: a poll never races a send
    const run = (fn) => (queue = queue.then(fn).catch((e) => console.warn(e)));

    const back = h('a', { href: '/chat', 'data-nav': true, class: 'back' }, t('allChats'));
    const title = h('h1', null, t('loading'));
    const sub = h('p', { class: 'sub' });
    const pill = h('span');
    const select = h('select', { id: 'assign' });
    const closeBtn = h('button', { type: 'button', class: 'btn danger' }, t('closeChat'));
    const reopenBtn = h('button', { type: 'button', class: 'btn', hidden: true, onclick: doReopen }, t('reopen'));
    const confirmBar = h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': t('closeQ'), hidden: true });
    const offline = h('p', { class: 'offline', role: 'status', hidden: true }, t('lost'));
    const log = h('ol', { class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': t('messages') });
    const scroller = h('div', { class: 'scroller' }, log);
    const ta = h('textarea', { id: 'reply', rows: '2', maxlength: '4000', 'aria-label': t('reply'), placeholder: t('writeReply'), 'aria-describedby': 'reply-hint' });
    const sendBtn = h('button', { type: 'submit', class: 'btn primary' }, t('send'));
    const form = h('form', { class: 'reply', onsubmit: (e) => { e.preventDefault(); send(); } }, ta, sendBtn);
    const closedNote = h('p', { class: 'closed-note', hidden: true });
    const hint = h('p', { id: 'reply-hint', class: 'hint' }, t('hint'));
    const others = h('section', { class: 'card others', hidden: true, 'aria-label': t('earlier') });
    const typingEl = h('p', { class: 'typing-note live', role: 'status', hidden: true });
    // Other chats' news while this one is open: a marker to go there.
    const marker = h('a', { class: 'marker', 'data-nav': true, hidden: true, role: 'status' });
    const otherNews = new Map(); // chat id -> name, of chats with news since this one opened
    let seenSent = 0, seenUpTo = 0, typingSent = 0;

    mount(h('section', { class: 'chat-view' },
      marker,
      h('div', { class: 'chat-head' },
        back,
        h('div', { class: 'chat-title' }, h('div', { class: 'title-row' }, title, pill), sub),
        h('div', { class: 'actions' },
          h('label', { class: 'assign', for: 'assign' }, h('span', null, t('assigned')), select),
          closeBtn, reopenBtn)),
      confirmBar, offline,
      h('div', { class: 'card chat-card' }, scroller, typingEl, form, hint, closedNote),
      others));

    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
    });
    ta.addEventListener('input', () => sendTyping(ta.value.trim() !== ''));
    ta.addEventListener('blur', () => sendTyping(false));
    // The visitor sees "typing…" while the reply is being written (at most every 3 s).
    function sendTyping(on) {
      if (!session || session.status !== 'active') return;
      if (on ? Date.now() - typingSent < 3000 : !typingSent) return;
      typingSent = on ? Date.now() : 0;
      api('POST', `/api/chat/sessions/${enc(id)}/typing`, { typing: on }).catch(() => {});
    }
    // Tell the visitor (and the other managers) what has been seen, while it is on screen.
    function sendSeen() {
      if (document.hidden || stopped) return;
      const max = Math.max(0, ...bySeq.keys());
      if (max <= seenSent) return;
      seenSent = max;
      api('POST', `/api/chat/sessions/${enc(id)}/seen`, { seq: max }).catch(() => { seenSent = 0; });
    }
    function showSeen(seq) {
      if (!(seq > seenUpTo)) return;
      seenUpTo = seq;
      for (const [n, li] of bySeq) if (n <= seq) markSeen(li);
    }
    function markSeen(li) {
      if (!li.classList.contains('manager') || li.classList.contains('seen')) return;
      li.classList.add('seen');
      li.querySelector('.meta').append(h('span', { class: 'tick', title: t('seen') }, h('span', { 'aria-hidden': 'true' }, ' ✓✓'), h('span', { class: 'sr' }, ' ' + t('seen'))));
    }
    function showTyping(on) {
      typingEl.hidden = !on;
      typingEl.textContent = on ? t('typing', { n: visitorName(session || { id }) }) : '';
    }
    closeBtn.addEventListener('click', () => {
      confirmBar.replaceChildren(
        h('p', null, t('closeConfirm')),
        h('button', { type: 'button', class: 'btn danger', onclick: doClose }, t('closeChat')),
        h('button', { type: 'button', class: 'btn ghost', onclick: () => { confirmBar.hidden = true; closeBtn.focus(); } }, t('cancel')));
      confirmBar.hidden = false;
      confirmBar.querySelector('.btn.danger').focus();
    });
    select.addEventListener('change', async () => {
      const managerId = select.value || null;
      select.disabled = true;
      try {
        const res = await api('POST', `/api/chat/sessions/${enc(id)}/assign`, { managerId });
        setSession(res.session);
        toast(managerId ? t('assignedToast', { n: managerName(managerId) }) : t('unassignedToast'));
      } catch (e) {
        if (e.status !== 401) toast(t('assignFailed', { m: e.message }), 'error');
        if (session) fillSelect();
      } finally { select.disabled = false; }
    });

    async function doClose() {
      confirmBar.hidden = true;
      closeBtn.disabled = true;
      try {
        const res = await api('POST', `/api/chat/sessions/${enc(id)}/close`, {});
        setSession(res.session);
        toast(t('closedToast'));
      } catch (e) {
        if (e.status !== 401) toast(t('closeFailed', { m: e.message }), 'error');
      } finally { closeBtn.disabled = session && session.status !== 'active'; }
    }

    async function doReopen() {
      reopenBtn.disabled = true;
      try {
        const res = await api('POST', `/api/chat/sessions/${enc(id)}/reopen`, {});
        setSession(res.session);
        toast(t('reopenedToast'));
        ta.focus();
      } catch (e) {
        if (e.status !== 401) toast(t('reopenFailed', { m: e.message }), 'error');
      } finally { reopenBtn.disabled = false; }
    }

    function fillSelect() {
      const opts = [h('option', { value: '' }, t('unassigned'))];
      const working = managers.filter((m) => m.active !== false); // removed managers keep their names, not the chats
      const ids = new Set(working.map((m) => m.id));
      for (const m of working) opts.push(h('option', { value: m.id }, (m.displayName || m.id) + (m.id === me.id ? t('youMark') : '')));
      if (session.managerId && !ids.has(session.managerId)) opts.push(h('option', { value: session.managerId }, managerName(session.managerId)));
      select.replaceChildren(...opts);
      select.value = session.managerId || '';
    }

    function setSession(s) {
      session = s;
      const name = visitorName(s);
      title.textContent = name;
      live.title(name);
      const bits = [];
      if (s.userPhone) bits.push(h('a', { href: 'tel:' + s.userPhone.replace(/[^0-9+]/g, ''), class: 'tel' }, s.userPhone));
      else bits.push(h('span', { class: 'muted' }, t('noPhone')));
      if (s.userEmail) bits.push(' · ', h('a', { href: 'mailto:' + s.userEmail, class: 'tel' }, s.userEmail));
      bits.push(' · ', h('span', { title: fullWhen(s.createdAt) }, started(s.createdAt)));
      sub.replaceChildren(...bits);
      pill.replaceChildren(statusPill(s.status));
      fillSelect();
      const active = s.status === 'active';
      closeBtn.hidden = !active;
      reopenBtn.hidden = active;
      form.hidden = !active;
      hint.hidden = !active;
      closedNote.hidden = active;
      closedNote.textContent = s.status === 'archived' ? t('archivedNote') : t('closedNote');
      if (!active) {
        confirmBar.hidden = true;
        for (const p of pending.values()) if (p.state !== 'sending') p.li.remove();
      }
    }

    // messages
    function msgEl(sender, text) {
      const li = h('li', { class: 'msg ' + (sender === 'user' ? 'user' : 'manager') },
        h('div', { class: 'bubble' }, h('span', { class: 'text' }, text)),
        h('div', { class: 'meta' }));
      return li;
    }
    function setMeta(li, m) {
      li.dataset.seq = m.seq;
      li.dataset.day = dayKey(new Date(m.createdAt));
      li.dataset.at = m.createdAt;
      li.classList.remove('pending', 'failed', 'seen');
      const who = m.sender === 'user' ? visitorName(session || { id, userName: null })
        : m.auto ? t('auto') : m.managerId === me.id ? t('you') : managerName(m.managerId || t('manager'));
      li.querySelector('.meta').replaceChildren(h('span', { class: 'author' }, who), ' · ',
        h('time', { datetime: m.createdAt, title: fullWhen(m.createdAt) }, hm(new Date(m.createdAt))));
    }
    function place(li, seq) {
      let ref = null;
      for (const el of log.children) {
        if (el.classList.contains('day')) continue;
        if (!el.dataset.seq || Number(el.dataset.seq) > seq) { ref = el; break; }
      }
      // a day separator goes before the first message of each day
      const day = li.dataset.day;
      let prev = ref ? ref.previousElementSibling : log.lastElementChild;
      while (prev && prev.classList.contains('day') && prev.dataset.day !== day) prev = prev.previousElementSibling;
      if (prev && prev.classList.contains('day')) ref = prev.nextElementSibling;
      log.insertBefore(li, ref);
      const before = li.previousElementSibling;
      const beforeDay = before && (before.classList.contains('day') ? before.dataset.day : before.dataset.day);
      if (day && beforeDay !== day) log.insertBefore(h('li', { class: 'day', 'data-day': day }, h('span', null, dayLabel(new Date(li.dataset.at)))), li);
    }
    function addServer(m) {
      if (typeof m.seq !== 'number' || bySeq.has(m.seq)) return;
      let li = null;
      if (m.sender === 'manager') {
        for (const [cid, p] of pending) {
          if (p.state === 'failed' && p.text === m.messageText) { li = p.li; li.remove(); pending.delete(cid); break; }
        }
      }
      li = li || msgEl(m.sender, m.messageText);
      setMeta(li, m);
      bySeq.set(m.seq, li);
      place(li, m.seq);
      if (m.seq <= seenUpTo) markSeen(li);
      if (m.seq > cursor) cursor = m.seq;
    }
    const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 100;
    const scrollDown = () => requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });

    function setPending(p, state, note) {
      p.state = state;
      p.li.classList.toggle('pending', state === 'sending');
      p.li.classList.toggle('failed', state === 'failed');
      const meta = p.li.querySelector('.meta');
      if (state === 'sending') meta.replaceChildren(t('sending'));
      else meta.replaceChildren(h('span', { role: 'alert' }, note || t('notSent')), ' · ',
        h('button', { type: 'button', class: 'link', onclick: () => deliver(p.cid) }, t('retry')));
    }
    function send() {
      const text = ta.value.trim();
      if (!text || !session || session.status !== 'active') return;
      if ([...text].length > 4000) { toast(t('tooLong'), 'error'); return; }
      ta.value = '';
      sendTyping(false);
      const cid = rid();
      const li = msgEl('manager', text);
      li.classList.add('pending');
      const p = { cid, li, text, state: 'sending' };
      pending.set(cid, p);
      log.append(li);
      scrollDown();
      deliver(cid);
    }
    function deliver(cid) {
      const p = pending.get(cid);
      if (!p) return;
      setPending(p, 'sending');
      run(async () => {
        try {
          const res = await api('POST', `/api/chat/sessions/${enc(id)}/messages`, { messageText: p.text, clientMessageId: cid });
          pending.delete(cid);
          const m = res.message;
          if (bySeq.has(m.seq)) { if (bySeq.get(m.seq) !== p.li) p.li.remove(); return; }
          p.li.remove();
          setMeta(p.li, m);
          bySeq.set(m.seq, p.li);
          place(p.li, m.seq);
          if (m.seq <= seenUpTo) markSeen(p.li);
          scrollDown();
          sendSeen();
          // The first answer assigns an unassigned chat (the server did): show it now.
          if (session && !session.managerId) await refresh();
        } catch (e) {
          if (e.status === 409) {
            setPending(p, 'failed', t('notSentClosed'));
            p.li.querySelector('.link').remove();
            refresh();
            return;
          }
          setPending(p, 'failed', e.status === 429 ? t('tooMany') : e.status ? t('notSentWhy', { m: e.message }) : t('notSentOffline'));
        }
      });
    }

    // The visitor's other chats (same browser), newest first.
    function showOthers(list) {
      others.hidden = !list.length;
      if (!list.length) return;
      others.replaceChildren(h('h2', null, t('earlier')), h('ul', null, list.map((c) => h('li', null,
        h('a', { href: '/chat/' + enc(c.id), 'data-nav': true, class: 'other' },
          h('span', { class: 'other-when', title: fullWhen(c.createdAt) }, shortWhen(c.createdAt)),
          h('span', { class: 'other-text' }, c.lastMessage ? c.lastMessage.messageText : t('noMessages')),
          statusPill(c.status))))));
    }

    async function refresh() {
      try { setSession((await api('GET', `/api/chat/sessions/${enc(id)}`)).session); } catch (e) { /* the poll reports problems */ }
    }

    async function poll() {
      if (stopped) return;
      try {
        for (let i = 0; i < 20; i++) {
          const res = await api('GET', `/api/chat/sessions/${enc(id)}/messages?since=${cursor}`);
          if (stopped) return;
          const wasBottom = nearBottom();
          const msgs = res.messages || [];
          msgs.forEach(addServer);
          if (typeof res.cursor === 'number' && res.cursor > cursor) cursor = res.cursor;
          if (msgs.length && wasBottom) scrollDown();
          if (typeof res.visitorSeenSeq === 'number') showSeen(res.visitorSeenSeq);
          showTyping(!!res.visitorTyping && res.sessionStatus === 'active');
          if (res.sessionStatus && session && res.sessionStatus !== session.status) await refresh();
          if (!res.hasMore || !msgs.length) break;
        }
        failures = 0;
        offline.hidden = true;
        sendSeen();
      } catch (e) {
        if (e.status === 401) { stopped = true; return; }
        failures++;
        if (failures >= 2) offline.hidden = false;
      }
    }
    // Between changes nothing is asked: the feed (live, above) says when this chat changed.
    const onVis = () => { if (!document.hidden && !stopped) run(poll); };
    document.addEventListener('visibilitychange', onVis);

    (async () => {
      try {
        const res = await api('GET', `/api/chat/sessions/${enc(id)}`);
        if (stopped) return;
        setSession(res.session);
        (res.messages || []).forEach(addServer);
        showOthers(res.visitorChats || []);
        scrollDown();
        if (res.session.status === 'active') ta.focus();
        run(poll); // the seen and typing state, and anything since
        showTyping(live.typingIn(id));
      } catch (e) {
        if (stopped || e.status === 401) return;
        if (e.status === 404) {
          document.title = t('notFound') + ' — shopchat';
          mount(h('section', { class: 'card empty' }, h('h1', null, t('notFound')),
            h('p', null, t('notFoundWhy')), h('a', { href: '/chat', 'data-nav': true, class: 'btn' }, t('allChats'))));
        } else showFatal(t('loadFailed', { m: e.message }), route);
      }
    })();

    return {
      chatId: id,
      onFeed(items, typing) {
        const mine = items.find((x) => x.id === id);
        if (mine) {
          if (session && (mine.status !== session.status || mine.managerId !== session.managerId)) setSession(mine);
          run(poll);
        } else if (session && session.status === 'active') showTyping(typing.has(id));
      },
      onOtherNews(x) {
        otherNews.set(x.id, visitorName(x));
        const n = otherNews.size;
        marker.setAttribute('href', n === 1 ? '/chat/' + enc(x.id) : '/chat');
        marker.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }),
          n === 1 ? t('newIn', { n: visitorName(x) }) + ': ' + x.lastMessage.messageText.slice(0, 80) : t('otherChats', { n }));
        marker.hidden = false;
        back.replaceChildren(t('allChats'), h('span', { class: 'unread' }, String(n)));
      },
      stop() { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', onVis); },
    };
  }

  // A language picker for the sign-in card (the top bar has its own).
  function langPicker() {
    const sel = h('select', { class: 'lang', 'aria-label': t('language') },
      h('option', { value: 'en' }, 'English'), h('option', { value: 'uk' }, 'Українська'));
    sel.value = lang;
    sel.addEventListener('change', () => { lang = pick(sel.value); write(LANG_KEY, lang); applyLang(); route(); });
    return sel;
  }

  // The language switch: the choice is kept in this browser.
  function applyLang() {
    document.documentElement.lang = lang;
    document.getElementById('logout').textContent = t('logOut');
    if (langSel) { langSel.value = lang; langSel.setAttribute('aria-label', t('language')); }
  }
  if (langSel) {
    langSel.addEventListener('change', () => { lang = pick(langSel.value); write(LANG_KEY, lang); applyLang(); route(); });
  }
  applyLang();
  route();
})();
