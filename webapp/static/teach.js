/* The teacher's live list (teach/test.html): every few seconds, fetch the list's fragment and put
   it in place of the old one.  Without script the page's refresh link does the same.  The list is
   not replaced while something in it has the focus (a teacher tabbing to a button keeps it), and
   refreshing stops when the server no longer answers with the fragment (e.g. after logging out). */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var url = live.getAttribute("data-live-url");
  var seconds = parseInt(live.getAttribute("data-live-seconds"), 10) || 10;
  var note = document.querySelector("[data-live-note]");
  if (note) { note.hidden = false; }
  var timer = null;

  function refresh() {
    if (document.hidden || live.contains(document.activeElement)) { return; }
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || response.redirected || type.indexOf("text/html") !== 0) {
          window.clearInterval(timer);
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html !== null && !live.contains(document.activeElement)) { live.innerHTML = html; }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  timer = window.setInterval(refresh, seconds * 1000);
}());
