/*! shopchat widget. <script src="https://chat.shop.example/widget.js" data-api-key="KEY" defer></script>
 * Options (data-*): title, subtitle, greeting, accent, position (right|left), lang (uk|en|ru|pl), api-base, text-KEY.
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

// Every text, per language; a shop overrides any of them with data-text-KEY
// (data-text-new-chat="..." for newChat). {n}, {s}, {time}, {day} are filled in.
const TEXT = {
  en: {
    title: 'Chat with us', sub: 'We usually reply within minutes', online: 'Online',
    greeting: 'Hi! Ask us anything about products, delivery or your order.',
    awayFrom: 'We answer from {time}', awayTomorrow: 'We answer tomorrow from {time}', awayOn: 'We answer on {day} from {time}',
    open: 'Open chat', close: 'Close chat', unread: '{n} unread',
    askContact: 'Leave your name and phone so we can call you back.', askFirst: 'Your name and phone, so we can call you back:',
    name: 'Your name', phone: 'Phone', optional: 'optional', save: 'Save', later: 'Not now', saved: 'Thank you! We have your details.',
    askEmail: 'Nobody can answer right now. Leave your email (or phone) and we will reply there.', emailOrPhone: 'Email or phone',
    emailBad: 'Enter an email like name@example.com, or a phone number.',
    message: 'Message', placeholder: 'Write a message…', send: 'Send', messages: 'Messages',
    you: 'You', shop: 'Shop', sending: 'Sending…', failed: 'Not sent', retry: 'Retry',
    closed: 'This chat has been closed.', newChat: 'Start a new chat',
    rate: 'Too many requests. Please wait {s} s and try again.',
    offline: 'Connection problem. Trying again…', gone: 'Your previous chat is no longer available. You can start a new one.',
    nameLong: 'Name must be at most 100 characters.',
    phoneBad: 'Phone may contain only digits, spaces and + ( ) -, at most 32 characters.',
    tooLong: 'The message is too long (at most 4000 characters).',
    unavailable: 'The chat is unavailable right now. Please try again later.',
    typing: 'typing…', seen: 'Seen',
  },
  uk: {
    title: 'Напишіть нам', sub: 'Зазвичай відповідаємо за кілька хвилин', online: 'Онлайн',
    greeting: 'Вітаємо! Запитайте про товари, доставку чи ваше замовлення.',
    awayFrom: 'Відповімо з {time}', awayTomorrow: 'Відповімо завтра з {time}', awayOn: 'Відповімо {day} з {time}',
    open: 'Відкрити чат', close: 'Закрити чат', unread: 'Непрочитані: {n}',
    askContact: 'Залиште ім’я та телефон, щоб ми могли вам передзвонити.', askFirst: 'Ваше ім’я та телефон, щоб ми могли передзвонити:',
    name: 'Ваше ім’я', phone: 'Телефон', optional: 'необов’язково', save: 'Зберегти', later: 'Не зараз', saved: 'Дякуємо! Ми зберегли ваші дані.',
    askEmail: 'Зараз ніхто не може відповісти. Залиште email (або телефон), і ми відповімо туди.', emailOrPhone: 'Email або телефон',
    emailBad: 'Введіть email на зразок name@example.com або номер телефону.',
    message: 'Повідомлення', placeholder: 'Напишіть повідомлення…', send: 'Надіслати', messages: 'Повідомлення',
    you: 'Ви', shop: 'Магазин', sending: 'Надсилання…', failed: 'Не надіслано', retry: 'Повторити',
    closed: 'Цей чат закрито.', newChat: 'Почати новий чат',
    rate: 'Забагато запитів. Зачекайте {s} с і спробуйте знову.',
    offline: 'Проблема зі з’єднанням. Пробуємо ще раз…', gone: 'Попередній чат більше недоступний. Можна почати новий.',
    nameLong: 'Ім’я — не більше 100 символів.',
    phoneBad: 'Телефон: лише цифри, пробіли та + ( ) -, не більше 32 символів.',
    tooLong: 'Повідомлення задовге (не більше 4000 символів).',
    unavailable: 'Чат зараз недоступний. Спробуйте пізніше.',
    typing: 'пише…', seen: 'Переглянуто',
  },
  ru: {
    title: 'Напишите нам', sub: 'Обычно отвечаем за несколько минут', online: 'Онлайн',
    greeting: 'Здравствуйте! Спросите о товарах, доставке или вашем заказе.',
    awayFrom: 'Ответим с {time}', awayTomorrow: 'Ответим завтра с {time}', awayOn: 'Ответим в {day} с {time}',
    open: 'Открыть чат', close: 'Закрыть чат', unread: 'Непрочитанные: {n}',
    askContact: 'Оставьте имя и телефон, чтобы мы могли перезвонить.', askFirst: 'Ваше имя и телефон, чтобы мы могли перезвонить:',
    name: 'Ваше имя', phone: 'Телефон', optional: 'необязательно', save: 'Сохранить', later: 'Не сейчас', saved: 'Спасибо! Мы сохранили ваши данные.',
    askEmail: 'Сейчас никто не может ответить. Оставьте email (или телефон), и мы ответим туда.', emailOrPhone: 'Email или телефон',
    emailBad: 'Введите email вида name@example.com или номер телефона.',
    message: 'Сообщение', placeholder: 'Напишите сообщение…', send: 'Отправить', messages: 'Сообщения',
    you: 'Вы', shop: 'Магазин', sending: 'Отправка…', failed: 'Не отправлено', retry: 'Повторить',
    closed: 'Этот чат закрыт.', newChat: 'Начать новый чат',
    rate: 'Слишком много запросов. Подождите {s} с и попробуйте снова.',
    offline: 'Проблема с соединением. Пробуем ещё раз…', gone: 'Предыдущий чат больше недоступен. Можно начать новый.',
    nameLong: 'Имя — не больше 100 символов.',
    phoneBad: 'Телефон: только цифры, пробелы и + ( ) -, не больше 32 символов.',
    tooLong: 'Сообщение слишком длинное (не больше 4000 символов).',
    unavailable: 'Чат сейчас недоступен. Попробуйте позже.',
    typing: 'печатает…', seen: 'Просмотрено',
  },
  pl: {
    title: 'Napisz do nas', sub: 'Zwykle odpowiadamy w kilka minut', online: 'Online',
    greeting: 'Dzień dobry! Zapytaj o produkty, dostawę lub zamówienie.',
    awayFrom: 'Odpowiemy od {time}', awayTomorrow: 'Odpowiemy jutro od {time}', awayOn: 'Odpowiemy w {day} od {time}',
    open: 'Otwórz czat', close: 'Zamknij czat', unread: 'Nieprzeczytane: {n}',
    askContact: 'Zostaw imię i telefon, żebyśmy mogli oddzwonić.', askFirst: 'Twoje imię i telefon, żebyśmy mogli oddzwonić:',
    name: 'Twoje imię', phone: 'Telefon', optional: 'opcjonalnie', save: 'Zapisz', later: 'Nie teraz', saved: 'Dziękujemy! Zapisaliśmy Twoje dane.',
    askEmail: 'Nikt nie może teraz odpowiedzieć. Zostaw e-mail (lub telefon), a odpowiemy tam.', emailOrPhone: 'E-mail lub telefon',
    emailBad: 'Wpisz e-mail w rodzaju name@example.com albo numer telefonu.',
    message: 'Wiadomość', placeholder: 'Napisz wiadomość…', send: 'Wyślij', messages: 'Wiadomości',
    you: 'Ty', shop: 'Sklep', sending: 'Wysyłanie…', failed: 'Nie wysłano', retry: 'Ponów',
    closed: 'Ten czat został zamknięty.', newChat: 'Rozpocznij nowy czat',
    rate: 'Zbyt wiele żądań. Poczekaj {s} s i spróbuj ponownie.',
    offline: 'Problem z połączeniem. Próbujemy ponownie…', gone: 'Poprzedni czat nie jest już dostępny. Możesz zacząć nowy.',
    nameLong: 'Imię może mieć najwyżej 100 znaków.',
    phoneBad: 'Telefon: tylko cyfry, spacje i + ( ) -, najwyżej 32 znaki.',
    tooLong: 'Wiadomość jest za długa (najwyżej 4000 znaków).',
    unavailable: 'Czat jest teraz niedostępny. Spróbuj później.',
    typing: 'pisze…', seen: 'Wyświetlono',
  },
};
const lang2 = (v) => (v || '').slice(0, 2).toLowerCase();
const LANG = TEXT[lang2(ds.lang)] ? lang2(ds.lang) : (navigator.languages || [navigator.language]).map(lang2).find((l) => TEXT[l]) || 'en';
const T = { ...TEXT[LANG] };
for (const k of Object.keys(T)) { const o = ds['text' + k[0].toUpperCase() + k.slice(1)]; if (o != null) T[k] = o; }
const t = (k, v = {}) => T[k].replace(/\{(\w+)\}/g, (m, x) => (x in v ? v[x] : m));
const TITLE = ds.title || T.title;
const SUB = ds.subtitle ?? T.sub;
const GREETING = ds.greeting ?? T.greeting;
const FAST = 2500, SLOW = 20000, HIDDEN = 30000; // poll pace: open, closed, tab hidden
const len = (s) => [...s].length;

// Stored per chat server: {sessionId, userSessionId, readSeq, seenSeq, asked, contact}; userSessionId
// is the visitor: kept across chats, so the shop sees one visitor. The panel's open state per tab.
const SKEY = 'shopchat:' + API;
const tryDo = (f, d) => { try { return f(); } catch (e) { return d; } }; // storage may be blocked
let st = tryDo(() => JSON.parse(localStorage.getItem(SKEY)), null) || {};
if (st.sessionId && !('asked' in st)) st.asked = true; // a chat begun before name/phone came after the first message
const save = () => tryDo(() => localStorage.setItem(SKEY, JSON.stringify(st)));
const rid = () => [...crypto.getRandomValues(new Uint8Array(16))].map((x) => x.toString(16).padStart(2, '0')).join('');
{ // a link from a follow-up email: #shopchat=<sessionId>.<userSessionId> opens that chat here
  const m = /[#&]shopchat=([0-9a-f-]{36})\.([A-Za-z0-9_-]{16,128})/.exec(location.hash);
  if (m) {
    if (st.sessionId !== m[1]) st = { sessionId: m[1], userSessionId: m[2], readSeq: 0, asked: true };
    save();
    tryDo(() => { sessionStorage.setItem(SKEY, '1'); history.replaceState(history.state, '', location.href.replace(/#.*$/, '')); });
  }
}

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
.seen .tick{color:var(--acc);font-weight:700}
.text a{color:inherit;text-decoration:underline;word-break:break-all}
.typing{font-size:12.5px;color:#6e7781;padding:0 4px;display:flex;align-items:center;gap:6px}
.typing[hidden]{display:none}
.dots{display:inline-flex;gap:3px}
.dots span{width:5px;height:5px;border-radius:50%;background:#8c959f;animation:sc-b 1.2s infinite ease-in-out}
.dots span:nth-child(2){animation-delay:.15s}.dots span:nth-child(3){animation-delay:.3s}
@keyframes sc-b{0%,80%,100%{opacity:.3;transform:translateY(0)}40%{opacity:1;transform:translateY(-3px)}}
@media (prefers-reduced-motion:reduce){.dots span{animation:none}}
.retry{color:#0b5cad;text-decoration:underline;cursor:pointer}
.retry:disabled{color:#8c959f;cursor:default}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.ask{padding:12px 14px;background:#fff;border-top:1px solid #e4e7eb;display:flex;flex-direction:column;gap:8px}
.ask p{font-size:13px;color:#57606a}
.ask .row{display:flex;gap:8px}
.ask .row .primary,.ask .row .later{flex:1;padding:8px 10px;font-size:14px}
.later{border:1px solid #c9ced6;border-radius:10px;text-align:center;cursor:pointer}
.ask input{padding:8px 10px}
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

const field = (id, label, attrs, opt = true) => {
  const input = h('input', { id, 'aria-describedby': id + '-err', ...attrs });
  const err = h('span', { id: id + '-err', class: 'err', hidden: true });
  return [input, err, h('label', { class: 'field', for: id }, h('span', null, label, opt ? ' ' : null, opt ? h('span', { class: 'opt' }, `(${T.optional})`) : null), input, err)];
};
const [nameIn, nameErr, nameLabel] = field('sc-name', T.name, { autocomplete: 'name', maxlength: 100 });
const [phoneIn, phoneErr, phoneLabel] = field('sc-phone', T.phone, { type: 'tel', autocomplete: 'tel', inputmode: 'tel', maxlength: 32 });
const greet = () => (GREETING ? h('p', { class: 'greet' }, GREETING) : null);
// Name and phone: offered after the first message (or before it, when the shop wants them first).
const askText = h('p', null, T.askContact);
const laterBtn = h('button', { type: 'button', class: 'later', onclick: () => { st.asked = true; save(); showAsk(); } }, T.later);
const saveBtn = h('button', { type: 'submit', class: 'primary' }, T.save);
const askRow = h('div', { class: 'row' }, saveBtn, laterBtn);
const askBox = h('form', { class: 'ask', novalidate: true, hidden: true, onsubmit: saveContact }, askText, nameLabel, phoneLabel, askRow);
// Nobody can answer: an email (or a phone) to answer to.
const [emailIn, emailErr, emailLabel] = field('sc-email', T.emailOrPhone, { type: 'text', autocomplete: 'email', inputmode: 'email', maxlength: 254 }, false);
const awayBox = h('form', { class: 'ask away', novalidate: true, hidden: true, onsubmit: saveEmail },
  h('p', null, T.askEmail), emailLabel, h('button', { type: 'submit', class: 'primary' }, T.save));
const list = h('ol', { class: 'list', role: 'log', 'aria-live': 'polite', 'aria-label': T.messages });
const typingEl = h('p', { class: 'typing', role: 'status', hidden: true }, h('span', { class: 'dots', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')), T.typing);
const scroller = h('div', { class: 'scroll' }, greet(), list, typingEl);
const newBtn = h('button', { type: 'button', class: 'primary', onclick: newChat }, T.newChat);
const closedBox = h('div', { class: 'closed', role: 'status', hidden: true }, h('p', null, T.closed), newBtn);
const ta = h('textarea', { rows: 1, maxlength: 4000, 'aria-label': T.message, placeholder: T.placeholder });
const composer = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); send(); } }, ta,
  h('button', { type: 'submit', class: 'send', 'aria-label': T.send, title: T.send }, icon('M3 20.5 21 12 3 3.5v6.6L15 12 3 13.9z', 20)));
const chat = h('div', { class: 'body' }, scroller, askBox, awayBox, closedBox, composer);
const subEl = h('p', { class: 'sub' }, SUB || '');
subEl.hidden = !SUB;
const panel = h('section', { id: 'sc-panel', class: 'panel', role: 'dialog', 'aria-label': TITLE, hidden: true },
  h('div', { class: 'head' }, h('div', null, h('h2', { class: 'title' }, TITLE), subEl),
    btn('x', T.close, () => toggle(false), icon('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z', 22))),
  notice, chat);
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
ta.addEventListener('input', () => { autosize(); sendTyping(ta.value.trim() !== ''); });
ta.addEventListener('blur', () => sendTyping(false));
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

async function api(method, path, body, { ms = 15000, signal } = {}) {
  const headers = { 'X-API-Key': KEY };
  if (st.userSessionId) headers['X-User-Session-Id'] = st.userSessionId;
  if (body) headers['Content-Type'] = 'application/json';
  const timeout = AbortSignal.timeout && AbortSignal.timeout(ms);
  const res = await fetch(API + path, {
    method, headers, body: body && JSON.stringify(body), cache: 'no-store',
    signal: signal && timeout && AbortSignal.any ? AbortSignal.any([signal, timeout]) : signal || timeout,
  });
  if (res.status === 204) return {};
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
    const target = status === 'active' ? ta : newBtn;
    loadShop();
    if (!quiet) setTimeout(() => target.focus());
  } else if (!quiet) launcher.focus();
  schedule(want ? 0 : null);
}

function markRead() {
  const max = Math.max(st.readSeq || 0, ...bySeq.keys());
  if (st.sessionId && max !== st.readSeq) { st.readSeq = max; save(); }
  setUnread(0);
  // Tell the shop what the visitor has seen (an unseen answer goes by email).
  if (st.sessionId && max > (st.seenSeq || 0)) {
    st.seenSeq = max;
    save();
    api('POST', `/api/public/chat/sessions/${enc(st.sessionId)}/seen`, { seq: max }).catch(() => { st.seenSeq = 0; });
  }
}
function setUnread(n) {
  unread = n;
  badge.textContent = n > 9 ? '9+' : n;
  badge.hidden = !n;
  launcher.setAttribute('aria-label', n ? `${T.open} (${t('unread', { n })})` : T.open);
}

function showChat() {
  closedBox.hidden = status === 'active';
  composer.hidden = status !== 'active';
  showAsk();
}
function setStatus(s) {
  if (!s || s === status) return;
  status = s;
  showChat();
  if (s === 'active') return;
  clearTimeout(timer);
  if (root.activeElement === ta) newBtn.focus();
  scrollDown(true);
}

// Forget the stored chat: the next message starts a new one. The visitor stays the same
// (userSessionId and the details they gave), unless the server no longer knows them.
function reset(msg, forget) {
  clearTimeout(timer);
  stopLong();
  st = forget ? {} : { userSessionId: st.userSessionId, contact: st.contact };
  save();
  status = 'active';
  cursor = 0;
  away = false;
  seenUpTo = 0;
  pollState = '';
  typingSent = 0;
  typingEl.hidden = true;
  bySeq.clear();
  pending.clear();
  list.replaceChildren();
  setUnread(0);
  showChat();
  say(msg);
}
function newChat() {
  reset();
  if (isOpen) ta.focus();
}

// ---- the shop: open now, or when it answers
let shop = null, shopAt = 0, away = false;
async function loadShop() {
  if (Date.now() - shopAt < 300000) return;
  shopAt = Date.now();
  try { shop = await api('GET', '/api/public/chat/status'); } catch (e) { shopAt = 0; return; }
  showSub();
  showAsk();
}
function showSub() {
  let text = SUB;
  if (shop && shop.open && shop.hours) text = SUB ? `${T.online} · ${SUB}` : T.online;
  if (shop && !shop.open && shop.opensAt) {
    const at = new Date(shop.opensAt);
    const o = { timeZone: shop.timezone };
    const day = (d) => tryDo(() => d.toLocaleDateString('en-CA', o), '');
    const time = tryDo(() => at.toLocaleTimeString(LANG, { ...o, hour: 'numeric', minute: '2-digit' }), '');
    const now = new Date();
    text = day(at) === day(now) ? t('awayFrom', { time })
      : day(at) === day(new Date(+now + 864e5)) ? t('awayTomorrow', { time })
        : t('awayOn', { time, day: tryDo(() => at.toLocaleDateString(LANG, { ...o, weekday: 'long' }), '') });
  }
  subEl.textContent = text || '';
  subEl.hidden = !text;
}
const contact = () => st.contact || {};
function showAsk() {
  const active = status === 'active';
  const first = !st.sessionId && !!(shop && shop.contactFirst);
  // Nobody can answer now: where to answer comes first (email or phone), name and phone after.
  const awayNow = !!st.sessionId && (away || !!(shop && !shop.open)) && !(contact().email || st.emailGiven);
  askBox.hidden = !active || awayNow || !(first || (st.sessionId && !st.asked));
  askText.textContent = first ? T.askFirst : T.askContact;
  askRow.hidden = first; // before the first message, the details go with it
  if (!askBox.hidden && !nameIn.value && !phoneIn.value) {
    nameIn.value = contact().name || '';
    phoneIn.value = contact().phone || '';
  }
  awayBox.hidden = !active || !awayNow;
}
function remember(s) { // what the server knows of the visitor, for the next chat too
  st.contact = { name: s.userName || '', phone: s.userPhone || '', email: s.userEmail || '' };
  save();
}
function checkContact() {
  const name = nameIn.value.trim(), phone = phoneIn.value.trim();
  const badName = fieldError(nameIn, nameErr, len(name) > 100 ? T.nameLong : '');
  const badPhone = fieldError(phoneIn, phoneErr, len(phone) > 32 || !/^[0-9 +()-]*$/.test(phone) ? T.phoneBad : '');
  if (badName || badPhone) { (badName ? nameIn : phoneIn).focus(); return null; }
  return { userName: name || undefined, userPhone: phone || undefined };
}
function saveContact(e) {
  e.preventDefault();
  const c = checkContact();
  if (!c || !st.sessionId) return;
  postContact(c, () => { st.asked = true; showAsk(); say(T.saved, 4000); ta.focus(); });
}
function saveEmail(e) {
  e.preventDefault();
  const v = emailIn.value.trim();
  const isEmail = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(v);
  const isPhone = /^[0-9 +()-]{5,32}$/.test(v);
  if (fieldError(emailIn, emailErr, isEmail || isPhone ? '' : T.emailBad)) return emailIn.focus();
  postContact(isEmail ? { userEmail: v } : { userPhone: v }, () => { st.emailGiven = true; showAsk(); say(T.saved, 4000); });
}
function postContact(body, done) {
  const sid = st.sessionId;
  run(async () => {
    try {
      remember((await api('POST', `/api/public/chat/sessions/${enc(sid)}/contact`, body)).session);
      done();
    } catch (err) {
      if (err.status === 429) say(t('rate', { s: err.wait }), err.wait * 1000);
      else say(err.status === 400 ? err.message : T.unavailable, 8000);
    }
  });
}

// ---- messages
function fmtTime(iso) {
  const d = new Date(iso);
  const time = d.toLocaleTimeString(LANG, { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? time : d.toLocaleDateString(LANG, { day: 'numeric', month: 'short' }) + ', ' + time;
}
const msgEl = (sender, text) => h('li', { class: 'msg ' + (sender === 'user' ? 'user' : 'manager') },
  h('div', { class: 'bubble' }, h('span', { class: 'sr' }, (sender === 'user' ? T.you : T.shop) + ': '), h('span', { class: 'text' }, ...linkify(text))),
  h('div', { class: 'meta' }));

// http(s) addresses in a message become links: built as DOM nodes (never HTML), opened in a
// new tab without access to this page. Other schemes stay text.
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0].replace(/[.,;:!?)\]}»”’'"]+$/, ''); // trailing punctuation is the sentence's
    let href = null;
    try { const u = new URL(url); if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href; } catch (e) { /* not a URL */ }
    if (!href) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, url));
    last = m.index + url.length;
  }
  out.push(text.slice(last));
  return out;
}
function place(li, m) {
  li.dataset.seq = m.seq;
  li.classList.remove('pending', 'failed', 'seen');
  li.lastChild.replaceChildren(h('time', { datetime: m.createdAt }, fmtTime(m.createdAt)));
  bySeq.set(m.seq, li);
  // in seq order; messages still being sent stay last
  const ref = [...list.children].find((el) => el !== li && (!el.dataset.seq || +el.dataset.seq > m.seq));
  list.insertBefore(li, ref || null);
  if (li.classList.contains('user') && m.seq <= seenUpTo) markSeen(li);
}

function addServer(m) {
  if (typeof m.seq !== 'number' || bySeq.has(m.seq)) return;
  let li;
  if (m.sender === 'user') { // a send still waiting for its answer, or one whose answer was lost: adopt it
    const p = [...pending.values()].find((x) => x.text === m.messageText);
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
  if (!text || status !== 'active') return;
  sendTyping(false);
  if (len(text) > 4000) return say(T.tooLong, 6000);
  const first = !st.sessionId && !pending.size && shop && shop.contactFirst ? checkContact() : {};
  if (!first) return;
  ta.value = '';
  autosize();
  const p = { cid: rid(), li: msgEl('user', text), text, first };
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
    if (wait > 0) { setState(p, 'failed', wait); return say(t('rate', { s: wait }), wait * 1000); }
    const sid = st.sessionId;
    try {
      let m;
      if (sid) m = (await api('POST', `/api/public/chat/sessions/${enc(sid)}/messages`, { messageText: p.text, clientMessageId: cid })).message;
      else { // the first message opens the chat; nothing exists before it
        if (!st.userSessionId) { st.userSessionId = rid(); save(); } // a retry then finds the same chat
        const r = await api('POST', '/api/public/chat/sessions', { userSessionId: st.userSessionId, messageText: p.text, clientMessageId: cid, ...p.first });
        st = { ...st, sessionId: r.session.id, userSessionId: r.session.userSessionId, readSeq: 0, seenSeq: 0, asked: !!p.first.userName || !!p.first.userPhone };
        delete st.emailGiven;
        remember(r.session);
        m = r.message;
        status = r.session.status || 'active';
        nameIn.value = ''; phoneIn.value = '';
        showChat();
        schedule(0);
      }
      if (!pending.has(cid) && bySeq.get(m.seq) === p.li) return; // a poll brought it first
      pending.delete(cid);
      if (bySeq.has(m.seq)) { if (bySeq.get(m.seq) !== p.li) p.li.remove(); } else place(p.li, m);
      if (notice.textContent === T.offline) say();
    } catch (e) {
      if (sid !== st.sessionId || !pending.has(cid)) return; // a new chat, or a poll brought it: it arrived
      if (e.status === 404) return reset(T.gone, true);
      if (e.status === 409) setStatus('closed');
      if (e.status === 429) {
        sendPause = Date.now() + e.wait * 1000;
        setState(p, 'failed', e.wait);
        return say(t('rate', { s: e.wait }), e.wait * 1000);
      }
      setState(p, 'failed');
      if (e.status === 400 || e.status === 413) say(e.message, 8000);
      else if (e.status === 401) say(T.unavailable);
      else if (e.status !== 409) say(T.offline, 8000);
    }
  });
}

// ---- polling: a long-poll (wait=25) while the chat is open and the tab visible, so a reply
// shows the moment it is sent; plain polls while closed or hidden; and plain polls for a
// while by themselves when long-polls keep failing (a proxy that cuts waiting requests).
let lpCtl = null, looping = false, longFails = 0, plainUntil = 0, pollState = '';
const canWait = () => isOpen && !document.hidden && Date.now() >= plainUntil;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function schedule(ms) {
  clearTimeout(timer);
  if (!st.sessionId || status !== 'active') return stopLong();
  if (canWait()) return longPoll();
  stopLong();
  const base = document.hidden ? HIDDEN : isOpen ? FAST : SLOW;
  const wait = ms ?? (failures ? Math.min(base * 2 ** Math.min(failures, 4), 60000) : base);
  timer = setTimeout(() => run(poll).then(() => schedule()), Math.max(wait, pollPause - Date.now()));
}
function stopLong() {
  if (lpCtl) lpCtl.abort();
}

async function longPoll() {
  if (looping) return;
  looping = true;
  try {
    while (st.sessionId && status === 'active' && canWait()) {
      const sid = st.sessionId;
      const ctl = (lpCtl = new AbortController());
      if (Date.now() < pollPause) await sleep(pollPause - Date.now());
      try {
        const data = await api('GET', `/api/public/chat/sessions/${enc(sid)}/messages?since=${cursor}&wait=25&state=${enc(pollState)}`, null, { ms: 40000, signal: ctl.signal });
        if (sid !== st.sessionId || ctl.signal.aborted) continue;
        apply(data);
        longFails = failures = 0;
        if (notice.textContent === T.offline) say();
      } catch (e) {
        if (ctl.signal.aborted || sid !== st.sessionId) continue; // closed, hidden, or another chat
        if (e.status === 404) { reset(T.gone, true); break; }
        if (e.status === 429) { pollPause = Date.now() + e.wait * 1000; continue; }
        if (e.status === 401) { say(T.unavailable); break; }
        if (++longFails >= 2) { plainUntil = Date.now() + 5 * 60000; longFails = 0; break; }
        await sleep(2000);
      }
    }
  } finally {
    looping = false;
    lpCtl = null;
  }
  if (st.sessionId && status === 'active' && !canWait()) schedule();
}

async function poll() {
  const sid = st.sessionId;
  if (!sid || status !== 'active' || Date.now() < pollPause) return;
  try {
    for (let i = 0; i < 20; i++) { // hasMore: keep reading, within reason
      const data = await api('GET', `/api/public/chat/sessions/${enc(sid)}/messages?since=${cursor}`);
      if (sid !== st.sessionId) return;
      if (!apply(data)) break;
    }
    if (notice.textContent === T.offline) say();
    failures = 0;
  } catch (e) {
    if (sid !== st.sessionId) return;
    if (e.status === 404) return reset(T.gone, true);
    if (e.status === 429) { pollPause = Date.now() + e.wait * 1000; return; }
    failures++;
    if (e.status === 401) say(T.unavailable);
    else if (failures > 1) say(T.offline);
  }
}

// One poll's answer: new messages, the chat's status, the shop's typing and seen state.
// Returns whether more messages are waiting.
function apply(data) {
  const bottom = nearBottom();
  const msgs = data.messages || [];
  for (const m of msgs) { addServer(m); cursor = Math.max(cursor, m.seq); }
  if (typeof data.cursor === 'number' && data.cursor > cursor) cursor = data.cursor;
  showTyping(!!data.managerTyping && data.sessionStatus === 'active');
  if (typeof data.managerSeenSeq === 'number') showSeen(data.managerSeenSeq);
  if (typeof data.state === 'string') pollState = data.state;
  if (msgs.length) scrollDown(bottom);
  setStatus(data.sessionStatus);
  if (!!data.away !== away) { away = !!data.away; showAsk(); }
  return msgs.length > 0 && !!data.hasMore;
}

// ---- typing and seen
let typingSent = 0; // when "typing" was last sent; 0 when the shop was told it stopped
function sendTyping(on) {
  if (!st.sessionId || status !== 'active') return;
  if (on ? Date.now() - typingSent < 3000 : !typingSent) return; // at most every 3 s while typing
  typingSent = on ? Date.now() : 0;
  api('POST', `/api/public/chat/sessions/${enc(st.sessionId)}/typing`, { typing: on }).catch(() => {});
}
function showTyping(on) {
  if (typingEl.hidden !== on) return;
  const bottom = nearBottom();
  typingEl.hidden = !on;
  if (on) scrollDown(bottom);
}
let seenUpTo = 0; // the shop has seen the visitor's messages up to this seq
function showSeen(seq) {
  if (seq <= seenUpTo) return;
  seenUpTo = seq;
  for (const [n, li] of bySeq) if (n <= seq && li.classList.contains('user')) markSeen(li);
}
function markSeen(li) {
  if (!li || li.classList.contains('seen')) return;
  li.classList.add('seen');
  li.lastChild.append(h('span', { class: 'tick', title: T.seen }, h('span', { 'aria-hidden': 'true' }, ' ✓✓'), h('span', { class: 'sr' }, ' ' + T.seen)));
}

// ---- the contact fields
function fieldError(input, errEl, msg) {
  errEl.textContent = msg;
  errEl.hidden = !msg;
  input.setAttribute('aria-invalid', !!msg);
  return !!msg;
}

function autosize() {
  ta.style.height = 'auto';
  ta.style.height = Math.min(ta.scrollHeight + 2, 132) + 'px';
}

// ---- start
function mount() {
  document.body.append(host);
  showChat();
  loadShop();
  schedule(0);
  if (tryDo(() => sessionStorage.getItem(SKEY))) toggle(true, true); // an open chat stays open on the next page
}
if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);

window.ShopChat = { open: () => toggle(true), close: () => toggle(false), toggle: () => toggle(), newChat };
})();
