// Case audit autosave. Without this script the form still works: it posts whole.
//
// Each change is sent as the inspector types (radios at once, text after a short pause or
// when the field is left), one request at a time, with the version the page last saw. The
// server refuses a stale version (409): then autosaving stops and the message says what to
// do, and nothing typed is lost from the page. If the connection drops, unsaved values are
// kept in this tab's sessionStorage (cleared when the tab closes) and retried.
(function () {
  "use strict";
  var form = document.getElementById("audit-form");
  if (!form || !form.dataset.autosaveUrl) return;

  var url = form.dataset.autosaveUrl;
  var storageKey = "audit-pending-" + form.dataset.auditId;
  var versionInput = document.getElementById("audit-version");
  var status = document.getElementById("save-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var pending = {};
  var inFlight = false;
  var stopped = false;
  var timer = null;
  var retryDelay = 2000;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("app-save-status--error", !!isError);
  }

  function remember() {
    try {
      if (Object.keys(pending).length) {
        sessionStorage.setItem(
          storageKey,
          JSON.stringify({ version: versionInput.value, values: pending })
        );
      } else {
        sessionStorage.removeItem(storageKey);
      }
    } catch (e) {
      /* storage may be unavailable: saving still works */
    }
  }

  function showConflict(message) {
    stopped = true;
    var box = document.createElement("div");
    box.className = "govuk-error-summary";
    box.setAttribute("data-module", "govuk-error-summary");
    box.innerHTML =
      '<div role="alert"><h2 class="govuk-error-summary__title">Your change was not saved</h2>' +
      '<div class="govuk-error-summary__body"><p class="govuk-body"></p></div></div>';
    box.querySelector("p").textContent = message;
    form.parentNode.insertBefore(box, form);
    box.setAttribute("tabindex", "-1");
    box.focus();
    say("Not saved: someone else changed this audit.", true);
  }

  function send() {
    if (inFlight || stopped || !Object.keys(pending).length) return;
    var values = pending;
    pending = {};
    inFlight = true;
    say("Saving…");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ version: Number(versionInput.value), values: values }),
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      })
      .then(function (result) {
        inFlight = false;
        if (result.ok) {
          versionInput.value = result.data.version;
          retryDelay = 2000;
          remember();
          if (submitAfterSave) {
            resubmit();
            return;
          }
          if (Object.keys(pending).length) {
            send();
          } else {
            say("All changes saved at " + result.data.saved_at + ".");
          }
          return;
        }
        // Keep the refused values so nothing typed is forgotten.
        pending = Object.assign(values, pending);
        remember();
        submitAfterSave = null;
        if (result.status === 409) {
          showConflict(result.data.error);
        } else {
          stopped = true;
          say("Not saved: " + (result.data.error || "the server refused the change."), true);
        }
      })
      .catch(function () {
        inFlight = false;
        if (submitAfterSave) {
          // The connection dropped: post the whole form anyway; the server keeps everything
          // it receives, or says what went wrong.
          resubmit();
          return;
        }
        pending = Object.assign(values, pending);
        remember();
        say("Not saved yet: the connection was lost. Trying again…", true);
        setTimeout(send, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      });
  }

  function queue(field, immediately) {
    if (stopped || !field.name || field.name === "version") return;
    pending[field.name] = field.value;
    remember();
    clearTimeout(timer);
    if (immediately) {
      send();
    } else {
      timer = setTimeout(send, 800);
    }
  }

  form.addEventListener("change", function (event) {
    queue(event.target, true);
  });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") queue(event.target, false);
  });
  form.addEventListener(
    "blur",
    function (event) {
      if (event.target.tagName === "TEXTAREA" && Object.keys(pending).length) {
        clearTimeout(timer);
        send();
      }
    },
    true
  );
  // Submitting (or saving) posts the whole form, and the server saves every value, so
  // queued autosaves are dropped. But a save already on its way will move the version on:
  // wait for its answer, so the form carries the version it produced, then post.
  var submitAfterSave = null;
  form.addEventListener("submit", function (event) {
    clearTimeout(timer);
    pending = {};
    if (inFlight) {
      event.preventDefault();
      submitAfterSave = event.submitter || true;
      say("Saving…");
      return;
    }
    stopped = true;
    try {
      sessionStorage.removeItem(storageKey);
    } catch (e) {
      /* ignore */
    }
  });
  function resubmit() {
    var submitter = submitAfterSave;
    submitAfterSave = null;
    if (submitter === true) {
      form.requestSubmit();
    } else {
      form.requestSubmit(submitter);
    }
  }
  window.addEventListener("online", send);

  // Values typed before a reload that never reached the server.
  try {
    var saved = JSON.parse(sessionStorage.getItem(storageKey) || "null");
    if (saved && saved.values) {
      Object.keys(saved.values).forEach(function (name) {
        var fields = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
        fields.forEach(function (field) {
          if (field.type === "radio") {
            field.checked = field.value === saved.values[name];
          } else {
            field.value = saved.values[name];
          }
        });
      });
      pending = saved.values;
      if (saved.version === versionInput.value) {
        say("Restored changes that had not been saved; saving them now.");
        send();
      } else {
        sessionStorage.removeItem(storageKey);
        // These values are older than the saved audit: posting them must be refused too.
        versionInput.value = saved.version;
        showConflict(
          "Changes typed in this tab earlier could not be saved because the audit has " +
            "changed since. They are shown in the form: copy what you need, then reload the " +
            "page to see the saved audit (autosave starts again after the reload)."
        );
      }
    }
  } catch (e) {
    /* ignore unreadable storage */
  }
})();
