// A batch import's page follows how far the import has got. Without this script the page
// still works: "Check again" reloads it.
//
// Every few seconds the progress is asked for, and the status line (a polite live region)
// says how many files have been read. When the import has finished, or the page has a new
// warning to give (the worker seems not to have started, or to have stopped), the status
// line says so and the page is loaded again to show it.
(function () {
  "use strict";
  var box = document.getElementById("batch-progress");
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
              ? "The import has finished: showing what it did."
              : progress.not_started || progress.stopped
                ? "The import needs your attention: showing why."
                : "The import is going again: showing how far it has got."
          );
          window.setTimeout(function () { window.location.reload(); }, 1500);
          return;
        }
        say(
          progress.status === "queued"
            ? "Waiting to start."
            : progress.read === progress.files
              ? "Every file read: suggesting themes."
              : "Read " + progress.read + " of " + progress.files + " files."
        );
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
