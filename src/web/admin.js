// shopchat manager panel: /chat lists the chats, /chat/<id> shows one transcript.
// Served under a strict CSP (no inline script or style): all markup is built here with
// textContent and classes, never innerHTML and never style attributes.
(() => {
  'use strict';

  const TOKEN_KEY = 'shopchat.managerToken';
  const LIST_REFRESH = 5000;
  const CHAT_POLL = 2500;
  const PAGE = 50;

  let token = read(TOKEN_KEY);
  let me = null;
  let managers = [];
  let view = null; // the live view: {stop()}
  let routeSeq = 0;

  const main = document.getElementById('main');
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
  async function api(method, path, body, withToken) {
    const headers = { Authorization: 'Bearer ' + (withToken || token) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    let data = null;
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    if (!res.ok) {
      const e = (data && data.error) || {};
      const err = new ApiError(res.status, e.code || 'http_' + res.status, e.message || 'HTTP ' + res.status);
      if (res.status === 401 && !withToken) signOut('Your token was not accepted any more. Please sign in again.');
      throw err;
    }
    return data || {};
  }
  const enc = encodeURIComponent;
  const rid = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

  // ---- formatting ----------------------------------------------------------------------
  const pad = (n) => String(n).padStart(2, '0');
  const hm = (d) => pad(d.getHours()) + ':' + pad(d.getMinutes());
  const sameDay = (a, b) => a.toDateString() === b.toDateString();
  function shortWhen(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const now = new Date();
    const mins = Math.round((now - d) / 60000);
    if (mins < 1) return 'now';
    if (mins < 60) return mins + ' min';
    if (sameDay(d, now)) return hm(d);
    const y = new Date(now); y.setDate(now.getDate() - 1);
    if (sameDay(d, y)) return 'yesterday';
    return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric' });
  }
  function dayLabel(d) {
    const now = new Date();
    if (sameDay(d, now)) return 'Today';
    const y = new Date(now); y.setDate(now.getDate() - 1);
    if (sameDay(d, y)) return 'Yesterday';
    return d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric' });
  }
  function started(iso) {
    const d = new Date(iso);
    const mins = Math.round((Date.now() - d) / 60000);
    if (isNaN(d)) return '';
    if (mins < 1) return 'started just now';
    if (mins < 60) return `started ${mins} min ago`;
    if (sameDay(d, new Date())) return 'started today at ' + hm(d);
    return 'started ' + d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' }) + ' at ' + hm(d);
  }
  const fullWhen = (iso) => { const d = new Date(iso); return isNaN(d) ? '' : d.toLocaleString(); };
  const visitorName = (s) => (s.userName && s.userName.trim()) || 'Visitor ' + s.id.slice(0, 4);
  const managerName = (id) => { const m = managers.find((x) => x.id === id); return m ? m.displayName || m.id : id; };
  function initials(s) {
    const n = (s.userName || '').trim();
    if (!n) return '?';
    const parts = n.split(/\s+/);
    return [...parts[0]][0].toUpperCase() + (parts[1] ? [...parts[1]][0].toUpperCase() : '');
  }
  function hue(id) { let x = 0; for (const c of id) x = (x * 31 + c.charCodeAt(0)) >>> 0; return 'c' + (x % 8); }
  const statusPill = (st) => h('span', { class: 'pill ' + st }, st[0].toUpperCase() + st.slice(1));

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
        me = (await api('GET', '/api/chat/me')).manager;
        managers = (await api('GET', '/api/chat/managers')).managers || [];
      } catch (e) {
        if (e.status !== 401) showFatal('Cannot reach the server. ' + e.message, route);
        return;
      }
      if (mine !== routeSeq) return;
    }
    bar.hidden = false;
    document.getElementById('who').textContent = me.displayName || me.id;
    const m = location.pathname.match(/^\/chat\/([^/]+)\/?$/);
    view = m ? chatView(decodeURIComponent(m[1])) : listView();
  }

  function signOut(message) {
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
      h('button', { type: 'button', class: 'btn', onclick: retry }, 'Try again')));
  }

  // ---- login ---------------------------------------------------------------------------
  function showLogin(message) {
    bar.hidden = true;
    document.title = 'Sign in — shopchat';
    const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', spellcheck: 'false', required: true, 'aria-describedby': 'token-help token-err' });
    const err = h('p', { id: 'token-err', class: 'err', role: 'alert', hidden: !message }, message || '');
    const btn = h('button', { type: 'submit', class: 'btn primary wide' }, 'Sign in');
    const form = h('form', { class: 'login card', onsubmit: async (e) => {
      e.preventDefault();
      const t = input.value.trim();
      if (!t) { err.textContent = 'Paste your manager token.'; err.hidden = false; input.focus(); return; }
      btn.disabled = true;
      err.hidden = true;
      try {
        me = (await api('GET', '/api/chat/me', undefined, t)).manager;
        token = t;
        write(TOKEN_KEY, t);
        managers = (await api('GET', '/api/chat/managers')).managers || [];
        route();
      } catch (ex) {
        me = null;
        err.textContent = ex.status === 401 ? 'That token was not accepted. Check it and try again.' : 'Cannot reach the server: ' + ex.message;
        err.hidden = false;
        input.focus();
        input.select();
      } finally { btn.disabled = false; }
    } },
    h('div', { class: 'login-brand' }, h('span', { class: 'logo big', 'aria-hidden': 'true' }), 'shopchat'),
    h('h1', null, 'Sign in to the chats'),
    h('label', { for: 'token' }, 'Manager token'),
    input,
    h('p', { id: 'token-help', class: 'help' }, 'Create one with ', h('code', null, 'shopchat managers add NAME'),
      '. The first start of the server also prints a token for “admin”. It is kept in this browser until you log out.'),
    err, btn);
    mount(form);
    input.focus();
  }

  // ---- list of chats -------------------------------------------------------------------
  const TABS = [['active', 'Active'], ['closed', 'Closed'], ['archived', 'Archived'], ['all', 'All']];

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

    const tabs = TABS.map(([id, label]) => h('button', { type: 'button', class: 'tab', 'data-status': id, 'aria-pressed': String(state.status === id), onclick: () => { state.status = id; state.page = 1; sync(); } }, label));
    const search = h('input', { type: 'search', class: 'search', placeholder: 'Search by name, phone or message', 'aria-label': 'Search by name, phone or message', value: state.q });
    let debounce = 0;
    search.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(() => { state.q = search.value.trim(); state.page = 1; sync(); }, 250); });
    // The count is of active chats awaiting a reply, whatever the tab; pressing it shows them.
    const awaitingBtn = h('button', { type: 'button', class: 'chip', 'aria-pressed': String(state.awaiting), onclick: () => {
      state.awaiting = !state.awaiting;
      if (state.awaiting) state.status = 'active';
      state.page = 1;
      sync();
    } });
    const ul = h('ul', { class: 'sessions', 'aria-label': 'Chats' });
    const empty = h('div', { class: 'empty', hidden: true });
    const pager = h('div', { class: 'pager', hidden: true });
    const status = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite' });

    mount(h('section', { class: 'list-view' },
      h('div', { class: 'list-head' }, h('h1', null, 'Chats'), awaitingBtn),
      h('div', { class: 'toolbar' }, h('div', { class: 'tabs', role: 'group', 'aria-label': 'Status' }, tabs), search),
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
        if (userAction) status.textContent = (list.total || 0) + ' chats';
      } catch (e) {
        if (stopped || e.status === 401) return;
        toast('Could not refresh the chats: ' + e.message, 'error');
      }
      if (!stopped) timer = setTimeout(load, document.hidden ? LIST_REFRESH * 4 : LIST_REFRESH);
    }

    function render(sessions, total, awaitingTotal) {
      awaitingBtn.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), `${awaitingTotal} awaiting reply`);
      awaitingBtn.classList.toggle('zero', !awaitingTotal);
      awaitingBtn.title = state.awaiting ? 'Show all chats' : 'Show only chats awaiting a reply';
      document.title = (awaitingTotal ? `(${awaitingTotal}) ` : '') + 'Chats — shopchat';

      const seen = new Set();
      sessions.forEach((s, i) => {
        seen.add(s.id);
        const sig = JSON.stringify([s.updatedAt, s.status, s.managerId, s.awaitingReply, s.messageCount, s.userName, s.userPhone, managers.length, shortWhen(s.updatedAt), s.match && s.match.snippet]);
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
        empty.replaceChildren(h('p', { class: 'empty-title' }, filtered ? 'No chats match.' : `No ${state.status === 'all' ? '' : state.status + ' '}chats yet.`),
          h('p', null, filtered ? 'Try another search or filter.' : 'When a visitor writes from the widget, the chat appears here within a few seconds.'));
      }
      const pages = Math.max(1, Math.ceil(total / PAGE));
      pager.hidden = total <= PAGE;
      if (!pager.hidden) {
        const from = (state.page - 1) * PAGE + 1;
        pager.replaceChildren(
          h('button', { type: 'button', class: 'btn small', disabled: state.page <= 1, onclick: () => { state.page--; sync(); } }, '← Newer'),
          h('span', null, `${from}–${Math.min(total, from + PAGE - 1)} of ${total}`),
          h('button', { type: 'button', class: 'btn small', disabled: state.page >= pages, onclick: () => { state.page++; sync(); } }, 'Older →'));
      }
    }

    function sessionRow(s) {
      const last = s.lastMessage;
      let preview;
      if (s.match) preview = [h('span', { class: 'who-said' }, 'Found: '), s.match.snippet];
      else if (!last) preview = h('span', { class: 'muted' }, 'No messages yet');
      else {
        const who = last.sender === 'manager' ? (last.managerId === me.id ? 'You' : managerName(last.managerId || '') || 'Manager') + ': ' : '';
        preview = [who ? h('span', { class: 'who-said' }, who) : null, last.messageText];
      }
      const name = visitorName(s);
      return h('a', { href: '/chat/' + enc(s.id), 'data-nav': true, 'data-id': s.id, class: 'row' + (s.awaitingReply ? ' awaiting' : '') },
        h('span', { class: 'avatar ' + hue(s.id), 'aria-hidden': 'true' }, initials(s)),
        h('span', { class: 'row-main' },
          h('span', { class: 'row-top' },
            h('span', { class: 'name' }, name),
            s.userPhone ? h('span', { class: 'phone' }, s.userPhone) : null),
          h('span', { class: 'preview' }, preview)),
        h('span', { class: 'row-side' },
          h('time', { datetime: s.updatedAt, title: fullWhen(s.updatedAt) }, shortWhen(s.updatedAt)),
          h('span', { class: 'tags' },
            s.awaitingReply ? h('span', { class: 'await-mark', title: 'The visitor is waiting for a reply' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'await-text' }, 'Awaiting reply')) : null,
            s.status !== 'active' ? statusPill(s.status) : null,
            s.managerId ? h('span', { class: 'assignee', title: 'Assigned to ' + managerName(s.managerId) }, managerName(s.managerId)) : null,
            h('span', { class: 'count', title: s.messageCount + ' messages' }, String(s.messageCount)))));
    }

    const onVis = () => { if (!document.hidden) load(); };
    document.addEventListener('visibilitychange', onVis);
    load(false);
    return { stop() { stopped = true; clearTimeout(timer); clearTimeout(debounce); document.removeEventListener('visibilitychange', onVis); } };
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

    const back = h('a', { href: '/chat', 'data-nav': true, class: 'back' }, '← All chats');
    const title = h('h1', null, 'Loading…');
    const sub = h('p', { class: 'sub' });
    const pill = h('span');
    const select = h('select', { id: 'assign' });
    const closeBtn = h('button', { type: 'button', class: 'btn danger' }, 'Close chat');
    const confirmBar = h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': 'Close this chat?', hidden: true });
    const offline = h('p', { class: 'offline', role: 'status', hidden: true }, 'Connection lost. Retrying…');
    const log = h('ol', { class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' });
    const scroller = h('div', { class: 'scroller' }, log);
    const ta = h('textarea', { id: 'reply', rows: '2', maxlength: '4000', 'aria-label': 'Reply', placeholder: 'Write a reply…', 'aria-describedby': 'reply-hint' });
    const sendBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Send');
    const form = h('form', { class: 'reply', onsubmit: (e) => { e.preventDefault(); send(); } }, ta, sendBtn);
    const closedNote = h('p', { class: 'closed-note', hidden: true });
    const hint = h('p', { id: 'reply-hint', class: 'hint' }, 'Enter sends · Shift+Enter adds a line');

    mount(h('section', { class: 'chat-view' },
      h('div', { class: 'chat-head' },
        back,
        h('div', { class: 'chat-title' }, h('div', { class: 'title-row' }, title, pill), sub),
        h('div', { class: 'actions' },
          h('label', { class: 'assign', for: 'assign' }, h('span', null, 'Assigned to'), select),
          closeBtn)),
      confirmBar, offline,
      h('div', { class: 'card chat-card' }, scroller, form, hint, closedNote)));

    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
    });
    closeBtn.addEventListener('click', () => {
      confirmBar.replaceChildren(
        h('p', null, 'Close this chat? The visitor will see it as closed and can start a new one.'),
        h('button', { type: 'button', class: 'btn danger', onclick: doClose }, 'Close chat'),
        h('button', { type: 'button', class: 'btn ghost', onclick: () => { confirmBar.hidden = true; closeBtn.focus(); } }, 'Cancel'));
      confirmBar.hidden = false;
      confirmBar.querySelector('.btn.danger').focus();
    });
    select.addEventListener('change', async () => {
      const managerId = select.value || null;
      select.disabled = true;
      try {
        const res = await api('POST', `/api/chat/sessions/${enc(id)}/assign`, { managerId });
        setSession(res.session);
        toast(managerId ? 'Assigned to ' + managerName(managerId) : 'Unassigned');
      } catch (e) {
        if (e.status !== 401) toast('Could not assign: ' + e.message, 'error');
        if (session) fillSelect();
      } finally { select.disabled = false; }
    });

    async function doClose() {
      confirmBar.hidden = true;
      closeBtn.disabled = true;
      try {
        const res = await api('POST', `/api/chat/sessions/${enc(id)}/close`, {});
        setSession(res.session);
        toast('Chat closed');
      } catch (e) {
        if (e.status !== 401) toast('Could not close the chat: ' + e.message, 'error');
      } finally { closeBtn.disabled = session && session.status !== 'active'; }
    }

    function fillSelect() {
      const opts = [h('option', { value: '' }, 'Unassigned')];
      const ids = new Set(managers.map((m) => m.id));
      for (const m of managers) opts.push(h('option', { value: m.id }, (m.displayName || m.id) + (m.id === me.id ? ' (you)' : '')));
      if (session.managerId && !ids.has(session.managerId)) opts.push(h('option', { value: session.managerId }, session.managerId));
      select.replaceChildren(...opts);
      select.value = session.managerId || '';
    }

    function setSession(s) {
      session = s;
      const name = visitorName(s);
      title.textContent = name;
      document.title = name + ' — shopchat';
      const bits = [];
      if (s.userPhone) bits.push(h('a', { href: 'tel:' + s.userPhone.replace(/[^0-9+]/g, ''), class: 'tel' }, s.userPhone));
      else bits.push(h('span', { class: 'muted' }, 'No phone given'));
      bits.push(' · ', h('span', { title: fullWhen(s.createdAt) }, started(s.createdAt)));
      sub.replaceChildren(...bits);
      pill.replaceChildren(statusPill(s.status));
      fillSelect();
      const active = s.status === 'active';
      closeBtn.hidden = !active;
      form.hidden = !active;
      hint.hidden = !active;
      closedNote.hidden = active;
      closedNote.textContent = s.status === 'archived' ? 'This chat is archived.' : 'This chat is closed. The visitor can start a new one from the widget.';
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
      li.dataset.day = new Date(m.createdAt).toDateString();
      li.classList.remove('pending', 'failed');
      const who = m.sender === 'user' ? visitorName(session || { id, userName: null })
        : m.managerId === me.id ? 'You' : managerName(m.managerId || 'manager');
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
      if (day && beforeDay !== day) log.insertBefore(h('li', { class: 'day', 'data-day': day }, h('span', null, dayLabel(new Date(day)))), li);
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
      if (m.seq > cursor) cursor = m.seq;
    }
    const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 100;
    const scrollDown = () => requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; });

    function setPending(p, state, note) {
      p.state = state;
      p.li.classList.toggle('pending', state === 'sending');
      p.li.classList.toggle('failed', state === 'failed');
      const meta = p.li.querySelector('.meta');
      if (state === 'sending') meta.replaceChildren('Sending…');
      else meta.replaceChildren(h('span', { role: 'alert' }, note || 'Not sent'), ' · ',
        h('button', { type: 'button', class: 'link', onclick: () => deliver(p.cid) }, 'Retry'));
    }
    function send() {
      const text = ta.value.trim();
      if (!text || !session || session.status !== 'active') return;
      if ([...text].length > 4000) { toast('A message can be at most 4000 characters.', 'error'); return; }
      ta.value = '';
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
          scrollDown();
        } catch (e) {
          if (e.status === 409) {
            setPending(p, 'failed', 'Not sent: the chat is closed');
            p.li.querySelector('.link').remove();
            refresh();
            return;
          }
          setPending(p, 'failed', e.status === 429 ? 'Too many messages, wait a moment' : e.status ? 'Not sent: ' + e.message : 'Not sent: no connection');
        }
      });
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
          if (res.sessionStatus && session && res.sessionStatus !== session.status) await refresh();
          if (!res.hasMore || !msgs.length) break;
        }
        failures = 0;
        offline.hidden = true;
      } catch (e) {
        if (e.status === 401) { stopped = true; return; }
        failures++;
        if (failures >= 2) offline.hidden = false;
      }
    }
    function schedule() {
      if (stopped) return;
      const base = document.hidden ? CHAT_POLL * 6 : CHAT_POLL;
      timer = setTimeout(() => run(poll).then(schedule), failures ? Math.min(base * 2 ** failures, 30000) : base);
    }
    const onVis = () => { if (!document.hidden && !stopped) { clearTimeout(timer); run(poll).then(schedule); } };
    document.addEventListener('visibilitychange', onVis);

    (async () => {
      try {
        const res = await api('GET', `/api/chat/sessions/${enc(id)}`);
        if (stopped) return;
        setSession(res.session);
        (res.messages || []).forEach(addServer);
        scrollDown();
        if (res.session.status === 'active') ta.focus();
        schedule();
      } catch (e) {
        if (stopped || e.status === 401) return;
        if (e.status === 404) {
          document.title = 'Chat not found — shopchat';
          mount(h('section', { class: 'card empty' }, h('h1', null, 'Chat not found'),
            h('p', null, 'It may have been removed, or the link is wrong.'), h('a', { href: '/chat', 'data-nav': true, class: 'btn' }, '← All chats')));
        } else showFatal('Could not load this chat: ' + e.message, route);
      }
    })();

    return { stop() { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', onVis); } };
  }

  route();
})();
