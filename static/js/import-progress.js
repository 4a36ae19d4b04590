// A batch import's page follows how far the import has got. Without this script the page
// still works: "Check again" reloads it.
//
// Every few seconds the progress is asked for; the status line (a polite live region) says
// how many files have been read, and once the import has finished the page is loaded again
// to show what it did.
(function () {
  "use strict";
  var box = document.getElementById("batch-progress");
  if (!box || !box.dataset.progressUrl || !window.fetch) return;
  var line = box.querySelector("[role=status]");
  var said = line.textContent;
  var delay = 3000;

  function ask() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (progress) {
        if (progress.finished) {
          window.location.reload();
          return;
        }
        var text = progress.status === "queued"
          ? "Waiting to start."
          : progress.read === progress.files
            ? "Every file read: suggesting themes."
            : "Read " + progress.read + " of " + progress.files + " files.";
        if (text !== said) {
          line.textContent = text;
          said = text;
        }
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
