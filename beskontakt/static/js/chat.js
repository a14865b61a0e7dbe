/*
 * The portal's live chat (/ws/chat/), see beskontakt/inbox/consumers/chat.py for the frames.
 *
 * - Every message gets a client id (a UUID) before it is sent; it stays "sending…" until the
 *   server acknowledges it. Unacknowledged messages are kept in sessionStorage and sent again
 *   (same client id, so never twice) after a reconnect or a page reload.
 * - On (re)connect the server sends the recent history; the page also asks for everything after
 *   the last message id it has, so nothing is lost while the connection was down.
 * - Reconnects with back-off: 0.5 s doubling to 30 s, with jitter.
 * - "The agent is typing…" is shown for a few seconds after each typing notice.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root || !("WebSocket" in window)) {
    return;
  }
  function label(name, fallback) {
    return root.getAttribute("data-label-" + name) || fallback;
  }
  var list = document.getElementById("chat-messages");
  var empty = document.getElementById("chat-empty");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var statusEl = document.getElementById("chat-status");
  var typingEl = document.getElementById("chat-typing");
  var errorEl = document.getElementById("chat-error");
  var maxChars = parseInt(root.getAttribute("data-max") || "4000", 10);
  var path = root.getAttribute("data-ws") || "/ws/chat/";
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  var STORE = "beskontakt.chat.pending";
  var PING_MS = 25000;
  var TYPING_SHOWN_MS = 4000;
  var TYPING_EVERY_MS = 2000;

  var socket = null;
  var attempts = 0;
  var reconnectTimer = null;
  var pingTimer = null;
  var lastId = 0;
  var shown = {}; // message id -> element
  var pending = {}; // client id -> {body, el}
  var retryTimer = null;

  // --- helpers -------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function savePending() {
    try {
      var plain = {};
      Object.keys(pending).forEach(function (cid) {
        if (!pending[cid].failed) {
          plain[cid] = pending[cid].body;
        }
      });
      sessionStorage.setItem(STORE, JSON.stringify(plain));
    } catch (error) {
      /* storage unavailable: pending messages live as long as the page */
    }
  }

  function setStatus(state) {
    statusEl.setAttribute("data-state", state);
    statusEl.textContent = label(state, state);
  }

  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = !text;
  }

  function timeOf(iso) {
    var date = iso ? new Date(iso) : new Date();
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function makeItem(mine, author, body, iso) {
    var li = document.createElement("li");
    li.className = "chat-msg " + (mine ? "mine" : "theirs");
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = (mine ? label("you", "You") : author || label("agent", "Support")) + " · " + timeOf(iso);
    var text = document.createElement("span");
    text.className = "body";
    text.textContent = body;
    li.appendChild(meta);
    li.appendChild(text);
    return li;
  }

  function append(li) {
    var stick = atBottom();
    if (empty && empty.parentNode) {
      empty.parentNode.removeChild(empty);
    }
    list.appendChild(li);
    if (stick || li.classList.contains("mine")) {
      list.scrollTop = list.scrollHeight;
    }
  }

  // --- messages ------------------------------------------------------------------------
  function showMessage(frame) {
    if (frame.id > lastId) {
      lastId = frame.id;
    }
    if (shown[frame.id]) {
      return;
    }
    var waiting = frame.client_id ? pending[frame.client_id] : null;
    var li;
    if (waiting) {
      li = waiting.el;
      li.classList.remove("pending", "failed");
      li.querySelector(".meta").textContent = label("you", "You") + " · " + timeOf(frame.at);
      delete pending[frame.client_id];
      savePending();
    } else {
      li = makeItem(frame.mine, frame.author, frame.body, frame.at);
      append(li);
    }
    li.setAttribute("data-id", String(frame.id));
    li.setAttribute("data-direction", frame.direction);
    shown[frame.id] = li;
    if (!frame.mine) {
      typingEl.hidden = true;
    }
  }

  function addPending(cid, body) {
    var li = makeItem(true, "", body, null);
    li.classList.add("pending");
    li.setAttribute("data-client-id", cid);
    li.querySelector(".meta").textContent = label("you", "You") + " · " + label("sending", "sending…");
    append(li);
    pending[cid] = { body: body, el: li };
    savePending();
    return li;
  }

  function sendPending(cid) {
    var item = pending[cid];
    if (!item || item.failed || !socket || socket.readyState !== WebSocket.OPEN) {
      return;
    }
    socket.send(JSON.stringify({ send: item.body, client_id: cid }));
  }

  function resendAll() {
    Object.keys(pending).forEach(sendPending);
  }

  function markFailed(cid, text) {
    var item = pending[cid];
    if (!item) {
      return;
    }
    item.failed = true;
    item.el.classList.remove("pending");
    item.el.classList.add("failed");
    item.el.querySelector(".meta").textContent = label("you", "You") + " · " + label("failed", "not sent");
    savePending();
    showError(text);
  }

  // --- typing --------------------------------------------------------------------------
  var typingHide = null;
  function showTyping(name) {
    typingEl.textContent = name ? label("typing-named", "%(name)s is typing…").replace("%(name)s", name) : label("typing", "The agent is typing…");
    typingEl.hidden = false;
    clearTimeout(typingHide);
    typingHide = setTimeout(function () {
      typingEl.hidden = true;
    }, TYPING_SHOWN_MS);
  }

  var typingSentAt = 0;
  input.addEventListener("input", function () {
    var now = Date.now();
    if (input.value.trim() && now - typingSentAt >= TYPING_EVERY_MS && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ typing: true }));
      typingSentAt = now;
    }
  });

  // --- the socket ----------------------------------------------------------------------
  function onFrame(frame) {
    switch (frame.type) {
      case "message":
        showMessage(frame);
        break;
      case "ack":
        if (frame.ack && pending[frame.ack]) {
          // The message frame normally comes first; if it did not, the ack confirms the message.
          var item = pending[frame.ack];
          item.el.classList.remove("pending", "failed");
          item.el.querySelector(".meta").textContent = label("you", "You") + " · " + timeOf(null);
          if (!shown[frame.message]) {
            item.el.setAttribute("data-id", String(frame.message));
            shown[frame.message] = item.el;
          } else if (shown[frame.message] !== item.el && item.el.parentNode) {
            item.el.parentNode.removeChild(item.el);
          }
          delete pending[frame.ack];
          savePending();
        }
        break;
      case "typing":
        showTyping(frame.name);
        break;
      case "error":
        if (frame.code === "flood" && frame.client_id && pending[frame.client_id]) {
          showError(frame.message);
          clearTimeout(retryTimer);
          retryTimer = setTimeout(function () {
            showError("");
            resendAll();
          }, Math.max(1, frame.retry_after || 1) * 1000 + 200);
        } else if (frame.client_id && pending[frame.client_id]) {
          markFailed(frame.client_id, frame.message);
        } else {
          showError(frame.message);
        }
        break;
      default:
        break;
    }
  }

  function connect() {
    reconnectTimer = null;
    setStatus(attempts ? "offline" : "connecting");
    try {
      socket = new WebSocket(url);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket.onopen = function () {
      attempts = 0;
      setStatus("online");
      if (lastId > 0) {
        socket.send(JSON.stringify({ since: lastId }));
      }
      resendAll();
      pingTimer = setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ ping: 1 }));
        }
      }, PING_MS);
    };
    socket.onmessage = function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      onFrame(frame);
    };
    socket.onclose = function () {
      clearInterval(pingTimer);
      pingTimer = null;
      setStatus("offline");
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) {
      return;
    }
    attempts += 1;
    var delay = Math.min(30000, 500 * Math.pow(2, attempts - 1));
    delay = delay / 2 + Math.random() * (delay / 2);
    reconnectTimer = setTimeout(connect, delay);
  }

  // --- the composer --------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) {
      return;
    }
    if (body.length > maxChars) {
      showError(label("too-long", "The message is too long."));
      return;
    }
    showError("");
    var cid = uuid();
    addPending(cid, body);
    input.value = "";
    sendPending(cid);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit();
      } else {
        form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    }
  });

  // Messages not acknowledged before a reload are sent again (same client id: never twice).
  try {
    var stored = JSON.parse(sessionStorage.getItem(STORE) || "{}");
    Object.keys(stored).forEach(function (cid) {
      if (typeof stored[cid] === "string") {
        addPending(cid, stored[cid]);
      }
    });
  } catch (error) {
    /* nothing stored */
  }

  // For tests and debugging: the live socket.
  window.beskontaktChat = {
    socket: function () {
      return socket;
    },
  };
  connect();
})();
