/* Orderline customer simulator: a WhatsApp thread, a phone and courier events for one customer.
   Plain JavaScript, no dependencies. Every action is a JSON request to /try/api, which goes
   through the app's real webhooks; the thread is re-read every second. */
(function () {
  "use strict";
  var root = document.getElementById("sim");
  var API = root.dataset.api;
  var POLL_MS = parseInt(root.dataset.pollMs, 10) || 1000;
  var $ = function (id) { return document.getElementById(id); };
  var state = { phone: null, polls: 0, polling: false, itemCount: null, lastThread: "", localNotes: [], call: null, digits: "", spoken: [],
                sending: 0, errors: [] };
  window.simState = state;

  /* -- helpers ----------------------------------------------------------------------------------- */
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function request(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(API + path, opts).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) {
          var err = new Error(data.message || ("HTTP " + resp.status));
          err.status = resp.status;
          throw err;
        }
        return data;
      });
    });
  }
  function showError(id, err) {
    var box = $(id);
    if (!err) { box.hidden = true; return; }
    box.textContent = err.message || String(err);
    box.hidden = false;
    state.errors.push(box.textContent);
  }
  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /* -- the customer -------------------------------------------------------------------------------- */
  function useCustomer(phone) {
    state.phone = phone;
    state.lastThread = "";
    state.itemCount = null;
    state.localNotes = [];
    $("wa-thread").textContent = "";
    $("wa-quick").textContent = "";
    $("event-note").textContent = "";
    showError("wa-error", null);
    return loadCustomer().then(pollThread);
  }
  function loadCustomer() {
    return request("GET", "/customer?phone=" + encodeURIComponent(state.phone)).then(function (c) {
      state.phone = c.phone;
      $("who").textContent = c.name ? c.name + " · " + c.phone + (c.language === "hi" ? " · prefers Hindi" : "")
                                    : c.phone + " · not a customer (nothing about orders will be revealed)";
      renderOrders(c.orders);
    }).catch(function (err) { $("who").textContent = err.message; renderOrders([]); });
  }
  var EVENTS = [["out_for_delivery", "Out for delivery"], ["delivery_failed", "Failed attempt"],
                ["delivered", "Delivered"]];
  function renderOrders(orders) {
    var list = $("orders");
    list.textContent = "";
    if (!orders.length) { list.appendChild(el("li", "hint", "No orders for this number.")); return; }
    orders.forEach(function (o) {
      var li = el("li", "order");
      var head = el("div", "order-head");
      head.appendChild(el("strong", null, o.order_id));
      head.appendChild(el("span", "pill", o.status.replace(/_/g, " ")));
      if (o.cod) head.appendChild(el("span", "pill cod", "COD"));
      li.appendChild(head);
      var buttons = el("div", "events");
      EVENTS.forEach(function (ev) {
        var b = el("button", "event", ev[1]);
        b.type = "button";
        b.dataset.order = o.order_id;
        b.dataset.event = ev[0];
        buttons.appendChild(b);
      });
      li.appendChild(buttons);
      list.appendChild(li);
    });
  }
  $("orders").addEventListener("click", function (e) {
    var b = e.target.closest("button.event");
    if (!b) return;
    b.disabled = true;
    request("POST", "/shipments", { order_id: b.dataset.order, event: b.dataset.event }).then(function (r) {
      $("event-note").textContent = r.note;
      addLocalNote(r.note);
      return loadCustomer();
    }).catch(function (err) {
      $("event-note").textContent = err.message;
      state.errors.push(err.message);
    }).then(function () { b.disabled = false; pollThread(); });
  });
  $("customer").addEventListener("change", function () { $("phone").value = ""; useCustomer(this.value); });
  $("phone-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var typed = $("phone").value.trim();
    if (typed) useCustomer(typed);
  });

  /* -- WhatsApp ------------------------------------------------------------------------------------ */
  function addLocalNote(text) {
    state.localNotes.push({ id: "local" + state.localNotes.length, kind: "local", from: "system", text: text,
                            at: new Date().toISOString() });
    state.lastThread = "";
    pollThread();
  }
  function pollThread() {
    if (!state.phone || state.polling) return Promise.resolve();
    var phone = state.phone;
    state.polling = true;
    return request("GET", "/thread?phone=" + encodeURIComponent(phone)).then(function (t) {
      state.polling = false;
      if (phone !== state.phone) return;
      state.polls += 1;
      var sig = JSON.stringify([t.items, t.quick_replies, t.state, state.localNotes.length]);
      if (sig === state.lastThread) return;
      state.lastThread = sig;
      if (state.itemCount !== null && t.items.length !== state.itemCount) loadCustomer(); /* orders may have moved */
      state.itemCount = t.items.length;
      renderThread(t);
    }).catch(function (err) { state.polling = false; showError("wa-error", err); });
  }
  var TICK = { pending: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓" };
  var STATES = { bot: "assistant", waiting_for_agent: "waiting for a person", agent: "with a person" };
  function renderThread(t) {
    var box = $("wa-thread");
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40 || box.children.length === 0;
    var before = box.children.length;
    var items = t.items.concat(state.localNotes).sort(function (a, b) { return new Date(a.at) - new Date(b.at); });
    box.textContent = "";
    items.forEach(function (m) {
      if (m.kind !== "message") {
        var chip = el("li", "chip " + (m.kind === "local" ? "chip-event" : "chip-notice"), m.text);
        chip.dataset.id = m.id;
        box.appendChild(chip);
        return;
      }
      var li = el("li", "bubble " + (m.from === "customer" ? "out" : "in"));
      li.dataset.id = m.id;
      li.dataset.status = m.status;
      if (m.from !== "customer") li.appendChild(el("div", "author", m.author));
      li.appendChild(el("div", "text", m.text));
      var meta = el("div", "meta", clock(m.at));
      if (m.tick && TICK[m.tick]) {
        var tick = el("span", "tick tick-" + m.tick, TICK[m.tick]);
        tick.title = m.tick === "delivered" && m.status === "outbox" ? "delivered (local outbox: no Twilio account)" : m.tick;
        meta.appendChild(tick);
      }
      li.appendChild(meta);
      if (m.note) li.appendChild(el("div", "fate", m.note));
      box.appendChild(li);
    });
    $("wa-state").textContent = STATES[t.state] || t.state;
    var quick = $("wa-quick");
    quick.textContent = "";
    (t.quick_replies || []).forEach(function (q) {
      var b = el("button", "quick", q.label);
      b.type = "button";
      b.dataset.text = q.text;
      quick.appendChild(b);
    });
    if (atBottom || items.length > before) box.scrollTop = box.scrollHeight;
  }
  function sendWhatsApp(text) {
    if (!text || !state.phone) return;
    showError("wa-error", null);
    state.sending += 1;
    $("wa-typing").hidden = false;
    setTimeout(pollThread, 250); /* the message is stored before the assistant answers */
    return request("POST", "/whatsapp", { phone: state.phone, text: text }).catch(function (err) {
      showError("wa-error", err);
    }).then(function () {
      state.sending -= 1;
      $("wa-typing").hidden = state.sending === 0;
      return pollThread();
    });
  }
  $("wa-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("wa-text");
    var text = input.value.trim();
    input.value = "";
    sendWhatsApp(text);
  });
  $("wa-quick").addEventListener("click", function (e) {
    var b = e.target.closest("button.quick");
    if (b) sendWhatsApp(b.dataset.text);
  });

  /* -- the phone ----------------------------------------------------------------------------------- */
  function pickVoice(lang) {
    if (!window.speechSynthesis) return null;
    var voices = window.speechSynthesis.getVoices() || [];
    var exact = voices.filter(function (v) { return v.lang === lang; })[0];
    return exact || voices.filter(function (v) { return v.lang.slice(0, 2) === lang.slice(0, 2); })[0] || null;
  }
  function speak(said) {
    said.forEach(function (s) {
      var lang = s.language || "en-IN";
      var entry = { text: s.text, lang: lang, voice: null };
      state.spoken.push(entry);
      if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
      var u = new SpeechSynthesisUtterance(s.text);
      u.lang = lang;
      var voice = pickVoice(lang);
      if (voice) { u.voice = voice; entry.voice = voice.name; }
      window.speechSynthesis.speak(u);
    });
  }
  function logLine(cls, text, lang) {
    var li = el("li", cls, text);
    if (lang) li.lang = lang.slice(0, 2);
    $("call-log").appendChild(li);
    $("call-log").scrollTop = $("call-log").scrollHeight;
  }
  var CALL_STATES = { waiting: "In call: listening", queued: "In the queue for a person", ended: "Call ended" };
  var ENDINGS = { hangup: "the line hung up", end: "the line hung up", caller_hung_up: "you hung up",
                  reject: "the call was rejected", dial: "transferred", error: "the call failed" };
  function applyTurn(turn) {
    state.call = turn;
    state.digits = "";
    $("call-digits").textContent = "";
    turn.said.forEach(function (s) { logLine("said", s.text, s.language); });
    speak(turn.said);
    var label = CALL_STATES[turn.state] || turn.state;
    if (turn.state === "queued") label += turn.queue ? " (" + turn.queue + ")" : "";
    if (turn.state === "ended") label += ": " + (ENDINGS[turn.ended] || turn.ended);
    $("call-state").textContent = label;
    $("call-state").dataset.state = turn.state;
    var live = turn.state === "waiting", inCall = turn.state !== "ended";
    var modes = live && turn.gather ? (turn.gather.input || "dtmf") : "";
    Array.prototype.forEach.call(document.querySelectorAll(".key"), function (k) {
      k.disabled = modes.indexOf("dtmf") < 0;
    });
    $("speech").disabled = $("say").disabled = modes.indexOf("speech") < 0;
    $("silence").disabled = !live;
    $("hangup").disabled = !inCall;
    $("dial").disabled = inCall;
    showError("call-error", turn.error ? new Error(turn.error) : null);
  }
  function callAction(path, body, echo) {
    if (window.speechSynthesis) window.speechSynthesis.cancel(); /* the caller talks over the prompt */
    if (echo) logLine("you", echo);
    return request("POST", path, body).then(applyTurn).catch(function (err) { showError("call-error", err); });
  }
  $("dial").addEventListener("click", function () {
    if (!state.phone) return;
    $("call-log").textContent = "";
    $("call-state").textContent = "Calling " + state.phone + "…";
    $("dial").disabled = true;
    callAction("/calls", { phone: state.phone }).then(function () { if (!state.call) $("dial").disabled = false; });
  });
  function sendDigits(digits) {
    callAction("/calls/" + state.call.call_sid + "/input", { digits: digits }, "[pressed " + digits + "]");
  }
  document.querySelector(".keypad").addEventListener("click", function (e) {
    var k = e.target.closest("button.key");
    if (!k || !state.call || state.call.state !== "waiting") return;
    var g = state.call.gather || {};
    var finish = g.finishOnKey === undefined || g.finishOnKey === null ? "#" : g.finishOnKey;
    var key = k.dataset.key;
    if (finish && key === finish) { sendDigits(state.digits + key); return; }
    state.digits += key;
    $("call-digits").textContent = state.digits;
    if (g.numDigits && state.digits.length >= parseInt(g.numDigits, 10)) sendDigits(state.digits);
  });
  $("speech-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("speech").value.trim();
    if (!text || !state.call) return;
    $("speech").value = "";
    callAction("/calls/" + state.call.call_sid + "/input", { speech: text }, "“" + text + "”");
  });
  $("silence").addEventListener("click", function () {
    if (state.call) callAction("/calls/" + state.call.call_sid + "/input", { silence: true }, "[silence]");
  });
  $("hangup").addEventListener("click", function () {
    if (state.call) callAction("/calls/" + state.call.call_sid + "/hangup", {}, "[you hang up]");
  });

  /* -- start ----------------------------------------------------------------------------------------- */
  useCustomer($("customer").value);
  setInterval(pollThread, POLL_MS);
})();
