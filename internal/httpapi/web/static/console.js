// Riposte console: live countdowns for regulatory clocks. Every element
// with data-due (an RFC 3339 instant) gets its ".remaining" text and its
// urgency class updated once a second. The server renders the same text
// and class, so the page reads correctly without JavaScript.
(function () {
  "use strict";
  var H = 3600;
  var classes = ["urgency-overdue", "urgency-under-4h", "urgency-under-24h", "urgency-later"];

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  // Same format as countdown() in console_render.go.
  function format(seconds) {
    var neg = seconds < 0;
    var s = Math.floor(Math.abs(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / H), m = Math.floor((s % H) / 60), sec = s % 60;
    var out;
    if (d > 0) out = d + "d " + pad(h) + "h " + pad(m) + "m " + pad(sec) + "s";
    else if (h > 0) out = h + "h " + pad(m) + "m " + pad(sec) + "s";
    else out = m + "m " + pad(sec) + "s";
    return neg ? "overdue by " + out : out;
  }

  // Same thresholds as urgency() in console_render.go.
  function urgency(seconds) {
    if (seconds < 0) return "urgency-overdue";
    if (seconds < 4 * H) return "urgency-under-4h";
    if (seconds < 24 * H) return "urgency-under-24h";
    return "urgency-later";
  }

  function tick() {
    var now = Date.now();
    var els = document.querySelectorAll("[data-due]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) continue;
      var left = (due - now) / 1000;
      var out = el.querySelector(".remaining") || el;
      out.textContent = format(left);
      var want = urgency(left);
      if (!el.classList.contains(want)) {
        el.classList.remove.apply(el.classList, classes);
        el.classList.add(want);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-due]")) {
      tick();
      setInterval(tick, 1000);
    }
  });
})();
