// The demo debtor's phone (served only with `serve --demo`): plays the debtor through
// /sandbox/messages so a newcomer can watch a collector take over from the bot.
'use strict';

(() => {
  const POLL_MS = 1000;
  const timeFmt = new Intl.DateTimeFormat('es-MX', { timeStyle: 'short' });
  const $ = (id) => document.getElementById(id);

  let shown = ''; // what the log shows now: phone, conversation, count and last status
  let pollTimer = 0;
  let polling = false;

  const phone = () => $('phone').value.trim();

  function bubble(m) {
    // "in" is what the debtor (this page's user) wrote: on the right, like on a phone.
    const node = document.createElement('div');
    node.className = `bubble ${m.direction === 'in' ? 'in' : 'out'}`;
    if (/^agent:/.test(m.author || '')) {
      const who = document.createElement('span');
      who.className = 'bubble-author';
      who.textContent = 'Agente';
      node.append(who);
    }
    node.append(document.createTextNode(m.text || ''));
    const time = document.createElement('span');
    time.className = 'bubble-time';
    time.textContent = m.at ? timeFmt.format(new Date(m.at)) : '';
    node.append(time);
    return node;
  }

  // "1985-03-15" as a debtor types it.
  const dayFirst = (iso) => (iso ? iso.split('-').reverse().join('/') : '');

  // Who the number belongs to, as the server says; a number of no one is said so.
  function who(data) {
    const d = data.debtor;
    $('phone-who').textContent = d
      ? `Eres ${d.name}; si el bot pide tu fecha de nacimiento: ${dayFirst(d.birth_date)}.`
      : 'Ese número no es de ningún deudor de la demo: el bot no sabrá quién eres.';
  }

  function render(data) {
    who(data);
    const messages = data.messages || [];
    const last = messages[messages.length - 1];
    const key = [data.phone, data.conversation_id, messages.length, last ? last.status : ''].join('|');
    if (key === shown) return;
    shown = key;
    const log = $('phone-log');
    log.replaceChildren(...messages.map(bubble));
    log.scrollTop = log.scrollHeight;
  }

  // Polls one request at a time; the next poll is scheduled only when this one has answered.
  async function poll() {
    clearTimeout(pollTimer);
    if (polling) return;
    polling = true;
    const number = phone();
    try {
      if (number) {
        const res = await fetch(`/sandbox/messages?phone=${encodeURIComponent(number)}`, { cache: 'no-store' });
        const data = await res.json().catch(() => ({}));
        if (number === phone()) {
          if (res.ok) {
            render(data);
            $('phone-error').textContent = '';
          } else {
            $('phone-error').textContent = data.error || `Error ${res.status}`;
          }
        }
      }
    } catch {
      $('phone-error').textContent = 'No se pudo conectar con el servidor.';
    } finally {
      polling = false;
      pollTimer = setTimeout(poll, POLL_MS);
    }
  }

  async function send() {
    const text = $('phone-text').value.trim();
    if (!text || !phone()) return;
    $('phone-send').disabled = true;
    try {
      const res = await fetch('/sandbox/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ from: phone(), text }),
      });
      if (res.ok) {
        $('phone-text').value = '';
        $('phone-error').textContent = '';
        poll();
      } else {
        const data = await res.json().catch(() => ({}));
        $('phone-error').textContent = data.error || `Error ${res.status}`;
      }
    } catch {
      $('phone-error').textContent = 'No se pudo conectar con el servidor.';
    } finally {
      $('phone-send').disabled = false;
      $('phone-text').focus();
    }
  }

  // A payment to this number's most overdue account, as the payments webhook applies one.
  async function pay() {
    if (!phone()) return;
    $('pay-send').disabled = true;
    $('pay-result').textContent = '';
    try {
      // "$1,000" is a thousand; "1,50" goes as written, and the server says it is no amount.
      let amount = $('pay-amount').value.trim().replace(/[$\s]/g, '');
      if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(amount)) amount = amount.replace(/,/g, '');
      const res = await fetch('/sandbox/payments', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(amount ? { phone: phone(), amount } : { phone: phone() }),
      });
      const data = await res.json().catch(() => ({}));
      if (res.ok) {
        $('pay-amount').value = '';
        $('pay-result').textContent = data.status === 'applied'
          ? 'Pago registrado; el bot te escribirá para confirmarlo.'
          : `Pago recibido (${data.status}).`;
        poll();
      } else {
        $('pay-result').textContent = data.error || `Error ${res.status}`;
      }
    } catch {
      $('pay-result').textContent = 'No se pudo conectar con el servidor.';
    } finally {
      $('pay-send').disabled = false;
    }
  }

  // The list shows whom the number belongs to, however it is spaced (none: another number).
  function syncPick() {
    const digits = (text) => text.replace(/\D/g, '');
    const pick = $('phone-pick');
    const match = [...pick.options].findIndex((o) => digits(o.value) === digits(phone()));
    pick.selectedIndex = match;
  }

  // The demo's debtors: choosing one puts their number in.
  async function loadDebtors() {
    try {
      const res = await fetch('/sandbox/debtors', { cache: 'no-store' });
      const data = await res.json();
      const pick = $('phone-pick');
      const choices = (data.debtors || []).map((d) => {
        const option = document.createElement('option');
        option.value = d.phone_shown;
        option.textContent = `${d.name} · ${d.situation}`;
        return option;
      });
      pick.replaceChildren(...choices);
      syncPick();
    } catch {
      // The page still works with a number typed in.
    }
  }

  $('phone-pick').addEventListener('change', () => {
    $('phone').value = $('phone-pick').value;
    $('phone').dispatchEvent(new Event('change'));
  });
  $('pay-form').addEventListener('submit', (e) => {
    e.preventDefault();
    pay();
  });
  $('phone-form').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  $('phone').addEventListener('change', () => {
    syncPick();
    shown = '';
    $('pay-result').textContent = '';
    $('phone-log').replaceChildren();
    poll();
  });

  loadDebtors();
  poll();
  $('phone-text').focus();
})();
