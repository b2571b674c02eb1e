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

  function render(data) {
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

  $('phone-form').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  $('phone').addEventListener('change', () => {
    shown = '';
    $('phone-log').replaceChildren();
    poll();
  });

  poll();
  $('phone-text').focus();
})();
