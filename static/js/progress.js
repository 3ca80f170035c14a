/* Live progress of a worker's job (a bias summary, an evidence pack): polls the JSON
   status endpoint named by the <progress data-status-url> element and updates the bar
   (its label from the answer's "label", else rows and shares); when the job is done
   or failed, reloads the page to show the result or the reason. No inline script, so
   the strict CSP (script-src 'self', connect-src 'self') holds. */
(function () {
  "use strict";

  var INTERVAL_MS = 1000;

  function start(bar) {
    var url = bar.dataset.statusUrl;
    var label = document.getElementById(bar.id + "-label");
    var badge = document.getElementById(bar.dataset.badge || "bias-status");
    var failures = 0;

    function update(data) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
      if (label && data.label) {
        label.textContent = data.label;
      } else if (label) {
        label.textContent =
          data.rows_done.toLocaleString("en") + " of " + data.rows_total.toLocaleString("en") +
          " rows (" + data.percent + "%)" +
          (data.parts_total ? ", " + data.parts_done + " of " + data.parts_total + " shares done" : "");
      }
      if (badge) {
        badge.textContent = data.status_display;
      }
      if (data.finished) {
        window.location.reload();
        return;
      }
      window.setTimeout(poll, INTERVAL_MS);
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          update(data);
        })
        .catch(function () {
          failures += 1;
          window.setTimeout(poll, Math.min(INTERVAL_MS * Math.pow(2, failures), 30000));
        });
    }

    poll();
  }

  function init() {
    var bar = document.querySelector("progress[data-status-url]");
    if (bar && bar.dataset.statusUrl) {
      start(bar);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
