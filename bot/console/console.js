// Cobrador collector console. Talks only to the routes in docs/api.md; served at /console/.
// Server data is untrusted (debtors write the messages): it only ever reaches the page through
// textContent, never as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'cobrador.token';
  const LOCALE = 'es-MX';
  const QUEUE_SAFETY_MS = 20000;
  const REFRESH_DELAY_MS = 300;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;

  // ---- Spanish labels for the API's stable names ----

  const REASONS = {
    human: 'pidió una persona',
    already_paid: 'dice que ya pagó',
    dispute: 'disputa',
    hardship: 'no puede pagar',
    cannot_pay: 'no puede pagar',
    misunderstood: 'el bot no entendió',
    not_understood: 'el bot no entendió',
    locked: 'verificación bloqueada',
    verification_failed: 'verificación bloqueada',
    negotiation_outside_policy: 'negociación fuera de política',
    counter_offer: 'negociación fuera de política',
    negotiation_approval: 'oferta que requiere aprobación',
    receipt_review: 'comprobante por revisar',
    voice_notes: 'audios por escuchar',
  };
  const MEDIA_KINDS = { image: 'Imagen', document: 'Documento', audio: 'Audio', video: 'Video', sticker: 'Sticker' };
  const MEDIA_STATUS = {
    pending: 'descargando del proveedor…',
    failed: 'no se pudo descargar',
    expired: 'el proveedor ya no lo tiene',
    too_large: 'demasiado grande para descargarlo',
    refused: 'rechazado: el archivo no es lo que dice ser',
  };
  const CHANNELS = { whatsapp: 'WhatsApp', sms: 'SMS', sandbox: 'Sandbox' };
  const ROLES = { collector: 'cobrador', supervisor: 'supervisor' };
  const DISPOSITIONS = {
    paid: 'pagó',
    promise_to_pay: 'promesa de pago',
    payment_plan: 'plan de pagos',
    settlement: 'liquidación con descuento',
    dispute: 'disputa',
    refused: 'se negó',
    hardship: 'dificultad económica',
    wrong_number: 'número equivocado',
    unreachable: 'sin contacto',
    other: 'otro',
  };
  const SEND_STATUS = {
    queued: 'en cola', sent: 'enviado', delivered: 'entregado', read: 'leído', failed: 'falló',
  };
  const PROMISE_STATUS = { open: 'vigente', kept: 'cumplida', broken: 'incumplida', cancelled: 'cancelada' };
  const PLAN_KIND = { settlement: 'Liquidación', installments: 'Pagos en parcialidades' };
  const PLAN_STATUS = { active: 'activo', completed: 'terminado', broken: 'incumplido', cancelled: 'cancelado' };
  const INSTALLMENT_STATUS = { pending: 'pendiente', paid: 'pagado', late: 'atrasado' };
  // Cases (docs/cases.md): each kind's categories, in the order the form offers them.
  const CASE_KINDS = { complaint: 'Queja', privacy: 'Datos personales' };
  const CASE_CATEGORIES = {
    complaint: {
      not_mine: 'no reconoce la deuda',
      identity_theft: 'robo de identidad',
      wrong_amount: 'monto equivocado',
      already_paid: 'dice que ya pagó',
      treatment: 'el trato de quien cobra',
      other: 'otro motivo',
    },
    privacy: {
      access: 'ver sus datos (acceso)',
      rectification: 'corregir sus datos (rectificación)',
      cancellation: 'borrar sus datos (cancelación)',
      opposition: 'que no usen sus datos (oposición)',
    },
  };
  const CASE_OUTCOMES = { favorable: 'a su favor', partial: 'en parte a su favor', unfavorable: 'en su contra' };
  const EVENT_KINDS = {
    locked: 'verificación bloqueada',
    claim_released: 'devuelta a la cola',
    opted_out: 'baja de mensajes',
    opted_in: 'alta de mensajes',
    case_opened: 'folio abierto',
    case_closed: 'folio cerrado',
    instrument_requested: 'medio de pago solicitado',
    receipt_confirmed: 'comprobante confirmado',
    receipt_unconfirmed: 'comprobante no confirmado',
    escalated: 'escalada',
    claimed: 'tomada',
    reassigned: 'reasignada',
    handed_out: 'asignada por turno',
    released: 'devuelta al bot',
    closed: 'cerrada',
    claim_expired: 'toma vencida',
    note_added: 'nota agregada',
    agent_message: 'mensaje del agente',
    verified: 'identidad verificada',
    verification_failed: 'verificación fallida',
    promise_made: 'promesa de pago',
    plan_created: 'plan creado',
    reference_issued: 'referencia emitida',
    wrong_number: 'número equivocado',
  };
  // The server's error sentences are in English: the ones a collector meets are said in Spanish,
  // by their stable code; anything else is shown as the server wrote it.
  const ERRORS = {
    held_by_other: (body) => `${body.holder ? body.holder.name : 'Otro agente'} tiene esta conversación.`,
    not_held: () => 'No tienes esta conversación: tómala primero.',
    closed: () => 'La conversación está cerrada.',
    outside_whatsapp_window: () =>
      'Pasaron más de 24 horas desde el último mensaje del deudor: WhatsApp no permite escribirle ahora.',
    opted_out: () => 'El deudor se dio de baja de este canal: no se le envía nada.',
    wrong_number: () => 'El número se reportó como equivocado: no se le envía nada.',
    forbidden: () => 'Tu rol no permite hacer esto.',
    not_found: (body) => ({
      'no such account': 'No hay ninguna cuenta con esa clave.',
      'no such payment': 'Ese pago ya no existe.',
    })[body.error] || 'No se encontró la conversación o el agente.',
    busy: () => 'El servidor está ocupado; intenta de nuevo.',
    not_in_suspense: () => 'Ese pago ya está aplicado.',
    self: () => 'No puedes desactivarte a ti mismo; pídeselo a otro supervisor.',
    last_supervisor: () => 'Es el último supervisor con acceso sin vencimiento: agrega otro antes de desactivarlo.',
    expiring_access: () => 'Tu acceso vence: solo puedes agregar cobradores cuyo acceso venza antes que el tuyo.',
    refunded: () => 'El proveedor devolvió ese pago (o parte): no se puede aplicar.',
    currency_mismatch: () => 'La cuenta se lleva en otra moneda que el pago.',
    outside_policy: (body) => `${policyLimit(body.limit || {}, accountCurrency(body.account_id))} Un supervisor puede autorizarlo.`,
    promise_open: () => 'La cuenta ya tiene una promesa abierta.',
    plan_active: () => 'La cuenta ya tiene un plan activo.',
    no_balance: () => 'La cuenta no tiene saldo.',
    past_date: () => 'La fecha ya pasó.',
    too_far: () => 'Una promesa no puede pasar de un año.',
    above_balance: () => 'El monto pasa del saldo (una liquidación es menor que el saldo).',
    bad_count: () => 'El saldo no se puede dividir en tantas parcialidades.',
    no_account: () => 'Elige una cuenta del deudor con saldo.',
    no_debtor: () => 'La conversación no tiene un deudor registrado: no se puede abrir un folio.',
  };
  // The currency of one of the open conversation's accounts (MXN when it is not known).
  function accountCurrency(accountId) {
    const account = ((state.conv && state.conv.accounts) || []).find((a) => a.account_id === accountId);
    return account ? account.currency : 'MXN';
  }

  // The creditor's policy limit an agreement crossed (the API's limit.kind and value).
  function policyLimit(limit, currency) {
    const v = limit.value;
    switch (limit.kind) {
      case 'latest_date': return `La política permite promesas hasta el ${day(v)}.`;
      case 'min_amount': return `La promesa mínima para esta cuenta es ${money(v, currency)}.`;
      case 'min_settlement': return `La liquidación mínima para esta cuenta es ${money(v, currency)}.`;
      case 'min_installment': return `Cada parcialidad debe ser de al menos ${money(v, currency)}: elige menos.`;
      case 'max_installments': return `La política permite hasta ${v} parcialidades para esta cuenta.`;
      case 'no_discount': return 'La política no da descuento a esta cuenta.';
      case 'no_plans': return 'La política no da planes en parcialidades a esta cuenta.';
      default: return 'Fuera de la política del acreedor.';
    }
  }
  const errorText = (code, body, fallback) => (ERRORS[code] ? ERRORS[code](body || {}) : fallback);

  // ---- Formatting ----

  // Times and days are the creditor's (COBRADOR_TIMEZONE, which GET /api/v1/me names), the same
  // for every collector wherever their browser is; the browser's own until someone signs in.
  let timeFmt;
  let dateTimeFmt;
  let calendarFmt;
  function setZone(zone) {
    let timeZone = zone || undefined;
    try {
      new Intl.DateTimeFormat(LOCALE, { timeZone });
    } catch {
      timeZone = undefined; // a zone this browser does not know: its own
    }
    timeFmt = new Intl.DateTimeFormat(LOCALE, { timeStyle: 'short', timeZone });
    dateTimeFmt = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short', timeZone });
    calendarFmt = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone });
  }
  setZone();
  const dateFmt = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium' });
  const relFmt = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'always', style: 'short' });

  function money(amount, currency, options) {
    if (amount == null) return '—';
    try {
      return new Intl.NumberFormat(LOCALE, { style: 'currency', currency, ...options }).format(Number(amount));
    } catch {
      return `${amount} ${currency || ''}`.trim(); // unknown currency code
    }
  }

  // An instant's day in the creditor's calendar, as YYYY-MM-DD.
  function localDate(d) {
    const part = Object.fromEntries(calendarFmt.formatToParts(d).map((p) => [p.type, p.value]));
    return `${part.year}-${part.month}-${part.day}`;
  }

  // An ISO instant in the creditor's time: just the time when it is today.
  function when(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return localDate(d) === localDate(new Date()) ? timeFmt.format(d) : dateTimeFmt.format(d);
  }

  // A YYYY-MM-DD calendar date, read as a local date so it does not shift by the UTC offset.
  function day(ymd) {
    if (!ymd) return '—';
    const [y, m, d] = ymd.split('-').map(Number);
    return dateFmt.format(new Date(y, m - 1, d));
  }

  function ago(seconds) {
    if (seconds < 60) return 'hace un momento';
    if (seconds < 3600) return relFmt.format(-Math.floor(seconds / 60), 'minute');
    if (seconds < 86400) return relFmt.format(-Math.floor(seconds / 3600), 'hour');
    return relFmt.format(-Math.floor(seconds / 86400), 'day');
  }

  const label = (map, key) => (key == null ? '' : map[key] || key);
  const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // ---- DOM helpers ----

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  // ---- State ----

  const state = {
    token: null,
    me: null, // {id, name, role}
    agents: new Map(), // id -> agent, supervisors only
    agentNames: {}, // id -> name, every agent, from the open conversation
    tab: 'escalated',
    report: null, // the report on screen, kept to redraw its charts when the window resizes
    openId: null,
    conv: null, // the open conversation as last fetched
    renderedMessages: 0, // the transcript scrolls to the bottom when this grows
    busy: false, // an action is in flight: its buttons stay disabled
    session: 0, // bumped at sign-in and sign-out so answers for an old session are dropped
  };
  const drafts = new Map(); // "<id>:reply" / "<id>:note" -> unsent text, kept per conversation
  // Stored files, fetched once with the agent's token (never a public URL): media id -> object URL.
  const mediaUrls = new Map();
  let safetyTimer = 0; // refreshes the queue even if an event was missed

  // ---- Notices ----

  let noticeTimer = 0;

  function notify(text, kind = 'ok') {
    const box = $('notice');
    clearTimeout(noticeTimer);
    box.textContent = text;
    box.className = `notice ${kind}`;
    box.hidden = false;
    noticeTimer = setTimeout(clearNotice, kind === 'ok' ? 4000 : 10000);
  }

  function clearNotice() {
    clearTimeout(noticeTimer);
    $('notice').hidden = true;
    $('notice').textContent = '';
  }

  // Errors from an old session, or the 401 that ended this one, are not worth a notice.
  function fail(err) {
    if (!err.stale) notify(errorText(err.code, err.body, err.message), 'error');
  }

  // ---- API ----

  function staleError() {
    const err = new Error('stale session');
    err.stale = true;
    return err;
  }

  // Sends one request and answers its Response once it is known to be a success.
  async function request(method, path, body, accept = 'application/json') {
    const session = state.session;
    const headers = { Authorization: `Bearer ${state.token}`, Accept: accept };
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch {
      if (session !== state.session) throw staleError();
      throw new Error('No se pudo conectar con el servidor.');
    }
    if (session !== state.session) throw staleError();
    if (res.status === 401) {
      signOut(state.me ? 'Tu sesión ya no es válida; vuelve a entrar.' : 'Token no válido');
      throw staleError();
    }
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      if (session !== state.session) throw staleError();
      const err = new Error(data.error || `Error ${res.status}`);
      err.status = res.status;
      err.code = data.code;
      err.body = data;
      throw err;
    }
    return res;
  }

  async function api(method, path, body) {
    const session = state.session;
    const res = await request(method, path, body);
    const data = await res.json().catch(() => ({}));
    if (session !== state.session) throw staleError();
    return data;
  }

  // ---- Sign in / out ----

  async function signIn(token) {
    state.token = token;
    state.session += 1;
    $('signin-error').textContent = '';
    $('sign-in').disabled = true;
    try {
      startSession(await api('GET', '/api/v1/me'));
    } catch (err) {
      if (!err.stale) {
        state.token = null;
        $('signin-error').textContent = errorText(err.code, err.body, err.message);
      }
    } finally {
      $('sign-in').disabled = false;
    }
  }

  function startSession(me) {
    state.me = me;
    setZone(me.timezone);
    $('who').title = me.timezone ? `Horas y días en ${me.timezone}` : '';
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $('token').value = '';
    renderShift();
    $('signin').hidden = true;
    $('main').hidden = false;
    setDefaultRange();
    $('nav-team').hidden = me.role !== 'supervisor';
    if (me.role === 'supervisor') loadAgents();
    loadQueue(); // and learns what is already mine
    connectLive();
    safetyTimer = setInterval(() => {
      loadQueue();
      loadConversation();
    }, QUEUE_SAFETY_MS);
  }

  // Who is signed in, and whether they are on shift (new escalations come to them in turn).
  function renderShift() {
    const me = state.me;
    $('who').textContent = `${me.name} · ${label(ROLES, me.role)}${me.on_shift ? ' · en turno' : ''}`;
    const button = $('shift');
    button.textContent = me.on_shift ? 'Terminar turno' : 'Empezar turno';
    button.setAttribute('aria-pressed', String(Boolean(me.on_shift)));
    button.classList.toggle('on', Boolean(me.on_shift));
  }

  // Puts `agent` (oneself by default) on shift or takes them off it.
  async function setShift(agent, on, button) {
    button.disabled = true;
    try {
      const done = await api('POST', `/api/v1/agents/${agent.id}/shift`, { on_shift: on });
      if (state.me && done.id === state.me.id) {
        state.me.on_shift = done.on_shift;
        state.me.on_shift_since = done.on_shift_since;
        mine.known = null;
        renderShift();
        checkHandedToMe(); // what is already mine is not news
        notify(on ? 'Estás en turno: te llegarán, por turnos, las conversaciones que esperan a una persona.'
          : 'Terminaste tu turno: ya no te llegan conversaciones nuevas; las que tienes siguen siendo tuyas.');
      } else {
        notify(on ? `${done.name} está en turno.` : `${done.name} ya no está en turno.`);
      }
      if (state.me && state.me.role === 'supervisor') loadAgents();
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  // Whether a supervisor (or the person) changed one's shift elsewhere.
  async function refreshMe() {
    try {
      const me = await api('GET', '/api/v1/me');
      if (!state.me || me.id !== state.me.id) return;
      state.me.on_shift = me.on_shift;
      state.me.on_shift_since = me.on_shift_since;
      renderShift();
    } catch (err) {
      if (!err.stale) fail(err);
    }
  }

  // The conversations given to me while on shift (handed out in turn, or by a supervisor): a
  // notice for each new one. The first look (on signing in, or on going on shift) only learns
  // what is already mine; what I take myself is added when I take it. Only the latest look
  // counts, as with the queue.
  const mine = { known: null, seq: 0 };
  async function checkHandedToMe() {
    if (!state.me || !state.me.on_shift) return;
    const seq = ++mine.seq;
    try {
      const { conversations } = await api('GET', '/api/v1/conversations?mine=1&state=claimed');
      if (seq !== mine.seq) return;
      const ids = new Set(conversations.map((c) => c.id));
      if (mine.known) {
        const fresh = conversations.filter((c) => !mine.known.has(c.id));
        if (fresh.length === 1) {
          notify(`Te asignaron una conversación: ${fresh[0].debtor_name || fresh[0].phone}.`);
        } else if (fresh.length > 1) {
          notify(`Te asignaron ${fresh.length} conversaciones: están en «Mías».`);
        }
      }
      mine.known = ids;
    } catch (err) {
      if (!err.stale) fail(err);
    }
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.session += 1;
    state.token = null;
    state.me = null;
    mine.known = null;
    state.agents.clear();
    $('agent-token').value = ''; // a new person's token never outlives the session that made it
    $('agent-token-box').hidden = true;
    $('agents-table').tBodies[0].replaceChildren();
    $('nav-team').hidden = true;
    for (const url of mediaUrls.values()) if (url) URL.revokeObjectURL(url);
    mediaUrls.clear();
    stopLive();
    clearInterval(safetyTimer);
    closeConversation();
    drafts.clear(); // after closing, which saves the open conversation's drafts
    $('reassign').replaceChildren(new Option('Asignar a…', ''));
    $('reply-text').value = '';
    $('note-text').value = '';
    $('queue').replaceChildren();
    cases.list = [];
    cases.current = null;
    cases.seq += 1;
    $('cases-table').tBodies[0].replaceChildren();
    renderCaseDetail(); // hidden
    for (const id of ['case-title', 'case-meta', 'case-description-text', 'case-answer-meta', 'case-answer-text']) {
      $(id).textContent = '';
    }
    $('case-resolution').value = '';
    $('case-outcome').value = '';
    showView('queue');
    clearReport();
    clearNotice();
    $('main').hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = message || '';
    $('token').focus();
  }

  async function loadAgents() {
    try {
      const { agents } = await api('GET', '/api/v1/agents');
      const select = $('reassign');
      select.replaceChildren(new Option('Asignar a…', ''));
      for (const agent of agents) {
        state.agents.set(agent.id, agent);
        if (!agent.disabled) select.append(new Option(`${agent.name} (${label(ROLES, agent.role)})`, agent.id));
      }
      if (state.conv) renderConversation(state.conv); // agent names in the transcript
      renderTeam();
    } catch (err) {
      fail(err);
    }
  }

  // ---- Queue ----

  let queueSeq = 0;

  // What the search box holds, once it is long enough to search by (two letters, or digits).
  function searchText() {
    const q = $('search').value.trim();
    return q.length >= 2 ? q : '';
  }

  async function loadQueue() {
    if (!state.token) return;
    const seq = ++queueSeq;
    const q = searchText();
    // A search looks through every conversation, whatever the tab; the tabs wait until it ends.
    const query = q ? `state=all&q=${encodeURIComponent(q)}`
      : state.tab === 'mine' ? 'mine=1&state=claimed'
        : state.tab === 'promises' ? `state=all&promise_due=${localDate(new Date())}`
          : `state=${state.tab}`;
    try {
      const { conversations } = await api('GET', `/api/v1/conversations?${query}`);
      if (seq !== queueSeq) return;
      renderQueue(conversations);
      checkHandedToMe();
      const note = $('search-note');
      note.hidden = !q;
      note.textContent = !q ? ''
        : conversations.length === 0 ? `Nada coincide con «${q}».`
          : `${conversations.length === 1 ? '1 conversación coincide' : `${conversations.length} conversaciones coinciden`} con «${q}», de todas las vistas.`;
      if (q) $('queue-empty').hidden = true; // the note says it
      else if (state.tab === 'promises') {
        $('queue-empty').textContent = 'Ninguna promesa vigente vence hoy.';
      } else $('queue-empty').textContent = 'No hay conversaciones aquí.';
      for (const tab of document.querySelectorAll('.tabs .tab')) tab.classList.toggle('dimmed', Boolean(q));
    } catch (err) {
      fail(err);
    }
  }

  const heldByMe = (c) => Boolean(c.holder && state.me && c.holder.id === state.me.id);

  function stateLabel(c) {
    switch (c.state) {
      case 'bot': return 'con el bot';
      case 'escalated': return 'en espera';
      case 'claimed': return `tomada por ${c.holder ? c.holder.name : '—'}${heldByMe(c) ? ' (tú)' : ''}`;
      case 'closed': return c.disposition ? `cerrada (${label(DISPOSITIONS, c.disposition)})` : 'cerrada';
      default: return c.state;
    }
  }

  function channelBadge(channel) {
    return el('span', `badge channel-${channel}`, label(CHANNELS, channel));
  }

  // " (antes: disputa)" when the conversation was escalated for other reasons before.
  function earlierReasons(c) {
    const earlier = c.earlier_reasons || [];
    return earlier.length ? ` (antes: ${earlier.map((r) => label(REASONS, r)).join(', ')})` : '';
  }

  function queueItem(c) {
    const li = el('li', 'queue-item');
    li.dataset.id = c.id;
    li.tabIndex = 0;
    if (c.id === state.openId) {
      li.classList.add('selected');
      li.setAttribute('aria-current', 'true');
    }

    const top = el('div', 'qi-top');
    top.append(el('span', 'qi-name', c.debtor_name || c.phone));
    const waiting = c.waiting_seconds != null && (c.state === 'escalated' || c.state === 'claimed');
    const since = waiting ? c.escalated_at : c.last_activity_at;
    const seconds = waiting ? c.waiting_seconds : (Date.now() - Date.parse(since)) / 1000;
    const time = el('span', 'qi-time', since ? ago(Math.max(0, seconds)) : '');
    if (since) time.title = `${waiting ? 'En espera desde' : 'Última actividad'}: ${when(since)}`;
    top.append(time);

    const about = [];
    if (c.state !== 'escalated') about.push(stateLabel(c));
    if (c.escalation_reason && c.state !== 'bot') {
      about.push(label(REASONS, c.escalation_reason) + earlierReasons(c));
    }
    const sub = el('div', 'qi-sub');
    sub.append(channelBadge(c.channel), el('span', '', about.join(' · ')));
    li.append(top, sub, el('div', 'qi-last', c.last_message || ''));
    return li;
  }

  function renderQueue(list) {
    const queue = $('queue');
    // Keep keyboard focus on the same item across refreshes.
    const focused = document.activeElement && queue.contains(document.activeElement)
      ? document.activeElement.dataset.id : null;
    queue.replaceChildren(...list.map(queueItem));
    $('queue-empty').hidden = list.length > 0;
    if (focused) {
      const again = queue.querySelector(`[data-id="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function markSelected() {
    for (const li of $('queue').children) {
      const on = Number(li.dataset.id) === state.openId;
      li.classList.toggle('selected', on);
      if (on) li.setAttribute('aria-current', 'true');
      else li.removeAttribute('aria-current');
    }
  }

  function selectTab(button) {
    for (const tab of document.querySelectorAll('.tabs .tab')) {
      const on = tab === button;
      tab.classList.toggle('active', on);
      tab.setAttribute('aria-pressed', String(on));
    }
    state.tab = button.dataset.state;
    $('queue').replaceChildren();
    $('queue-empty').hidden = true;
    loadQueue();
  }

  // ---- Conversation ----

  let convSeq = 0;

  function openConversation(id) {
    if (id === state.openId) {
      document.body.classList.add('conv-open');
      loadConversation();
      return;
    }
    saveDrafts();
    state.openId = id;
    state.conv = null;
    state.renderedMessages = 0;
    $('conversation').dataset.id = id;
    document.body.classList.add('conv-open');
    // Nothing of the previous conversation stays on screen while this one loads.
    $('conv-body').hidden = true;
    $('conv-empty').hidden = false;
    $('conv-empty').textContent = 'Cargando…';
    $('reply-text').value = drafts.get(`${id}:reply`) || '';
    $('note-text').value = drafts.get(`${id}:note`) || '';
    $('disposition').value = '';
    $('reassign').value = '';
    $('conv-cases').replaceChildren(); // the next debtor's come with the conversation
    resetCaseForm();
    closeCanned();
    markSelected();
    window.scrollTo(0, 0); // on a phone the page itself scrolls: start at the header
    loadConversation();
  }

  function closeConversation() {
    saveDrafts();
    const was = state.openId;
    state.openId = null;
    state.conv = null;
    convSeq += 1;
    delete $('conversation').dataset.id;
    document.body.classList.remove('conv-open');
    $('conv-body').hidden = true;
    $('conv-empty').hidden = false;
    $('conv-empty').textContent = 'Elige una conversación de la cola.';
    $('conv-cases').replaceChildren();
    resetCaseForm();
    markSelected();
    const item = was != null && $('queue').querySelector(`[data-id="${was}"]`);
    if (item) item.focus();
  }

  function saveDrafts() {
    if (state.openId == null) return;
    drafts.set(`${state.openId}:reply`, $('reply-text').value);
    drafts.set(`${state.openId}:note`, $('note-text').value);
  }

  async function loadConversation() {
    const id = state.openId;
    if (id == null || !state.token) return;
    const seq = ++convSeq;
    try {
      const conv = await api('GET', `/api/v1/conversations/${id}`);
      if (seq === convSeq) {
        state.conv = conv;
        renderConversation(conv);
      }
    } catch (err) {
      if (seq !== convSeq) return;
      fail(err);
      if (err.status === 404) closeConversation();
    }
  }

  function renderConversation(c) {
    $('conv-empty').hidden = true;
    $('conv-body').hidden = false;
    $('conv-name').textContent = c.debtor_name || c.phone;
    $('conv-phone').textContent = c.debtor_name ? c.phone : 'sin deudor registrado';
    const channel = $('conv-channel');
    channel.className = `badge channel-${c.channel}`;
    channel.textContent = label(CHANNELS, c.channel);
    const verified = $('conv-verified');
    verified.className = `badge ${c.verified ? 'verified' : 'unverified'}`;
    verified.textContent = c.verified ? 'identidad verificada' : 'sin verificar';
    $('conv-state').textContent = stateLabel(c);
    // Why a person has it, while a person has it: not after it went back to the bot.
    const reason = $('conv-reason');
    const held = c.state === 'escalated' || c.state === 'claimed';
    reason.hidden = !c.escalation_reason || !held;
    reason.textContent = c.escalation_reason
      ? `Motivo: ${label(REASONS, c.escalation_reason)}${earlierReasons(c)}`
      : '';
    reason.title = c.escalated_at ? `Escalada: ${when(c.escalated_at)}` : '';

    state.agentNames = c.agent_names || {};
    renderControls();
    renderAccounts(c.accounts || []);
    renderPromises(c.promises || []);
    renderPlans(c.plans || []);
    renderAgreementForm(c);
    loadConversationCases(c);
    renderTranscript(c.messages || []);
    renderNotes(c.notes || []);
    renderEvents(c.events || []);
  }

  // Which actions show, and whether they can be used now.
  function renderControls() {
    const c = state.conv;
    if (!c) return;
    const closed = c.state === 'closed';
    const mine = heldByMe(c);
    const supervisor = state.me.role === 'supervisor';
    const handedOver = c.state === 'escalated' || c.state === 'claimed';

    $('claim').hidden = closed || mine;
    $('release').hidden = !(handedOver && (mine || supervisor));
    $('close-group').hidden = closed || !(mine || supervisor);
    $('reassign-group').hidden = closed || !supervisor;
    for (const id of ['claim', 'release', 'close', 'reassign-btn', 'add-note', 'agreement-save']) $(id).disabled = state.busy;

    let why = '';
    if (closed) why = 'La conversación está cerrada.';
    else if (!mine) why = 'Toma la conversación para responder.';
    else if (!c.can_send || !c.can_send.ok) {
      const blocked = c.can_send || {};
      why = errorText(blocked.code, blocked, blocked.error || 'Ahora no se puede enviar.');
    }
    const reply = $('reply-text');
    reply.disabled = Boolean(why);
    reply.maxLength = c.channel === 'sms' ? 1600 : 4096;
    $('send').disabled = Boolean(why) || state.busy;
    $('canned-toggle').disabled = Boolean(why);
    if (why) closeCanned();
    if (!why && c.whatsapp_window_closes_at) {
      why = `Ventana de WhatsApp abierta hasta ${when(c.whatsapp_window_closes_at)}`;
    }
    $('reply-hint').textContent = why;
  }

  function renderAccounts(accounts) {
    $('accounts-section').hidden = accounts.length === 0;
    $('accounts').tBodies[0].replaceChildren(...accounts.map((a) => {
      // Four columns fit beside the chat on a laptop: the reference goes under the account.
      const tr = el('tr');
      const account = el('td', '', a.account_id);
      if (a.reference) account.append(el('div', 'sub', `Ref. ${a.reference}`));
      tr.append(
        account,
        el('td', 'num', money(a.balance, a.currency)),
        el('td', '', day(a.due_date)),
        el('td', 'num', a.days_past_due == null ? '—' : count(a.days_past_due, 'día', 'días')),
      );
      return tr;
    }));
  }

  function renderPromises(promises) {
    $('promises-section').hidden = promises.length === 0;
    $('promises').replaceChildren(...promises.map((p) => el('li', '', [
      money(p.amount, p.currency),
      `vence ${day(p.due_date)}`,
      label(PROMISE_STATUS, p.status),
      `cuenta ${p.account_id}`,
    ].join(' · '))));
  }

  function renderPlans(plans) {
    $('plans-section').hidden = plans.length === 0;
    $('plans').replaceChildren(...plans.map((p) => {
      const li = el('li');
      const parts = [label(PLAN_KIND, p.kind), money(p.total, p.currency)];
      if (Number(p.discount) > 0) parts.push(`descuento ${money(p.discount, p.currency)}`);
      parts.push(label(PLAN_STATUS, p.status), `cuenta ${p.account_id}`);
      li.append(el('div', '', parts.join(' · ')));
      const installments = p.installments || [];
      if (installments.length) {
        const ol = el('ol', 'installments');
        ol.append(...installments.map((i) => el('li', '',
          `${day(i.due_date)} · ${money(i.amount, p.currency)} · ${label(INSTALLMENT_STATUS, i.status)}`)));
        li.append(ol);
      }
      return li;
    }));
  }

  // Which of the form's fields each kind of agreement asks for.
  const AGREEMENT_FIELDS = { promise: ['amount', 'date'], settlement: ['amount'], installments: ['count'] };

  function renderAgreementKind() {
    const fields = AGREEMENT_FIELDS[$('agreement-kind').value] || [];
    for (const f of ['amount', 'date', 'count']) $(`agreement-${f}-field`).hidden = !fields.includes(f);
  }

  // The holder (or a supervisor) records a promise or a plan for an account that owes.
  function renderAgreementForm(c) {
    const owing = (c.accounts || []).filter((a) => Number(a.balance) > 0);
    const supervisor = state.me.role === 'supervisor';
    const can = c.state !== 'closed' && (heldByMe(c) || supervisor) && owing.length > 0;
    $('agreement-section').hidden = !can;
    if (!can) return;
    const select = $('agreement-account');
    const chosen = select.value;
    select.replaceChildren(...owing.map((a) => {
      const option = el('option', '', `${a.account_id} · ${money(a.balance, a.currency)}`);
      option.value = a.account_id;
      return option;
    }));
    if (owing.some((a) => a.account_id === chosen)) select.value = chosen;
    $('agreement-account-field').hidden = owing.length < 2;
    $('agreement-hint').textContent = supervisor
      ? 'Como supervisor puedes registrar fuera de la política del acreedor; quedará anotado.'
      : 'Dentro de la política del acreedor: si algo pasa de ella, lo autoriza un supervisor.';
    renderAgreementKind();
  }

  function authorLabel(author) {
    if (author === 'debtor') return 'Deudor';
    if (author === 'bot') return 'Bot';
    if (author === 'system') return 'Sistema';
    const match = /^agent:(\d+)$/.exec(author || '');
    if (!match) return author || '';
    const id = Number(match[1]);
    if (state.me && id === state.me.id) return 'Tú';
    const agent = state.agents.get(id);
    if (agent) return agent.name;
    const named = state.agentNames && state.agentNames[String(id)];
    return named || `Agente ${id}`;
  }

  function messageNode(m) {
    const inbound = m.direction === 'in';
    const node = el('div', `msg ${inbound ? 'in' : 'out'}`);
    node.dataset.status = m.status || '';
    node.dataset.author = m.author || '';
    if (/^agent:/.test(m.author || '')) node.classList.add('agent');
    const meta = [when(m.at), authorLabel(m.author)];
    if (!inbound && m.status) {
      let status = label(SEND_STATUS, m.status);
      if (m.status === 'failed' && m.error_code) status += ` (${m.error_code})`;
      meta.push(status);
    }
    const files = (m.media || []).map(mediaNode);
    const text = m.text || (files.length ? '' : '(sin texto)');
    if (text) node.append(el('div', 'msg-text', text));
    node.append(...files, el('div', 'msg-meta', meta.join(' · ')));
    return node;
  }

  // A file a debtor sent: shown inline once fetched with the token (image, player, PDF link), or
  // why it is not there.
  function mediaNode(f) {
    const box = el('div', 'msg-media');
    box.dataset.mediaId = f.id;
    box.dataset.status = f.status;
    const kind = f.voice ? 'Nota de voz' : label(MEDIA_KINDS, f.kind);
    if (f.status !== 'stored') {
      box.append(el('div', 'media-missing', `${kind}: ${label(MEDIA_STATUS, f.status)}`));
      if (f.detail) box.append(el('div', 'media-detail', f.detail));
      return box;
    }
    const show = (url, target = box) => {
      const type = f.content_type || '';
      let node;
      if (type.startsWith('image/')) {
        node = el('img', 'media-image');
        node.src = url;
        node.alt = `${kind} enviada por el deudor`;
      } else if (type.startsWith('audio/') || f.kind === 'audio') {
        node = el('audio', 'media-audio');
        node.controls = true;
        node.src = url;
      } else if (type.startsWith('video/')) {
        node = el('video', 'media-video');
        node.controls = true;
        node.src = url;
      } else {
        node = el('a', 'media-link', `Abrir ${f.filename || 'documento'} (PDF)`);
        node.href = url;
        node.target = '_blank';
        node.rel = 'noopener';
      }
      target.replaceChildren(node);
    };
    const known = mediaUrls.get(f.id);
    if (known) {
      show(known);
      return withReading(box, f);
    }
    box.append(el('div', 'media-missing', `${kind}: cargando…`));
    const session = state.session;
    request('GET', f.url, undefined, '*/*')
      .then((res) => res.blob())
      .then((blob) => {
        if (session !== state.session) return;
        const url = URL.createObjectURL(blob);
        mediaUrls.set(f.id, url);
        // The transcript may have been drawn again meanwhile: fill every box for this file.
        show(url);
        for (const node of document.querySelectorAll(`.msg-media[data-media-id="${Number(f.id)}"]`)) {
          if (node !== box) show(url, node);
        }
      })
      .catch(() => {
        if (session === state.session) box.replaceChildren(el('div', 'media-missing', `${kind}: no se pudo mostrar`));
      });
    return withReading(box, f);
  }

  // What a receipt said, read by OCR or from a PDF: for the person who checks it with the bank.
  const RECEIPT_FIELDS = [
    ['amount', 'Importe'],
    ['date', 'Fecha'],
    ['clave_rastreo', 'Clave de rastreo'],
    ['beneficiary_account', 'Cuenta destino'],
    ['reference', 'Referencia'],
    ['sending_bank', 'Banco emisor'],
    ['concept', 'Concepto'],
    ['beneficiary_name', 'Beneficiario'],
  ];
  // Its confirmation with Banxico's CEP, in words.
  const CHECK_OUTCOMES = {
    applied: 'pago registrado',
    suspense: 'el pago no nombra una cuenta: asígnalo',
    duplicate: 'ese pago ya estaba registrado',
    not_found: 'Banxico no encontró la transferencia',
    mismatch: 'Banxico muestra otra transferencia',
    not_settled: 'Banxico muestra el pago devuelto, cancelado o rechazado',
    incomplete: 'faltan datos para consultar a Banxico',
    not_ours: 'la cuenta destino no es nuestra',
    unreadable: 'no se pudo leer',
    cep_unavailable: 'Banxico no respondió',
  };
  function checkText(c) {
    if (c.status === 'pending') return 'Consultando a Banxico (CEP)…';
    const what = CHECK_OUTCOMES[c.outcome] || c.outcome || '';
    const head = c.status === 'confirmed' ? 'Confirmado con Banxico (CEP)' : 'No confirmado';
    return `${head}: ${what}${c.detail && c.status !== 'confirmed' ? ` (${c.detail})` : ''}`;
  }
  function withReading(box, f) {
    const r = f.receipt;
    if (!r) return box;
    const wrap = el('div', 'msg-media-wrap');
    const reading = el('div', 'receipt-reading');
    if (r.status !== 'read') {
      reading.append(el('div', 'media-detail', `No se pudo leer el comprobante: ${r.error || 'sin texto'}`));
    } else {
      reading.append(el('div', 'receipt-title', r.engine === 'ocr' ? 'Leído del comprobante (OCR, por verificar)' : r.engine === 'pdf_ocr' ? 'Leído del PDF escaneado (OCR, por verificar)' : 'Leído del PDF (por verificar)'));
      const list = el('dl', 'receipt-fields');
      let any = false;
      for (const [key, name] of RECEIPT_FIELDS) {
        const value = r.fields && r.fields[key];
        if (value == null) continue;
        any = true;
        list.append(el('dt', null, name), el('dd', null, key === 'amount' ? money(value, 'MXN') : value));
      }
      if (any) reading.append(list);
      else reading.append(el('div', 'media-detail', 'No se encontraron datos de pago en el texto.'));
    }
    if (r.check) reading.append(el('div', `receipt-check check-${r.check.status}`, checkText(r.check)));
    wrap.append(box, reading);
    return wrap;
  }

  function renderTranscript(messages) {
    const box = $('transcript');
    const top = box.scrollTop;
    box.replaceChildren(...messages.map(messageNode));
    if (messages.length === 0) box.append(el('p', 'empty', 'Sin mensajes todavía.'));
    // Follow new messages; otherwise leave the reader where they were.
    box.scrollTop = messages.length > state.renderedMessages ? box.scrollHeight : top;
    state.renderedMessages = messages.length;
  }

  function renderNotes(notes) {
    $('notes').replaceChildren(...notes.map((n) => {
      const li = el('li', 'note');
      li.append(el('div', 'meta', `${n.agent ? n.agent.name : ''} · ${when(n.at)}`), el('div', 'note-text', n.text));
      return li;
    }));
    if (notes.length === 0) $('notes').append(el('li', 'empty', 'Sin notas.'));
  }

  // An agent's name by id: from the open conversation (every agent), else the supervisor's list.
  function agentName(id) {
    if (state.me && Number(id) === state.me.id) return 'ti';
    const named = state.agentNames && state.agentNames[String(id)];
    if (named) return named;
    const agent = state.agents.get(Number(id));
    return agent ? agent.name : `agente ${id}`;
  }

  // An event's detail in words: names, reasons and times, never "agent_id: 1".
  const EVENT_DETAIL = {
    reason: (v) => `motivo: ${label(REASONS, v)}`,
    agent_id: (v) => `para ${agentName(v)}`,
    from_agent_id: (v) => `antes con ${agentName(v)}`,
    until: (v) => `hasta ${when(v)}`,
    folio: (v) => `folio ${v}`,
    disposition: (v) => `resultado: ${label(DISPOSITIONS, v)}`,
    role: (v) => label(ROLES, v),
    previous_state: () => '',
  };

  function eventDetail(detail) {
    if (detail == null || detail === '') return '';
    if (typeof detail !== 'object') return String(detail);
    return Object.entries(detail)
      .filter(([, value]) => value != null && value !== '')
      .map(([key, value]) => (EVENT_DETAIL[key]
        ? EVENT_DETAIL[key](value)
        : `${key.replace(/_/g, ' ')}: ${typeof value === 'object' ? JSON.stringify(value) : value}`))
      .filter(Boolean)
      .join(', ');
  }

  function renderEvents(events) {
    $('events').querySelector('summary').textContent = `Historial (${events.length})`;
    $('events-list').replaceChildren(...events.map((e) => {
      const li = el('li');
      li.append(el('div', 'meta', `${when(e.at)} · ${e.actor ? authorLabel(e.actor) : 'sistema'}`));
      const text = [label(EVENT_KINDS, e.kind), eventDetail(e.detail)].filter(Boolean).join(' — ');
      li.append(el('div', '', text));
      return li;
    }));
  }

  // ---- Actions ----

  // Runs one change against the open conversation, then refreshes it and the queue whatever
  // happened (a 409 usually means someone else changed it first).
  // Runs `work` on the open conversation; `success` is the notice, or makes it from the answer.
  async function act(work, success) {
    if (state.busy || state.openId == null) return;
    state.busy = true;
    clearNotice();
    renderControls();
    try {
      const done = await work(state.openId);
      notify(typeof success === 'function' ? success(done) : success);
    } catch (err) {
      fail(err);
    } finally {
      state.busy = false;
      renderControls();
    }
    loadConversation();
    loadQueue();
  }

  const convPath = (id, action) => `/api/v1/conversations/${id}/${action}`;

  function claim() {
    act(async (id) => {
      const done = await api('POST', convPath(id, 'claim'), {});
      mine.seq += 1; // a look begun before this claim would not know it
      if (mine.known) mine.known.add(id); // taken, not given: no notice
      return done;
    }, 'Conversación tomada.');
  }

  function release() {
    act((id) => api('POST', convPath(id, 'release'), {}), 'Conversación devuelta al bot.');
  }

  function close() {
    const disposition = $('disposition').value;
    if (!disposition) {
      notify('Elige el resultado antes de cerrar.', 'error');
      $('disposition').focus();
      return;
    }
    act(async (id) => {
      await api('POST', convPath(id, 'close'), { disposition });
      $('disposition').value = '';
    }, 'Conversación cerrada.');
  }

  // "$1,500.50", "1500.5" or "1 500" as the API's "1500.50"; null when it is not an amount. A
  // comma only separates thousands ("1,500"): "1500,50" is refused rather than read as 150050.
  function decimalAmount(text) {
    const plain = text.replace(/[\s$]/g, '');
    if (!/^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$/.test(plain)) return null;
    const amount = plain.replace(/,/g, '');
    return Number(amount) > 0 ? amount : null;
  }

  function recordAgreement() {
    const kind = $('agreement-kind').value;
    const body = { kind, account_id: $('agreement-account').value };
    const fields = AGREEMENT_FIELDS[kind];
    if (fields.includes('amount')) {
      body.amount = decimalAmount($('agreement-amount').value);
      if (!body.amount) {
        notify('Escribe el monto, por ejemplo 1500.00.', 'error');
        $('agreement-amount').focus();
        return;
      }
    }
    if (fields.includes('date')) {
      body.date = $('agreement-date').value;
      if (!body.date) {
        notify('Elige la fecha de la promesa.', 'error');
        $('agreement-date').focus();
        return;
      }
    }
    if (fields.includes('count')) {
      body.installments = Number($('agreement-count').value);
      if (!Number.isInteger(body.installments) || body.installments < 2 || body.installments > 120) {
        notify('Las parcialidades van de 2 a 120.', 'error');
        $('agreement-count').focus();
        return;
      }
    }
    const account = (state.conv.accounts || []).find((a) => a.account_id === body.account_id) || {};
    act(async (id) => {
      const done = await api('POST', convPath(id, 'agreements'), body);
      if (state.openId === id) {
        // The kind and the account stay as chosen: the next agreement is often for the same.
        $('agreement-amount').value = '';
        $('agreement-date').value = '';
        $('agreement-count').value = '3';
      }
      return done;
    }, (done) => {
      const what = done.kind === 'promise'
        ? `Promesa de ${money(done.amount, account.currency)} para el ${day(done.date)} registrada`
        : done.kind === 'settlement'
          ? `Liquidación de ${money(done.total, account.currency)} registrada`
          : `Plan de ${count(done.schedule.length, 'pago', 'pagos')} registrado`;
      return done.beyond_policy ? `${what}, fuera de la política del acreedor.` : `${what}.`;
    });
  }

  function reassign() {
    const agentId = Number($('reassign').value);
    if (!agentId) {
      notify('Elige a quién asignarla.', 'error');
      $('reassign').focus();
      return;
    }
    const agent = state.agents.get(agentId);
    act(async (id) => {
      await api('POST', convPath(id, 'claim'), { agent_id: agentId });
      $('reassign').value = '';
    }, `Asignada a ${agent ? agent.name : `agente ${agentId}`}.`);
  }

  function send() {
    const text = $('reply-text').value.trim();
    if (!text || $('send').disabled) return;
    act(async (id) => {
      await api('POST', convPath(id, 'messages'), { text });
      drafts.delete(`${id}:reply`);
      if (state.openId === id) $('reply-text').value = '';
    }, 'Mensaje en cola para enviar.');
  }

  // Ctrl+Enter sends; said only on screens wide enough to have a keyboard beside them.
  const wideScreen = window.matchMedia('(min-width: 900px)');
  function placeReplyHint() {
    $('reply-text').placeholder = wideScreen.matches
      ? 'Escribe tu respuesta… (Ctrl+Enter envía)'
      : 'Escribe tu respuesta…';
  }

  // ---- Canned replies: the server fills them in for the open conversation ----

  function closeCanned() {
    $('canned-menu').hidden = true;
    $('canned-toggle').setAttribute('aria-expanded', 'false');
  }

  async function toggleCanned() {
    const menu = $('canned-menu');
    if (!menu.hidden) {
      closeCanned();
      return;
    }
    const id = state.openId;
    if (id == null) return;
    try {
      const got = await api('GET', convPath(id, 'replies'));
      if (state.openId !== id) return;
      const items = (got.replies || []).map((r) => {
        const button = el('button', 'canned-item');
        button.type = 'button';
        button.dataset.id = r.id;
        button.append(el('strong', '', r.title), el('span', '', r.text));
        button.addEventListener('click', () => useCanned(r.text));
        const li = el('li');
        li.append(button);
        return li;
      });
      menu.replaceChildren(...(items.length
        ? items
        : [el('li', 'hint', 'No hay respuestas rápidas para esta conversación.')]));
      menu.hidden = false;
      $('canned-toggle').setAttribute('aria-expanded', 'true');
      const first = menu.querySelector('button');
      if (first) first.focus();
    } catch (err) {
      fail(err);
    }
  }

  // The reply goes into the box (after what is there), to be read and sent by the collector.
  function useCanned(text) {
    const box = $('reply-text');
    box.value = box.value.trim() ? `${box.value.trimEnd()}\n${text}` : text;
    closeCanned();
    box.focus();
  }

  function addNote() {
    const text = $('note-text').value.trim();
    if (!text) return;
    act(async (id) => {
      await api('POST', convPath(id, 'notes'), { text });
      drafts.delete(`${id}:note`);
      if (state.openId === id) $('note-text').value = '';
    }, 'Nota agregada.');
  }

  // ---- Live updates: server-sent events read through fetch (EventSource cannot send headers) ----

  const live = { controller: null, backoff: BACKOFF_MIN_MS, timer: 0, wasDown: false };

  // Coalesces bursts of events into one refresh at most every REFRESH_DELAY_MS.
  function coalesced(fn) {
    let timer = 0;
    const run = () => {
      if (!timer) timer = setTimeout(() => { timer = 0; fn(); }, REFRESH_DELAY_MS);
    };
    run.cancel = () => { clearTimeout(timer); timer = 0; };
    return run;
  }
  const refreshQueueSoon = coalesced(loadQueue);
  const refreshConversationSoon = coalesced(loadConversation);

  function setLive(on) {
    $('live').dataset.state = on ? 'on' : 'off';
    $('live').textContent = on ? 'en vivo' : 'reconectando…';
  }

  function onServerEvent(type, data) {
    if (type !== 'conversation') return;
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (event.change === 'agents') {
      if (state.me && state.me.role === 'supervisor') loadAgents();
      refreshMe();
    }
    if (!$('cases').hidden) refreshCasesSoon();
    refreshQueueSoon();
    // A null id is a delivery status whose conversation the server did not look up.
    if (event.id == null || event.id === state.openId) refreshConversationSoon();
  }

  // Parses a text/event-stream body and calls onEvent(type, data) for each complete event.
  async function readEvents(body, onEvent) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let type = '';
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop(); // the last piece may be half a line
      for (const line of lines) {
        if (line === '') {
          if (data.length) onEvent(type || 'message', data.join('\n'));
          type = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'event') type = value;
          else if (field === 'data') data.push(value);
        }
      }
    }
  }

  async function connectLive() {
    const session = state.session;
    const controller = new AbortController();
    live.controller = controller;
    let openedAt = 0;
    try {
      const res = await fetch('/api/v1/events', {
        headers: { Authorization: `Bearer ${state.token}`, Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: controller.signal,
      });
      if (res.status === 401) {
        if (session === state.session) signOut('Tu sesión ya no es válida; vuelve a entrar.');
        return;
      }
      if (res.ok && res.body) {
        setLive(true);
        openedAt = Date.now();
        if (live.wasDown) {
          // Whatever changed while disconnected came without an event.
          refreshQueueSoon();
          refreshConversationSoon();
        }
        await readEvents(res.body, onServerEvent);
      }
    } catch {
      // A network error or an abort; an abort is handled below.
    }
    if (controller.signal.aborted || session !== state.session) return;
    setLive(false);
    live.wasDown = true;
    // A stream that stayed up a while starts the backoff over; one that keeps dropping at once
    // (a proxy, a restarting server) waits longer each time.
    if (openedAt && Date.now() - openedAt > BACKOFF_MAX_MS) live.backoff = BACKOFF_MIN_MS;
    live.timer = setTimeout(connectLive, live.backoff);
    live.backoff = Math.min(live.backoff * 2, BACKOFF_MAX_MS);
  }

  function stopLive() {
    if (live.controller) live.controller.abort();
    clearTimeout(live.timer);
    refreshQueueSoon.cancel();
    refreshConversationSoon.cancel();
    live.controller = null;
    live.backoff = BACKOFF_MIN_MS;
    live.wasDown = false;
    setLive(false);
  }

  // ---- Reports ----

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const NO_MOVEMENT = 'Sin movimientos en el periodo';
  const COMPACT = { notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 };
  const BUCKETS = [
    ['current', 'Al corriente'],
    ['1-30', '1–30 días de atraso'],
    ['31-60', '31–60 días de atraso'],
    ['61-90', '61–90 días de atraso'],
    ['90+', 'Más de 90 días de atraso'],
  ];
  const SUSPENSE_REASONS = {
    unknown_reference: 'referencia desconocida',
    bad_check_digit: 'dígito verificador incorrecto',
    old_reference: 'referencia anterior a diciembre de 2026',
    currency_mismatch: 'moneda distinta',
  };
  const percentFmt = new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: 1 });
  // Report days are UTC calendar dates, so they are counted and named in UTC.
  const shortDayFmt = new Intl.DateTimeFormat(LOCALE, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const shortYearFmt = new Intl.DateTimeFormat(LOCALE, { month: 'short', year: 'numeric', timeZone: 'UTC' });
  const cents = (amount) => Math.round(Number(amount || 0) * 100);
  let reportSeq = 0;

  function showView(view) {
    for (const [id, name] of [['nav-queue', 'queue'], ['nav-cases', 'cases'], ['nav-reports', 'reports'], ['nav-team', 'team']]) {
      $(id).classList.toggle('active', view === name);
      $(id).setAttribute('aria-pressed', String(view === name));
    }
    $('panes').hidden = view !== 'queue';
    $('cases').hidden = view !== 'cases';
    $('reports').hidden = view !== 'reports';
    $('team').hidden = view !== 'team';
    window.scrollTo(0, 0);
    if (view === 'cases') loadCases();
    if (view === 'reports') loadReport();
    if (view === 'team') loadAgents();
  }

  // ---- Team (supervisors): add people, disable them ----

  function renderTeam() {
    const agents = [...state.agents.values()].sort((a, b) => Number(a.disabled) - Number(b.disabled) || a.id - b.id);
    $('agents-table').tBodies[0].replaceChildren(...agents.map((a) => {
      const tr = el('tr');
      tr.dataset.agent = a.id;
      const you = state.me && a.id === state.me.id;
      tr.append(el('td', '', you ? `${a.name} (tú)` : a.name), el('td', '', label(ROLES, a.role)),
        el('td', '', a.created_at ? day(a.created_at.slice(0, 10)) : '—'),
        el('td', '', a.disabled ? 'desactivado' : 'activo'),
        el('td', '', a.on_shift ? `en turno desde ${when(a.on_shift_since)}` : '—'));
      const action = el('td');
      if (a.on_shift && !you) {
        const end = el('button', 'quiet', 'Terminar turno');
        end.type = 'button';
        end.addEventListener('click', () => setShift(a, false, end));
        action.append(end);
      }
      if (!a.disabled && !you) {
        const button = el('button', 'quiet', 'Desactivar');
        button.type = 'button';
        button.addEventListener('click', () => disableAgent(a, button));
        action.append(button);
      }
      tr.append(action);
      return tr;
    }));
  }

  async function addAgent() {
    const name = $('agent-name').value.trim();
    if (!name) {
      notify('Escribe el nombre de la persona.', 'error');
      $('agent-name').focus();
      return;
    }
    const body = { name, role: $('agent-role').value };
    if ($('agent-expires').value) body.expires = $('agent-expires').value;
    $('agent-add').disabled = true;
    $('agent-token-box').hidden = true; // the last person's token goes with a new attempt
    $('agent-token').value = '';
    try {
      const added = await api('POST', '/api/v1/agents', body);
      $('agent-token-who').textContent = `${added.name} (${label(ROLES, added.role)})`;
      $('agent-token').value = added.token;
      $('agent-token-box').hidden = false;
      $('agent-token').select();
      $('agent-form').reset();
      notify(`${added.name} ya puede entrar con su token.`);
      loadAgents();
    } catch (err) {
      fail(err);
    } finally {
      $('agent-add').disabled = false;
    }
  }

  async function disableAgent(agent, button) {
    button.disabled = true;
    try {
      const done = await api('POST', `/api/v1/agents/${agent.id}/disable`);
      const back = done.conversations_returned;
      notify(`${agent.name} ya no puede entrar${back ? `; ${back === 1 ? '1 conversación volvió' : `${back} conversaciones volvieron`} a la cola (o a quien esté en turno)` : ''}.`);
      loadAgents();
    } catch (err) {
      fail(err);
      button.disabled = false;
    }
  }

  // ---- Cases: complaints, disputes and privacy requests (docs/cases.md) ----

  const cases = { status: 'open', list: [], current: null, seq: 0 };

  // Business days until the written answer is due, in words.
  function daysLeft(n) {
    if (n == null) return '';
    if (n > 0) return `quedan ${count(n, 'día hábil', 'días hábiles')}`;
    if (n === 0) return 'vence hoy';
    return `vencido por ${count(-n, 'día hábil', 'días hábiles')}`;
  }

  const caseKind = (c) => `${label(CASE_KINDS, c.kind)}: ${label(CASE_CATEGORIES[c.kind] || {}, c.category)}`;
  const caseOpener = (c) => (c.opened_by_agent == null ? 'por el deudor, en el chat' : `por ${c.opened_by_name || agentName(c.opened_by_agent)}`);

  async function loadCases() {
    if (!state.token) return;
    const seq = ++cases.seq;
    try {
      const { cases: list } = await api('GET', `/api/v1/cases?status=${cases.status}`);
      if (seq !== cases.seq) return;
      cases.list = list;
      if (cases.current) {
        // The open case as it is now, also when it left this list (someone closed it).
        let current = list.find((c) => c.id === cases.current.id);
        if (!current) {
          try {
            current = await api('GET', `/api/v1/cases/${cases.current.id}`);
          } catch (err) {
            if (err.status !== 404) throw err;
          }
          if (seq !== cases.seq) return;
        }
        cases.current = current || null;
      }
      renderCases();
    } catch (err) {
      if (!err.stale) fail(err);
    }
  }
  const refreshCasesSoon = coalesced(loadCases);

  function selectCaseTab(button) {
    cases.status = button.dataset.status;
    for (const tab of document.querySelectorAll('.case-tab')) {
      tab.classList.toggle('active', tab === button);
      tab.setAttribute('aria-pressed', String(tab === button));
    }
    loadCases();
  }

  function renderCases() {
    $('cases-empty').hidden = cases.list.length > 0;
    $('cases-table').tBodies[0].replaceChildren(...cases.list.map((c) => {
      const tr = el('tr', 'case-row');
      tr.dataset.case = c.id;
      tr.tabIndex = 0;
      tr.classList.toggle('selected', Boolean(cases.current && cases.current.id === c.id));
      const debtor = el('td', '', c.debtor.name);
      debtor.append(el('div', 'sub', c.debtor.phone));
      const answer = el('td');
      if (c.status === 'open') {
        answer.append(el('div', '', day(c.due_date)),
          el('div', `sub${c.business_days_left < 0 ? ' late' : ''}`, daysLeft(c.business_days_left)));
      } else {
        answer.append(el('div', '', `respondido ${when(c.closed_at)}`),
          el('div', 'sub', label(CASE_OUTCOMES, c.outcome)));
      }
      tr.append(el('td', 'folio', c.folio), el('td', '', caseKind(c)), debtor,
        el('td', '', c.account_id || 'todas'), el('td', '', when(c.opened_at)), answer);
      return tr;
    }));
    renderCaseDetail();
  }

  function renderCaseDetail() {
    const c = cases.current;
    $('case-detail').hidden = !c;
    if (!c) return;
    $('case-title').textContent = `Folio ${c.folio} · ${caseKind(c)}`;
    const meta = [c.debtor.name, c.debtor.phone, c.account_id ? `cuenta ${c.account_id}` : 'todas sus cuentas',
      `abierto ${when(c.opened_at)} ${caseOpener(c)}`];
    if (c.status === 'open') meta.push(`respuesta a más tardar el ${day(c.due_date)} (${daysLeft(c.business_days_left)})`);
    $('case-meta').textContent = meta.join(' · ');
    $('case-description-text').textContent = c.description || '';
    $('case-answer').hidden = c.status !== 'closed';
    if (c.status === 'closed') {
      $('case-answer-meta').textContent = [label(CASE_OUTCOMES, c.outcome), when(c.closed_at),
        c.closed_by == null ? '' : `por ${c.closed_by_name || agentName(c.closed_by)}`].filter(Boolean).join(' · ');
      $('case-answer-text').textContent = c.resolution || '';
    }
    $('case-conversation').hidden = c.conversation_id == null;
    $('case-close-form').hidden = c.status !== 'open';
  }

  function openCase(row) {
    const found = cases.list.find((c) => c.id === Number(row.dataset.case));
    if (!found) return;
    if (!cases.current || cases.current.id !== found.id) {
      $('case-outcome').value = '';
      $('case-resolution').value = '';
    }
    cases.current = found;
    renderCases();
    $('case-detail').scrollIntoView({ block: 'nearest' });
  }

  async function closeCase() {
    const c = cases.current;
    if (!c) return;
    const outcome = $('case-outcome').value;
    const resolution = $('case-resolution').value.trim();
    if (!outcome) {
      notify('Elige el resultado para el deudor.', 'error');
      $('case-outcome').focus();
      return;
    }
    if (!resolution) {
      notify('Escribe la respuesta: se le envía al deudor y se guarda.', 'error');
      $('case-resolution').focus();
      return;
    }
    $('case-close').disabled = true;
    try {
      const done = await api('POST', `/api/v1/cases/${c.id}/close`, { outcome, resolution });
      cases.current = done;
      $('case-outcome').value = '';
      $('case-resolution').value = '';
      notify(done.message_queued
        ? `Folio ${done.folio} cerrado: la respuesta va en camino al deudor.`
        : `Folio ${done.folio} cerrado, pero no hay por dónde enviarle la respuesta (se dio de baja, número equivocado o falta la plantilla): hazla llegar por otro medio.`,
      done.message_queued ? 'ok' : 'error');
    } catch (err) {
      if (err.code === 'closed') notify('Ese folio ya estaba cerrado.', 'error');
      else fail(err);
    } finally {
      $('case-close').disabled = false;
    }
    loadCases();
  }

  // The open conversation's debtor's cases, and the form to register one.
  let convCasesSeq = 0;
  async function loadConversationCases(c) {
    const seq = ++convCasesSeq;
    if (!c.debtor) {
      $('conv-cases-section').hidden = true;
      return;
    }
    try {
      const { cases: list } = await api('GET', `/api/v1/cases?status=all&debtor=${c.debtor.id}`);
      if (seq !== convCasesSeq || !state.conv || state.conv.id !== c.id) return;
      renderConversationCases(list);
    } catch (err) {
      if (!err.stale) fail(err);
    }
  }

  function renderConversationCases(list) {
    const c = state.conv;
    $('conv-cases-section').hidden = false;
    $('conv-cases').replaceChildren(...list.map((k) => {
      const li = el('li');
      const status = k.status === 'open'
        ? `responder a más tardar el ${day(k.due_date)} (${daysLeft(k.business_days_left)})`
        : `cerrado ${when(k.closed_at)}: ${label(CASE_OUTCOMES, k.outcome)}`;
      li.append(el('div', '', `${k.folio} · ${caseKind(k)}`), el('div', 'meta', status));
      return li;
    }));
    if (list.length === 0) $('conv-cases').append(el('li', 'empty', 'Sin quejas ni solicitudes.'));
    const select = $('case-account');
    const chosen = select.value;
    select.replaceChildren(new Option('Todas sus cuentas', ''),
      ...(c.accounts || []).map((a) => new Option(a.account_id, a.account_id)));
    if ((c.accounts || []).some((a) => a.account_id === chosen)) select.value = chosen;
    $('case-account-field').hidden = (c.accounts || []).length < 2;
  }

  // The form to register a case starts empty for each conversation: nothing typed about one
  // debtor is filed under another's folio.
  function resetCaseForm() {
    $('case-open').open = false;
    $('case-description').value = '';
    $('case-kind').value = 'complaint';
    renderCaseCategories();
    $('case-account').replaceChildren(new Option('Todas sus cuentas', ''));
  }

  function renderCaseCategories() {
    const kind = $('case-kind').value;
    $('case-category').replaceChildren(...Object.entries(CASE_CATEGORIES[kind]).map(([value, text]) => new Option(text, value)));
  }

  async function openCaseFromConversation() {
    const c = state.conv;
    if (!c) return;
    const description = $('case-description').value.trim();
    if (!description) {
      notify('Escribe qué dijo el deudor: queda en el folio.', 'error');
      $('case-description').focus();
      return;
    }
    const body = { conversation_id: c.id, kind: $('case-kind').value, category: $('case-category').value, description };
    if ($('case-account').value) body.account_id = $('case-account').value;
    $('case-open-save').disabled = true;
    try {
      const opened = await api('POST', '/api/v1/cases', body);
      $('case-description').value = '';
      $('case-open').open = false;
      notify(`Folio ${opened.folio} abierto: respuesta a más tardar el ${day(opened.due_date)}. Díselo al deudor.`);
      loadConversationCases(c);
      loadConversation();
    } catch (err) {
      fail(err);
    } finally {
      $('case-open-save').disabled = false;
    }
  }

  // The last 30 days, ending today in the creditor's calendar.
  function setDefaultRange() {
    const today = localDate(new Date());
    $('report-to').value = today;
    $('report-from').value = new Date(Date.parse(today) - 29 * 86400000).toISOString().slice(0, 10);
  }

  // The chosen period as a query string, or null (with a notice) when it is not one.
  function reportQuery() {
    const from = $('report-from').value;
    const to = $('report-to').value;
    if (from && to && from <= to) return new URLSearchParams({ from, to });
    notify('Elige un periodo válido: la fecha inicial no puede ser posterior a la final.', 'error');
    return null;
  }

  async function loadReport() {
    const query = reportQuery();
    if (!query) return;
    const seq = ++reportSeq;
    $('report-run').disabled = true;
    $('reports').setAttribute('aria-busy', 'true');
    try {
      const [report, suspense] = await Promise.all([
        api('GET', `/api/v1/reports?${query}`),
        api('GET', '/api/v1/payments/suspense'),
      ]);
      if (seq !== reportSeq) return;
      state.report = report;
      $('report-body').hidden = false; // before drawing: the charts take the width they are given
      renderReport();
      renderSuspense(suspense.payments || []);
    } catch (err) {
      if (seq === reportSeq) fail(err);
    } finally {
      if (seq === reportSeq) {
        $('report-run').disabled = false;
        $('reports').removeAttribute('aria-busy');
      }
    }
  }

  // The CSV comes through fetch, with the token in a header, and is saved from a blob.
  async function downloadCsv() {
    const query = reportQuery();
    if (!query) return;
    const name = `cobrador-reporte-${query.get('from')}-${query.get('to')}.csv`;
    query.set('format', 'csv');
    query.set('lang', 'es-MX'); // the header row in Spanish, for people
    $('report-csv').disabled = true;
    try {
      const res = await request('GET', `/api/v1/reports?${query}`, undefined, 'text/csv');
      const url = URL.createObjectURL(await res.blob());
      const link = el('a');
      link.href = url;
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      fail(err);
    } finally {
      $('report-csv').disabled = false;
    }
  }

  // Nothing of one session's report is left for the next one to see.
  function clearReport() {
    reportSeq += 1;
    state.report = null;
    $('report-body').hidden = true;
    $('report-run').disabled = false;
    $('reports').removeAttribute('aria-busy');
  }

  function setKpi(id, value, sub) {
    $(id).querySelector('.kpi-value').textContent = value;
    $(id).querySelector('.kpi-sub').textContent = sub;
  }

  function renderReport() {
    const r = state.report;
    if (!r) return;
    const period = r.from ? `Del ${day(r.from)} al ${day(r.to)}` : `Hasta el ${day(r.to)}`;
    $('report-period').textContent = `${period} · saldos al ${day(r.as_of)} · cifras en ${r.currency}`;
    const due = r.promises_kept + r.promises_broken;
    const paidDays = r.daily.filter((d) => cents(d.collected) > 0).length;
    setKpi('kpi-collected', money(r.collected, r.currency), `en ${count(paidDays, 'día', 'días')} con pagos`);
    setKpi('kpi-recovery', percentFmt.format(r.recovery_rate), 'de lo adeudado en el periodo');
    setKpi('kpi-outstanding', money(r.balance_outstanding, r.currency), count(r.accounts, 'cuenta', 'cuentas'));
    setKpi('kpi-kept-rate', due ? percentFmt.format(r.promise_kept_rate) : '—',
      due ? `${r.promises_kept} de ${count(due, 'vencida', 'vencidas')}` : 'ninguna venció en el periodo');
    // Conversations, not escalation events: one conversation may be escalated twice.
    setKpi('kpi-escalations', String(r.escalated_conversations),
      `${count(r.escalations, 'escalamiento', 'escalamientos')} en el periodo`);
    setKpi('kpi-suspense', count(r.suspense.payments, 'pago', 'pagos'), money(r.suspense.amount, r.currency));
    renderRecovery(r);
    renderFunnel(r);
    renderAging(r);
    renderAgentsReport(r);
  }

  // Each person's work in the period; the server sends it to supervisors only.
  function renderAgentsReport(r) {
    const agents = r.agents || [];
    $('agents-report').hidden = agents.length === 0;
    $('agents-report-table').tBodies[0].replaceChildren(...agents.map((a) => {
      const tr = el('tr');
      tr.dataset.agent = a.agent_id;
      const who = el('td', '', a.name);
      who.append(el('div', 'sub', `${label(ROLES, a.role)}${a.active ? '' : ' · desactivado'}`));
      tr.append(who);
      for (const n of [a.claimed, a.handed_out, a.closed, a.messages_sent, a.promises_made, a.promises_kept,
        a.promises_broken, a.plans_created]) {
        tr.append(el('td', 'num', String(n)));
      }
      tr.append(el('td', 'num', money(a.recovered, r.currency)));
      return tr;
    }));
  }

  function renderSuspense(payments) {
    const supervisor = Boolean(state.me && state.me.role === 'supervisor');
    $('suspense-match-head').hidden = !supervisor;
    $('suspense-table').tBodies[0].replaceChildren(...payments.map((p) => {
      const tr = el('tr');
      tr.dataset.payment = p.payment_id;
      tr.append(el('td', '', p.reference || '—'), el('td', 'num', money(p.amount, p.currency)),
        el('td', '', when(p.paid_at)), el('td', '', label(SUSPENSE_REASONS, p.reason)));
      if (supervisor) {
        tr.append(p.refunded_in_part
          ? el('td', 'hint', 'Reembolsado en parte por el proveedor: no se puede aplicar.')
          : matchCell(p));
      }
      return tr;
    }));
    $('suspense-table').hidden = payments.length === 0;
    $('suspense-empty').hidden = payments.length > 0;
  }

  // A supervisor applies a payment in suspense to the account it was meant for.
  function matchCell(p) {
    const td = el('td', 'match-cell');
    const form = el('form', 'match-form');
    form.noValidate = true;
    const input = el('input');
    input.type = 'text';
    input.name = 'account';
    input.placeholder = 'Cuenta';
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.setAttribute('aria-label', `Cuenta a la que se aplica el pago ${p.reference || p.payment_id}`);
    const button = el('button', '', 'Aplicar');
    button.type = 'submit';
    form.append(input, button);
    // Set when the server warned that another payment may be the same money and the
    // supervisor is shown that before applying this one anyway.
    let confirmTwin = false;
    input.addEventListener('input', () => {
      confirmTwin = false;
      button.textContent = 'Aplicar';
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const account = input.value.trim();
      if (!account) {
        notify('Escribe la cuenta a la que corresponde el pago.', 'error');
        input.focus();
        return;
      }
      button.disabled = true;
      try {
        const done = await api('POST', '/api/v1/payments/match',
          { payment_id: p.payment_id, account_id: account, confirm: confirmTwin });
        notify(`Pago de ${money(p.amount, p.currency)} aplicado a ${done.account_id}; saldo: ${money(done.balance, p.currency)}`
          + `${done.debtor_told ? '. Se avisó al deudor.' : '.'}`);
        loadReport();
      } catch (err) {
        if (err.code === 'possible_duplicate') {
          confirmTwin = true;
          button.textContent = 'Aplicar de todos modos';
          notify(`Otro pago con la misma referencia y el mismo monto (${err.body.twin}) llegó con dos días de`
            + ' diferencia: puede ser el mismo dinero. Revísalo; si son pagos distintos, vuelve a aplicar.', 'error');
        } else {
          fail(err);
        }
      } finally {
        button.disabled = false;
      }
    });
    td.append(form);
    return td;
  }

  // ---- Charts: inline SVG, one viewBox unit per CSS pixel of the chart's width ----

  function svgNode(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text != null) node.textContent = text;
    return node;
  }

  function chartFrame(id, height, summary) {
    const svg = $(id);
    const width = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 600);
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('aria-label', summary);
    svg.replaceChildren();
    return { svg, width };
  }

  function emptyChart(id, text) {
    const { svg, width } = chartFrame(id, 120, text);
    svg.append(svgNode('text', { x: width / 2, y: 64, 'text-anchor': 'middle', class: 'chart-empty' }, text));
  }

  // A round step that splits 0..max into about `parts` parts.
  function niceStep(max, parts) {
    const raw = max / parts;
    const power = 10 ** Math.floor(Math.log10(raw));
    return [1, 2, 5, 10].find((n) => n * power >= raw) * power;
  }

  // Cumulative collected over every day of the period, days without payments included.
  function renderRecovery(r) {
    const paid = new Map(r.daily.map((d) => [d.date, cents(d.collected)]));
    const from = r.from || (r.daily.length ? r.daily[0].date : r.to);
    const points = [];
    let total = 0;
    for (let t = Date.parse(from); t <= Date.parse(r.to); t += 86400000) {
      const date = new Date(t).toISOString().slice(0, 10);
      total += paid.get(date) || 0;
      points.push({ date, paid: paid.get(date) || 0, sum: total });
    }
    if (total === 0) {
      emptyChart('chart-recovery', NO_MOVEMENT);
      return;
    }
    const height = 240;
    const totalText = money(total / 100, r.currency);
    const { svg, width } = chartFrame('chart-recovery', height,
      `Recuperación acumulada ${r.from ? `del ${day(from)} ` : ''}al ${day(r.to)}: ${totalText}.`);
    const [left, right, top, bottom] = [60, width - 12, 28, height - 28];
    const step = niceStep(total, 4);
    const yMax = Math.ceil(total / step) * step;
    const last = points.length - 1;
    const x = (i) => (last ? left + (i * (right - left)) / last : (left + right) / 2);
    const y = (v) => bottom - (v / yMax) * (bottom - top);
    for (let v = 0; v <= yMax; v += step) {
      svg.append(svgNode('line', { x1: left, x2: right, y1: y(v), y2: y(v), class: v ? 'grid' : 'axis' }),
        svgNode('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' },
          money(v / 100, r.currency, COMPACT)));
    }
    const tickFmt = from.slice(0, 4) === r.to.slice(0, 4) ? shortDayFmt : shortYearFmt;
    const ticks = Math.min(points.length, Math.max(2, Math.floor((right - left) / 90)));
    for (let k = 0; k < ticks; k += 1) {
      const i = Math.round((k * last) / Math.max(1, ticks - 1));
      const anchor = last && i === 0 ? 'start' : last && i === last ? 'end' : 'middle';
      svg.append(svgNode('text', { x: x(i), y: height - 8, 'text-anchor': anchor },
        tickFmt.format(Date.parse(points[i].date))));
    }
    const line = points.map((p, i) => `${x(i).toFixed(1)},${y(p.sum).toFixed(1)}`).join(' ');
    svg.append(svgNode('polygon', { points: `${x(0)},${bottom} ${line} ${x(last)},${bottom}`, class: 'area' }),
      svgNode('polyline', { points: line, class: 'line' }));
    points.forEach((p, i) => {
      if (!p.paid) return;
      const dot = svgNode('circle', { cx: x(i), cy: y(p.sum), r: 3.5, class: 'dot' });
      dot.append(svgNode('title', {},
        `${day(p.date)}: ${money(p.paid / 100, r.currency)} (acumulado ${money(p.sum / 100, r.currency)})`));
      svg.append(dot);
    });
    const totalAt = { x: x(last), y: y(total) - 10, 'text-anchor': last ? 'end' : 'middle', class: 'value' };
    svg.append(svgNode('text', totalAt, `Total ${totalText}`));
  }

  // Horizontal bars, each under a line with its name and its value in words.
  function barChart(id, summary, rows) {
    const rowHeight = 50;
    const { svg, width } = chartFrame(id, rows.length * rowHeight, summary);
    const max = Math.max(...rows.map((row) => row.value));
    rows.forEach((row, i) => {
      const top = i * rowHeight;
      const length = row.value > 0 ? Math.max(2, (row.value / max) * width) : 0;
      svg.append(svgNode('text', { x: 0, y: top + 16, class: 'bar-label' }, row.label),
        svgNode('text', { x: width, y: top + 16, 'text-anchor': 'end', class: 'value' }, row.text),
        svgNode('rect', { x: 0, y: top + 23, width, height: 18, rx: 3, class: 'track' }),
        svgNode('rect', { x: 0, y: top + 23, width: length, height: 18, rx: 3, class: `bar ${row.tone}` }));
    });
  }

  function renderFunnel(r) {
    const rows = [['Hechas', r.promises_made, 'made'], ['Cumplidas', r.promises_kept, 'kept'],
      ['Incumplidas', r.promises_broken, 'broken']]
      .map(([name, value, tone]) => ({ label: name, value, tone, text: count(value, 'promesa', 'promesas') }));
    if (!rows.some((row) => row.value)) {
      emptyChart('chart-funnel', NO_MOVEMENT);
      return;
    }
    const summary = rows.map((row) => `${row.label.toLowerCase()} ${row.value}`).join(', ');
    barChart('chart-funnel', `Promesas en el periodo: ${summary}.`, rows);
  }

  function renderAging(r) {
    const rows = BUCKETS.map(([key, name], i) => {
      const bucket = (r.days_past_due || {})[key] || {};
      const value = cents(bucket.balance_outstanding);
      const text = `${money(value / 100, r.currency)} · ${count(bucket.accounts || 0, 'cuenta', 'cuentas')}`;
      return { label: name, value, accounts: bucket.accounts || 0, text, tone: `age-${i}` };
    });
    if (!rows.some((row) => row.value || row.accounts)) {
      emptyChart('chart-aging', `Sin cuentas con saldo al ${day(r.as_of)}`);
      return;
    }
    barChart('chart-aging', `Saldo pendiente por días de atraso al ${day(r.as_of)}: ${
      rows.map((row) => `${row.label}, ${row.text}`).join('; ')}.`, rows);
  }

  // ---- Wiring ----

  function wire() {
    $('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('token').value.trim();
      if (token) signIn(token);
      else $('signin-error').textContent = 'Escribe tu token.';
    });
    $('sign-out').addEventListener('click', () => signOut());

    for (const tab of document.querySelectorAll('.tabs .tab')) {
      tab.addEventListener('click', () => {
        $('search').value = '';
        selectTab(tab);
      });
    }
    let searchTimer = null;
    $('search').addEventListener('input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(loadQueue, 250);
    });
    $('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      clearTimeout(searchTimer);
      loadQueue();
    });
    $('search').addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && $('search').value) {
        $('search').value = '';
        loadQueue();
      }
    });
    const openFrom = (target) => {
      const item = target.closest('.queue-item');
      if (item) openConversation(Number(item.dataset.id));
    };
    $('queue').addEventListener('click', (e) => openFrom(e.target));
    $('queue').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        openFrom(e.target);
      }
    });
    $('back').addEventListener('click', closeConversation);

    $('claim').addEventListener('click', claim);
    $('release').addEventListener('click', release);
    $('close').addEventListener('click', close);
    $('reassign-btn').addEventListener('click', reassign);
    $('send').addEventListener('click', send);
    $('canned-toggle').addEventListener('click', toggleCanned);
    placeReplyHint();
    wideScreen.addEventListener('change', placeReplyHint);
    $('canned-menu').addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        closeCanned();
        $('canned-toggle').focus();
      }
    });
    $('add-note').addEventListener('click', addNote);
    $('reply-text').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        send();
      }
    });
    $('notice').addEventListener('click', clearNotice);

    $('nav-queue').addEventListener('click', () => showView('queue'));
    $('nav-cases').addEventListener('click', () => showView('cases'));
    $('nav-reports').addEventListener('click', () => showView('reports'));
    for (const tab of document.querySelectorAll('.case-tab')) tab.addEventListener('click', () => selectCaseTab(tab));
    const caseFrom = (target) => {
      const row = target.closest('.case-row');
      if (row) openCase(row);
    };
    $('cases-table').addEventListener('click', (e) => caseFrom(e.target));
    $('cases-table').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        caseFrom(e.target);
      }
    });
    $('case-close-form').addEventListener('submit', (e) => {
      e.preventDefault();
      closeCase();
    });
    $('case-conversation').addEventListener('click', () => {
      if (!cases.current || cases.current.conversation_id == null) return;
      showView('queue');
      openConversation(cases.current.conversation_id);
    });
    renderCaseCategories();
    $('case-kind').addEventListener('change', renderCaseCategories);
    $('case-open-form').addEventListener('submit', (e) => {
      e.preventDefault();
      openCaseFromConversation();
    });
    $('nav-team').addEventListener('click', () => showView('team'));
    $('shift').addEventListener('click', (e) => setShift(state.me, !state.me.on_shift, e.currentTarget));
    $('agreement-form').addEventListener('submit', (e) => {
      e.preventDefault();
      recordAgreement();
    });
    $('agreement-kind').addEventListener('change', renderAgreementKind);
    $('agent-form').addEventListener('submit', (e) => {
      e.preventDefault();
      addAgent();
    });
    $('report-form').addEventListener('submit', (e) => {
      e.preventDefault();
      loadReport();
    });
    $('report-csv').addEventListener('click', downloadCsv);
    window.addEventListener('resize', coalesced(() => {
      if (!$('reports').hidden) renderReport();
    }));
  }

  wire();
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else $('token').focus();
})();
