/* The student's test page, made sturdier by script (the page works without it):
   - a live countdown from the server's time left, warnings at 5 and 1 minutes (announced), and
     at zero the answer being written is submitted;
   - drafts of the answer being written, sent every few seconds and when the page is left;
   - a queue that keeps a submitted answer on this device (with its response_id) and resends it
     until the server confirms it, so a dropped connection loses nothing and records nothing twice;
   - a status check that notices a takeover by another device, the teacher's end or extra time;
   - read-aloud through the browser's speech synthesis where it has a voice for the language;
   - a written hint on tables that are wider than the screen.
   The sentences come from the page (#test-strings), in the page's language. */
(function () {
  "use strict";

  var strings = (document.getElementById("test-strings") || {}).dataset || {};
  var form = document.getElementById("answer-form");
  var statusBox = document.getElementById("save-status");
  var QUEUE = "gc-itembank-answers";
  var DRAFT_EVERY_MS = 5000;
  var STATUS_EVERY_MS = 30000;
  var submitting = false;
  var draftDirty = false;
  var lastDraft = null;
  var retryDelay = 2000;
  var retryTimer = null;

  function text(name, values) {
    var s = strings[name] || "";
    Object.keys(values || {}).forEach(function (k) { s = s.split("%(" + k + ")s").join(values[k]); });
    return s;
  }

  var announcer = document.getElementById("time-announcer");
  function announce(message) {
    if (!announcer) { return; }
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  function showStatus(message, kind) {
    if (!statusBox) { return; }
    statusBox.textContent = message;
    statusBox.className = "save-status" + (kind ? " " + kind : "");
  }

  function stopPage(message) {
    // The session went elsewhere or ended: say so at the top and stop taking answers.
    submitting = true;
    draftDirty = false;
    end = null;  // the clock stops here
    if (timeLeft) { timeLeft.hidden = true; }
    var main = document.getElementById("main");
    if (main && message) {
      var notice = document.createElement("div");
      notice.className = "notice notice-error";
      notice.setAttribute("role", "alert");
      notice.textContent = message;
      main.insertBefore(notice, main.firstChild);
      notice.setAttribute("tabindex", "-1");
      notice.focus();
    }
    if (form) {
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
    }
  }

  function follow(data) {
    if (data && data.status === "taken_over") {
      stopPage(data.message);
      return true;
    }
    if (data && data.next) {
      submitting = true;
      window.location.assign(data.next);
      return true;
    }
    return false;
  }

  // -- the queue of submitted answers -------------------------------------------------------------
  function loadQueue() {
    try { return JSON.parse(window.localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function storeQueue(queue) {
    try { window.localStorage.setItem(QUEUE, JSON.stringify(queue)); } catch (e) { /* private mode */ }
  }
  function mine(entry) { return form && entry.key === form.dataset.queue; }
  function dropEntry(responseId) {
    storeQueue(loadQueue().filter(function (e) { return e.response_id !== responseId; }));
  }
  function pruneQueue() {
    var week = 7 * 24 * 3600 * 1000;
    storeQueue(loadQueue().filter(function (e) { return mine(e) || Date.now() - e.at < week; }));
  }

  function scheduleRetry() {
    if (retryTimer) { return; }
    retryTimer = window.setTimeout(function () { retryTimer = null; flush(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  }

  function flush() {
    var entry = loadQueue().filter(mine)[0];
    if (!entry) { return; }
    submitting = true;
    showStatus(strings.saving, "");
    var saveButton = document.getElementById("save-button");
    if (saveButton) { saveButton.disabled = true; }
    var body = new URLSearchParams();
    entry.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    window.fetch(entry.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { response: response, data: data };
      });
    }).then(function (result) {
      var response = result.response, data = result.data || {};
      if (response.status >= 500) { throw new Error("server " + response.status); }
      dropEntry(entry.response_id);
      retryDelay = 2000;
      if (response.ok) {
        showStatus(strings.saved, "");
        follow(data);
        return;
      }
      submitting = false;
      if (saveButton) { saveButton.disabled = false; }
      if (data.status === "confirm_blank") {
        showStatus("", "");
        var box = document.getElementById("blank-confirm");
        var question = document.getElementById("blank-question");
        if (box && question) {
          question.textContent = data.message;
          box.hidden = false;
          var confirmButton = box.querySelector("button");
          if (confirmButton) { confirmButton.focus(); }
        }
        return;
      }
      if (follow(data)) { return; }
      if (data.message) { showStatus(data.message, "offline"); return; }
      // Anything else (an expired form, say): let the server show its page.
      form.submit();
    }).catch(function () {
      // No network (or the server is restarting): keep the answer and try again.
      showStatus(strings.offline, "offline");
      scheduleRetry();
    });
  }

  function queueAnswer(event) {
    event.preventDefault();
    if (submitting) { return; }
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    var fields = [];
    data.forEach(function (value, name) { fields.push([name, String(value)]); });
    var responseId = String(data.get("response_id"));
    var queue = loadQueue().filter(function (e) { return e.response_id !== responseId; });
    queue.push({ key: form.dataset.queue, response_id: responseId, url: form.action,
                 fields: fields, at: Date.now() });
    storeQueue(queue);
    draftDirty = false;
    flush();
  }

  // -- drafts ---------------------------------------------------------------------------------------
  function draftBody() {
    var data = new FormData(form);
    data.delete("response_id");
    var body = new URLSearchParams();
    data.forEach(function (value, name) { body.append(name, String(value)); });
    return body;
  }

  function saveDraft() {
    if (!draftDirty || submitting) { return; }
    var body = draftBody();
    var key = body.toString();
    if (key === lastDraft) { draftDirty = false; return; }
    window.fetch(form.dataset.draftUrl, {
      method: "POST", body: body, credentials: "same-origin", keepalive: true,
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 204) {
        lastDraft = key;
        if (body.toString() === draftBody().toString()) { draftDirty = false; }
        return null;
      }
      return response.json().then(follow).catch(function () { return null; });
    }).catch(function () { /* offline: the next try, or the answer itself, will carry it */ });
  }

  function beaconDraft() {
    if (!draftDirty || submitting || !navigator.sendBeacon) { return; }
    navigator.sendBeacon(form.dataset.draftUrl, draftBody());
  }

  // -- the countdown and the session's status ---------------------------------------------------------
  var timeLeft = document.getElementById("time-left");
  var end = null;
  var warned = 0;
  var timedOut = false;

  function clock(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function submitOnTimeout() {
    if (timedOut) { return; }
    timedOut = true;
    announce(strings.timeUp);
    if (!form || submitting) { return; }
    var flag = document.createElement("input");
    flag.type = "hidden"; flag.name = "timeout"; flag.value = "1";
    form.appendChild(flag);
    if (form.requestSubmit) { form.requestSubmit(); } else { queueAnswer({ preventDefault: function () {} }); }
  }

  function tick() {
    if (end === null) { return; }
    var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    timeLeft.textContent = text("timeLeft", { time: clock(left) });
    if (left <= 60) {
      timeLeft.className = "time-left urgent";
      if (warned < 2) { warned = 2; announce(strings.warnOne); }
    } else if (left <= 300) {
      timeLeft.className = "time-left warn";
      if (warned < 1) { warned = 1; announce(strings.warnFive); }
    } else {
      timeLeft.className = "time-left";
      warned = 0;
    }
    if (left === 0) { submitOnTimeout(); }
  }

  function setTimeLeft(seconds) {
    if (!timeLeft || seconds === null || seconds === undefined) { return; }
    end = Date.now() + seconds * 1000;
    tick();
  }

  function checkStatus() {
    if (!form || submitting) { return; }
    window.fetch(form.dataset.statusUrl, {
      credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store"
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      if (data.status === "taken_over" || data.status === "no_session") { follow(data); return; }
      if (data.next && !submitting) { follow(data); return; }  // ended by the time or the teacher
      if (data.item && data.item !== form.dataset.item) { window.location.reload(); return; }
      if (typeof data.seconds_left === "number" && end !== null) {
        var ours = Math.ceil((end - Date.now()) / 1000);
        if (Math.abs(ours - data.seconds_left) > 2) { setTimeLeft(data.seconds_left); }
      }
    }).catch(function () { /* offline: the queue says so when it matters */ });
  }

  // -- read-aloud -----------------------------------------------------------------------------------
  function setUpReading() {
    var synth = window.speechSynthesis;
    var buttons = document.querySelectorAll(".read-aloud");
    if (!synth || !buttons.length || !window.SpeechSynthesisUtterance) { return; }
    var lang = strings.speechLang || "zh-TW";
    var base = lang.split("-")[0].toLowerCase();
    var playing = null;

    function voice() {
      var voices = synth.getVoices();
      var exact = voices.filter(function (v) { return v.lang.replace("_", "-") === lang; })[0];
      return exact || voices.filter(function (v) { return v.lang.toLowerCase().indexOf(base) === 0; })[0];
    }
    function reset() {
      Array.prototype.forEach.call(buttons, function (b) {
        b.setAttribute("aria-pressed", "false");
        b.textContent = strings.readAloud;
      });
      playing = null;
    }
    function show() {
      var found = !!voice();
      Array.prototype.forEach.call(buttons, function (b) { b.hidden = !found; });
    }
    Array.prototype.forEach.call(buttons, function (button) {
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        var was = playing;
        synth.cancel();
        reset();
        if (was === button) { return; }
        var section = document.getElementById(button.dataset.read);
        if (!section) { return; }
        var copy = section.cloneNode(true);
        Array.prototype.forEach.call(copy.querySelectorAll("button, [hidden], .visually-hidden, input[type=hidden]"),
          function (el) { el.remove(); });
        var utterance = new window.SpeechSynthesisUtterance(copy.textContent.replace(/\s+/g, " ").trim());
        utterance.lang = lang;
        utterance.voice = voice() || null;
        utterance.onend = reset;
        utterance.onerror = reset;
        playing = button;
        button.setAttribute("aria-pressed", "true");
        button.textContent = strings.stopReading;
        synth.speak(utterance);
      });
    });
    show();
    if (synth.addEventListener) { synth.addEventListener("voiceschanged", show); }
  }

  // -- tables wider than the screen ------------------------------------------------------------------
  function hintTables() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-figure"), function (figure) {
      var wrap = figure.querySelector(".table-wrap");
      var hint = figure.querySelector(".scroll-hint");
      if (!wrap || !hint) { return; }
      hint.textContent = strings.scrollHint;
      hint.hidden = wrap.scrollWidth <= wrap.clientWidth + 1;
    });
  }

  // -- start ------------------------------------------------------------------------------------------
  hintTables();
  window.addEventListener("resize", hintTables);
  setUpReading();
  if (timeLeft) { setTimeLeft(Number(timeLeft.dataset.secondsLeft)); window.setInterval(tick, 1000); }
  if (!form) { return; }
  pruneQueue();
  form.addEventListener("submit", queueAnswer);
  form.addEventListener("input", function () { draftDirty = true; });
  form.addEventListener("change", function () { draftDirty = true; });
  window.setInterval(saveDraft, DRAFT_EVERY_MS);
  window.setInterval(checkStatus, Number(form.dataset.statusEvery || STATUS_EVERY_MS));
  window.addEventListener("online", function () { retryDelay = 2000; flush(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { beaconDraft(); } else { checkStatus(); }
  });
  window.addEventListener("pagehide", beaconDraft);
  window.addEventListener("beforeunload", function (event) {
    var pending = loadQueue().filter(mine).length > 0;
    if ((draftDirty && !submitting) || pending) {
      event.preventDefault();
      event.returnValue = strings.unsaved || "";
      return strings.unsaved || "";
    }
    return undefined;
  });
  flush();  // an answer submitted before a reload and not yet confirmed
})();
