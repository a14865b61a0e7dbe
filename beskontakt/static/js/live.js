/*
 * The agent workspace's live connection (/ws/agent/).
 *
 * - Queue page: a "queue.changed" / "case.changed" frame refreshes the case table at once
 *   (the same htmx request the table repeats every 15 s); the server sends at most five
 *   "queue.changed" frames a second, the page refreshes at most about six times a second.
 * - Case page: the page follows its case ({"watch": id}); when the case changes, the
 *   facts, SLA clocks, timeline and side panel are reloaded in place (the composer is
 *   left alone); "the subscriber is typing…" is shown; the agent's typing is relayed.
 * - Presence: online while the page is visible and used, away when hidden or idle for
 *   five minutes; a heartbeat every 25 s. Shown in the page header.
 * - Reconnects with back-off (1 s doubling to 30 s, with jitter) and refreshes what it
 *   may have missed while disconnected.
 *
 * Configuration comes from the #live-config element (data-ws, data-case, labels).
 */
(function () {
  "use strict";

  var config = document.getElementById("live-config");
  if (!config || !("WebSocket" in window)) {
    return;
  }
  var caseId = parseInt(config.getAttribute("data-case") || "", 10) || null;
  var path = config.getAttribute("data-ws") || "/ws/agent/";
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  var labels = {
    online: config.getAttribute("data-label-online") || "online",
    away: config.getAttribute("data-label-away") || "away",
    offline: config.getAttribute("data-label-offline") || "offline",
  };
  var COLORS = { online: "#1a8f3a", away: "#c98a00", offline: "#888" };
  var IDLE_MS = 5 * 60 * 1000;
  var HEARTBEAT_MS = 25 * 1000;
  var REFRESH_DELAY_MS = 150;
  var TYPING_SHOWN_MS = 4000;
  var TYPING_EVERY_MS = 2000;

  var socket = null;
  var attempts = 0;
  var heartbeatTimer = null;
  var reconnectTimer = null;
  var wanted = "online";
  var leaving = false;
  var lastActivity = Date.now();

  // --- presence indicator in the header -----------------------------------------------
  var indicator = document.createElement("span");
  indicator.id = "presence-indicator";
  indicator.className = "presence";
  indicator.setAttribute("role", "status");
  var slot = document.querySelector(".topbar-right") || document.body;
  slot.insertBefore(indicator, slot.firstChild);

  function showPresence(state) {
    indicator.setAttribute("data-state", state);
    indicator.textContent = "\u25CF " + (labels[state] || state);
    indicator.style.color = COLORS[state] || "";
    indicator.style.marginRight = "0.75rem";
  }
  showPresence("offline");

  // --- sending ---------------------------------------------------------------------------
  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function setWanted(state) {
    if (state !== wanted) {
      wanted = state;
      send({ presence: state });
    }
  }

  // --- refreshing the page -------------------------------------------------------------
  var queueTimer = null;
  function refreshQueue() {
    if (queueTimer !== null) {
      return;
    }
    queueTimer = setTimeout(function () {
      queueTimer = null;
      var table = document.getElementById("case-table");
      if (table && window.htmx && !leaving) {
        // The same request the table repeats every 15 s, now.
        window.htmx.ajax("GET", table.getAttribute("hx-get") || location.href, { target: table, swap: "outerHTML" });
      }
    }, REFRESH_DELAY_MS);
  }

  var caseTimer = null;
  var caseLoading = false;
  var caseAgain = false;
  var PARTS = ["case-facts", "sla-clocks", "case-timeline", "case-side"];
  function refreshCase() {
    if (caseTimer !== null) {
      return;
    }
    caseTimer = setTimeout(function () {
      caseTimer = null;
      loadCase();
    }, REFRESH_DELAY_MS);
  }

  function loadCase() {
    if (leaving) {
      return;
    }
    if (caseLoading) {
      caseAgain = true;
      return;
    }
    caseLoading = true;
    fetch(location.pathname, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("refresh failed: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (leaving) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        PARTS.forEach(function (id) {
          var now = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (now && next) {
            var imported = document.importNode(next, true);
            now.replaceWith(imported);
            if (window.htmx) {
              window.htmx.process(imported);
            }
          }
        });
        document.dispatchEvent(new CustomEvent("live:case-refreshed", { detail: { case: caseId } }));
      })
      .catch(function () {
        /* the 30 s SLA refresh and the next change try again */
      })
      .then(function () {
        caseLoading = false;
        if (caseAgain) {
          caseAgain = false;
          refreshCase();
        }
      });
  }

  // --- typing --------------------------------------------------------------------------
  var typingHide = null;
  function showTyping() {
    var note = document.getElementById("typing-indicator");
    if (!note) {
      return;
    }
    note.hidden = false;
    clearTimeout(typingHide);
    typingHide = setTimeout(function () {
      note.hidden = true;
    }, TYPING_SHOWN_MS);
  }

  var typingSentAt = 0;
  document.addEventListener("input", function (event) {
    if (!caseId || !event.target || event.target.id !== "reply-body") {
      return;
    }
    var now = Date.now();
    if (now - typingSentAt >= TYPING_EVERY_MS && send({ typing: caseId })) {
      typingSentAt = now;
    }
  });

  // --- the socket --------------------------------------------------------------------
  function onFrame(frame) {
    switch (frame.type) {
      case "hello":
      case "heartbeat":
        showPresence(frame.presence);
        break;
      case "presence":
        showPresence(frame.state);
        break;
      case "queue.changed":
        if (document.getElementById("case-table")) {
          refreshQueue();
        }
        break;
      case "case.changed":
        if (document.getElementById("case-table")) {
          refreshQueue();
        }
        if (caseId && frame.case === caseId) {
          refreshCase();
          var note = document.getElementById("typing-indicator");
          if (note && frame.kind === "message_in") {
            note.hidden = true;
          }
        }
        break;
      case "watching":
        config.setAttribute("data-watching", String(frame.case));
        break;
      case "typing":
        if (caseId && frame.case === caseId && frame.who === "subscriber") {
          showTyping();
        }
        break;
      default:
        break;
    }
  }

  function connect() {
    reconnectTimer = null;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket.onopen = function () {
      var missed = attempts > 0;
      attempts = 0;
      if (caseId) {
        send({ watch: caseId });
      }
      if (wanted !== "online") {
        send({ presence: wanted });
      }
      heartbeatTimer = setInterval(function () {
        send({ heartbeat: 1 });
      }, HEARTBEAT_MS);
      if (missed) {
        // Changes may have happened while the socket was down.
        if (document.getElementById("case-table")) {
          refreshQueue();
        }
        if (caseId) {
          refreshCase();
        }
      }
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
      config.removeAttribute("data-watching");
      clearInterval(heartbeatTimer);
      heartbeatTimer = null;
      showPresence("offline");
      if (!leaving) {
        scheduleReconnect();
      }
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) {
      return;
    }
    attempts += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, attempts - 1));
    delay = delay / 2 + Math.random() * (delay / 2);
    reconnectTimer = setTimeout(connect, delay);
  }

  // --- presence from the page's visibility and use -------------------------------------
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      setWanted("away");
    } else {
      lastActivity = Date.now();
      setWanted("online");
    }
  });
  ["mousemove", "keydown", "click", "scroll", "touchstart"].forEach(function (name) {
    document.addEventListener(
      name,
      function () {
        lastActivity = Date.now();
        if (wanted === "away" && document.visibilityState !== "hidden") {
          setWanted("online");
        }
      },
      { passive: true }
    );
  });
  setInterval(function () {
    if (wanted === "online" && Date.now() - lastActivity > IDLE_MS) {
      setWanted("away");
    }
  }, 30000);

  // A form being submitted or the page being left: no refresh replaces what is on its way out.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) {
      return; // htmx handles it in place
    }
    leaving = true;
    setTimeout(function () {
      leaving = false;
    }, 5000);
  });
  window.addEventListener("pagehide", function () {
    leaving = true;
    if (socket) {
      socket.close();
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      leaving = false;
      connect();
    }
  });

  if (document.visibilityState === "hidden") {
    wanted = "away";
  }
  connect();
})();
