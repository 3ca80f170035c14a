/* The monitoring page while a worker builds the reference profile: polls the JSON state
   named by #reference-profile[data-status-url] every few seconds; shows the state while
   it is queued or building, reloads the page once it is ready or failed (the charts, the
   floors or the reason follow), and stops. No inline script, so the strict CSP
   (script-src 'self', connect-src 'self') holds. */
(function () {
  "use strict";

  var INTERVAL_MS = 3000;
  var DOING = { queued: "queued for a worker", building: "being built" };

  function start(panel) {
    var url = panel.dataset.statusUrl;
    var chip = document.getElementById("reference-profile-chip");
    var doing = document.getElementById("reference-profile-doing");
    var failures = 0;

    function update(state) {
      if (!state.pending) {
        if (state.status !== panel.dataset.status) {
          window.location.reload();
        }
        return; /* no longer the worker's: stop polling */
      }
      panel.dataset.status = state.status;
      if (chip) {
        chip.textContent = state.status_display;
      }
      if (doing && DOING[state.status]) {
        doing.textContent = DOING[state.status];
      }
      window.setTimeout(poll, INTERVAL_MS);
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 403 || response.status === 404) {
            return null; /* not ours to see (any more): stop */
          }
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (state) {
          failures = 0;
          if (state) {
            update(state);
          }
        })
        .catch(function () {
          failures += 1;
          window.setTimeout(poll, Math.min(INTERVAL_MS * Math.pow(2, failures), 60000));
        });
    }

    window.setTimeout(poll, INTERVAL_MS);
  }

  function init() {
    var panel = document.getElementById("reference-profile");
    if (panel && panel.dataset.statusUrl) {
      start(panel);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
