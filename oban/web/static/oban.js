// The dashboard's script: live updates of <main id="content"> every 2 s (pausable), and the
// actions, sent as JSON POSTs with the X-Oban-Action header the server requires.
(function () {
  "use strict";

  var INTERVAL = 2000;
  var LIVE_KEY = "oban-web:live";
  var FLASH_KEY = "oban-web:flash";
  var main = null;
  var toggle = null;
  var inFlight = false;
  var flashTimer = null;

  function stored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  function store(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: live stays per page */ }
  }

  var live = stored(LIVE_KEY) !== "paused";

  function showLive() {
    if (!toggle) { return; }
    toggle.textContent = live ? "Live" : "Paused";
    toggle.setAttribute("aria-pressed", live ? "true" : "false");
    toggle.classList.toggle("paused", !live);
  }

  function flash(message, kind) {
    var box = document.getElementById("flash");
    if (!box) { return; }
    box.textContent = message;
    box.className = "flash " + (kind || "ok");
    box.hidden = false;
    if (flashTimer) { window.clearTimeout(flashTimer); }
    flashTimer = window.setTimeout(function () { box.hidden = true; }, 8000);
  }

  // Typing in a field or choosing in a list: a swap now would throw the user's input away.
  function editing() {
    var el = document.activeElement;
    if (!el || !main || !main.contains(el)) { return false; }
    if (el.tagName === "SELECT" || el.tagName === "TEXTAREA") { return true; }
    return el.tagName === "INPUT" && ["checkbox", "radio", "button", "submit"].indexOf(el.type) < 0;
  }

  // What the user changed in main and a swap must keep: ticked boxes and edited fields.
  function snapshot() {
    var kept = { checked: {}, values: {} };
    main.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox") {
        if (el.checked) { kept.checked[(el.name || "") + "=" + el.value] = true; }
      } else if (el.name && el.value !== el.defaultValue && el.type !== "hidden") {
        kept.values[el.name] = el.value;
      }
    });
    return kept;
  }

  function restore(kept) {
    main.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox") {
        if (kept.checked[(el.name || "") + "=" + el.value]) { el.checked = true; }
      } else if (el.name && Object.prototype.hasOwnProperty.call(kept.values, el.name)) {
        el.value = kept.values[el.name];
      }
    });
  }

  function fragmentUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    return url.toString();
  }

  // fresh: after an action, show the new state as it is (no kept ticks or edits).
  function refresh(fresh) {
    if (!main || inFlight || (!fresh && editing())) { return Promise.resolve(); }
    inFlight = true;
    return window.fetch(fragmentUrl(), { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 403) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (!fresh && editing()) { return; }
        var kept = fresh ? null : snapshot();
        main.innerHTML = html;
        if (kept) { restore(kept); }
        if (toggle) { toggle.classList.remove("stale"); toggle.title = "Live updates every 2 s: click to pause"; }
      })
      .catch(function (error) {
        if (toggle) { toggle.classList.add("stale"); toggle.title = "The last update failed (" + error.message + ")"; }
      })
      .then(function () { inFlight = false; });
  }

  function act(url, body) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-Oban-Action": "1", "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {})
    })
      .then(function (response) {
        return response.json().catch(function () {
          return { ok: false, message: "the server answered HTTP " + response.status };
        });
      })
      .then(function (reply) {
        var kind = !reply.ok ? "error" : reply.count === 0 ? "warn" : "ok";
        if (reply.ok && reply.redirect) {
          try { window.sessionStorage.setItem(FLASH_KEY, JSON.stringify([reply.message, kind])); } catch (e) { /* shown nowhere */ }
          window.location.assign(reply.redirect);
          return null;
        }
        flash(reply.message || (reply.ok ? "done" : "failed"), kind);
        return refresh(true);
      })
      .catch(function (error) { flash("The request failed: " + error.message, "error"); });
  }

  function selectedIds() {
    var ids = [];
    main.querySelectorAll('input[data-testid="job-select"]:checked').forEach(function (box) {
      ids.push(parseInt(box.value, 10));
    });
    return ids;
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    if (target.closest("#live-toggle")) {
      live = !live;
      store(LIVE_KEY, live ? "live" : "paused");
      showLive();
      if (live) { refresh(false); }
      return;
    }
    var button = target.closest("button[data-action]");
    if (button && !button.disabled) {
      act(button.getAttribute("data-action"));
      return;
    }
    var bulk = target.closest("button[data-bulk]");
    if (bulk) {
      var ids = selectedIds();
      var table = main.querySelector("table[data-bulk-url]");
      if (!ids.length || !table) { flash("Select jobs first: tick their boxes.", "warn"); return; }
      act(table.getAttribute("data-bulk-url"), { action: bulk.getAttribute("data-bulk"), ids: ids });
    }
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!(el instanceof Element)) { return; }
    if (el.hasAttribute("data-select-all")) {
      main.querySelectorAll('input[data-testid="job-select"]').forEach(function (box) { box.checked = el.checked; });
    } else if (el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-scale")) { return; }
    event.preventDefault();
    var input = form.querySelector('input[name="limit"]');
    var text = input ? input.value.trim() : "";
    var limit = /^\d+$/.test(text) ? parseInt(text, 10) : text;
    act(form.getAttribute("data-scale"), { limit: limit });
  });

  document.addEventListener("DOMContentLoaded", function () {
    main = document.getElementById("content");
    toggle = document.getElementById("live-toggle");
    showLive();
    try {
      var pending = window.sessionStorage.getItem(FLASH_KEY);
      if (pending) {
        window.sessionStorage.removeItem(FLASH_KEY);
        var parsed = JSON.parse(pending);
        flash(parsed[0], parsed[1]);
      }
    } catch (e) { /* nothing to show */ }
    window.setInterval(function () {
      if (live && !document.hidden) { refresh(false); }
    }, INTERVAL);
  });
})();
