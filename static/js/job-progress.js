// A background job's page (a batch import, suggesting themes again) follows how far the job
// has got. Without this script the page still works: "Check again" reloads it.
//
// Every few seconds the progress is asked for (the box's data-progress-url), and the status
// line (a polite live region) says what the server says (its "line"). When the job has
// finished, or the page has a new warning to give (the worker seems not to have started, or
// to have stopped), the status line says so, in the box's data-finished, data-attention or
// data-going words, and the page is loaded again to show it.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box || !box.dataset.progressUrl || !window.fetch) return;
  var line = box.querySelector("[role=status]");
  var said = line.textContent;
  var delay = 3000;

  function say(text) {
    if (text !== said) {
      line.textContent = text;
      said = text;
    }
  }

  function ask() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (progress) {
        var changed =
          String(progress.not_started) !== box.dataset.notStarted ||
          String(progress.stopped) !== box.dataset.stopped;
        if (progress.finished || changed) {
          say(
            progress.finished
              ? box.dataset.finished
              : progress.not_started || progress.stopped
                ? box.dataset.attention
                : box.dataset.going
          );
          window.setTimeout(function () { window.location.reload(); }, 1500);
          return;
        }
        say(progress.line);
        delay = 3000;
        window.setTimeout(ask, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 60000); // the connection dropped: ask again, less often
        window.setTimeout(ask, delay);
      });
  }
  window.setTimeout(ask, delay);
})();
