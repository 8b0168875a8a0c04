/* Orderline agent console: live queue and transcript over Server-Sent Events, and the alert beep.
   Plain JavaScript, no dependencies. Pages work without it; this only keeps them current. */
(function () {
  "use strict";
  var script = document.currentScript;
  var live = document.getElementById("live");
  var queue = document.getElementById("queue");
  var conv = document.getElementById("conversation");
  var alertBox = document.getElementById("alert");
  var soundButton = document.getElementById("sound");
  var audio = null;
  var loadedAt = Date.now();
  var baseTitle = document.title;
  window.consoleState = { beeps: 0, alerts: 0, events: 0, refreshes: 0, alerted: [],
                          audioState: function () { return audio ? audio.state : "none"; } };

  /* -- sound: WebAudio needs a user gesture before it may play ------------------------------ */
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    if (audio.state === "suspended") audio.resume();
    if (soundButton) {
      soundButton.textContent = "Sound on";
      soundButton.setAttribute("aria-pressed", "true");
    }
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });
  if (soundButton) soundButton.addEventListener("click", function () { unlockAudio(); beep(); });

  function beep() {
    if (!audio) return false;
    var t = audio.currentTime, osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(660, t + 0.18);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.4);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.42);
    window.consoleState.beeps += 1;
    return true;
  }

  /* -- the visible alert ---------------------------------------------------------------------- */
  function showAlert(e) {
    if (!alertBox) return;
    var link = document.getElementById("alert-text");
    link.textContent = e.reason + " · " + (e.customer_name ? e.customer_name + " " : "") + e.phone + " · P" + e.priority;
    link.href = e.url;
    window.consoleState.alerted.push(e.id);
    alertBox.hidden = false;
    alertBox.classList.remove("flash-in");
    void alertBox.offsetWidth; /* restart the animation */
    alertBox.classList.add("flash-in");
    document.title = "(!) " + baseTitle;
    window.consoleState.alerts += 1;
    beep();
  }
  var close = document.getElementById("alert-close");
  if (close) close.addEventListener("click", function () { alertBox.hidden = true; document.title = baseTitle; });

  /* -- small DOM helpers ------------------------------------------------------------------------ */
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function waiting(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); throw new Error("signed out"); }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  /* -- the queue --------------------------------------------------------------------------------- */
  function card(e) {
    var li = el("li", "esc prio-" + e.priority + " status-" + e.status);
    li.dataset.id = e.id;
    li.dataset.reason = e.reason;
    var a = el("a", "esc-link");
    a.href = e.url;
    a.appendChild(el("span", "badge prio", "P" + e.priority));
    a.appendChild(el("span", "badge reason", e.reason));
    a.appendChild(el("span", "badge channel", e.channel === "voice" ? "caller waiting" : e.channel));
    a.appendChild(el("strong", "who", e.customer_name || e.phone));
    if (e.customer_name) a.appendChild(el("span", "phone", e.phone));
    if (e.order_id) a.appendChild(el("span", "order", e.order_id));
    var state = el("span", "state");
    if (e.status === "claimed") {
      state.textContent = "claimed by " + e.agent;
    } else {
      state.appendChild(document.createTextNode("waiting "));
      var w = el("span", "wait", waiting(e.waiting_seconds));
      w.dataset.seconds = e.waiting_seconds || 0;
      state.appendChild(w);
    }
    a.appendChild(state);
    if (e.status === "open" && e.assignee) a.appendChild(el("span", "assignee", "for " + e.assignee));
    if (e.note) a.appendChild(el("span", "note", e.note.length > 140 ? e.note.slice(0, 137) + "..." : e.note));
    li.appendChild(a);
    return li;
  }

  /* One fetch of the whole active queue serves the list, the reason counts and the alert. An
     event only alerts when its escalation is really in this console's queue: the Redis channel
     is server-wide, so another deployment (or test run) on the same Redis could publish too. */
  var refreshing = null;
  function refreshQueue(newEvent) {
    if (refreshing) {
      refreshing.again = true;
      if (newEvent) refreshing.pending.push(newEvent);
      return;
    }
    refreshing = { again: false, pending: newEvent ? [newEvent] : [] };
    getJSON(script.dataset.queue).then(function (data) {
      var all = data.escalations;
      refreshing.pending.forEach(function (ev) {
        var found = all.filter(function (e) { return e.id === ev.id && e.phone === ev.phone; })[0];
        if (found) showAlert(found);
      });
      if (queue) renderQueue(all, newEvent ? newEvent.id : null);
      window.consoleState.refreshes += 1;
      var again = refreshing.again;
      refreshing = null;
      if (again) refreshQueue();
    }).catch(function () { refreshing = null; });
  }

  function renderQueue(all, highlightId) {
    var reason = queue.dataset.reason;
    var items = all.filter(function (e) { return !reason || e.reason === reason; });
    var nodes = items.map(card);
    queue.replaceChildren.apply(queue, nodes);
    nodes.forEach(function (n) { if (String(n.dataset.id) === String(highlightId)) n.classList.add("new"); });
    document.getElementById("queue-count").textContent = items.length;
    document.getElementById("queue-empty").hidden = items.length > 0;
    document.querySelectorAll(".filters .chip[data-reason]").forEach(function (chip) {
      var n = all.filter(function (e) { return e.reason === chip.dataset.reason; }).length;
      chip.querySelector(".n").textContent = n;
    });
    loadedAt = Date.now();
  }

  function tickWaiting() {
    var elapsed = Math.floor((Date.now() - loadedAt) / 1000);
    document.querySelectorAll(".wait").forEach(function (w) {
      w.textContent = waiting(Number(w.dataset.seconds) + elapsed);
    });
  }
  setInterval(tickWaiting, 15000);

  /* -- one conversation -------------------------------------------------------------------------- */
  function message(m) {
    var li = el("li", "msg dir-" + m.direction + " ch-" + m.channel + " st-" + m.status);
    li.dataset.id = m.id;
    var meta = m.author + " · " + m.channel + " · " + m.at.slice(11, 16) + " " + m.at.slice(0, 10);
    if (m.direction === "out") meta += " · " + m.status;
    li.appendChild(el("span", "msg-meta", meta));
    li.appendChild(el("span", "msg-text", m.text));
    (m.media || []).forEach(function (media) {
      li.appendChild(el("span", "media", "attachment " + ((media && media.content_type) || "")));
    });
    return li;
  }

  function refreshConversation() {
    if (!conv) return;
    getJSON(conv.dataset.source).then(function (data) {
      var list = document.getElementById("transcript");
      if (data.transcript.length) list.replaceChildren.apply(list, data.transcript.map(message));
      var state = document.getElementById("conv-state");
      if (state) {
        state.textContent = data.state.replace(/_/g, " ");
        state.className = "badge state-" + data.state;
      }
      var esc = data.escalation, status = document.getElementById("esc-status");
      if (esc && status && String(esc.id) === conv.dataset.escalation) {
        status.textContent = "escalation #" + esc.id + ": " + (esc.status === "claimed" ? "claimed by " + esc.agent
          : esc.status === "open" ? "waiting for an agent" : (esc.resolution || "resolved").replace(/_/g, " "));
      }
      window.consoleState.refreshes += 1;
    }).catch(function () {});
  }

  /* -- the event stream ---------------------------------------------------------------------------- */
  function setLive(state, text) {
    if (!live) return;
    live.dataset.state = state;
    live.textContent = text;
  }
  function onEvent(ev) {
    window.consoleState.events += 1;
    if (ev.type === "escalation") {
      refreshQueue(ev);
    } else if (ev.type === "escalation_claimed" || ev.type === "escalation_resolved" ||
               ev.type === "escalation_assigned") {
      refreshQueue();
      if (conv && String(ev.id) === conv.dataset.escalation) refreshConversation();
    } else if (ev.type === "message" && conv && ev.phone === conv.dataset.phone) {
      refreshConversation();
    }
  }
  function connect() {
    var source = new EventSource(script.dataset.events);
    source.onopen = function () {
      setLive("live", "live");
      /* catch up with anything missed while disconnected */
      refreshQueue();
      refreshConversation();
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        /* refused (the server is at its stream limit): the browser gives up, so try again later */
        setLive("down", "offline, retrying soon");
        setTimeout(connect, 30000);
      } else {
        setLive("down", "reconnecting…");
      }
    };
    /* the server keeps a few streams per agent; a newer tab took this one's place */
    source.addEventListener("evicted", function () {
      source.close();
      setLive("down", "paused: live in a newer tab; reload to resume");
    });
    source.onmessage = function (e) {
      var ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      if (ev && typeof ev.type === "string") onEvent(ev);
    };
  }
  if (script && script.dataset.events && window.EventSource) connect();

  /* -- canned replies: the chosen one goes into the reply box, where the agent can edit it ------- */
  var canned = document.getElementById("canned");
  var replyBox = document.getElementById("reply");
  if (canned && replyBox) {
    canned.addEventListener("change", function () {
      var option = canned.options[canned.selectedIndex];
      if (!option || !option.value) return;
      replyBox.value = replyBox.value.trim() ? replyBox.value.replace(/\s*$/, "\n") + option.value : option.value;
      canned.selectedIndex = 0;
      replyBox.focus();
    });
  }
})();
