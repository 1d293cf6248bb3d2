// Bridge's small progressive enhancements. No inline scripts: everything hangs off data-* attributes.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // Copy buttons: copy the target's text, and tell the server when data-copy-log is set.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    try {
      await navigator.clipboard.writeText(target.innerText.trim());
      button.textContent = "Copied ✓";
    } catch (err) {
      const range = document.createRange();
      range.selectNodeContents(target);
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      button.textContent = "Press Ctrl+C to copy";
    }
    if (button.dataset.copyLog) {
      fetch(button.dataset.copyLog, { method: "POST", headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" });
    }
  });

  // Confirm destructive actions.
  document.addEventListener("submit", (event) => {
    const button = event.submitter || event.target.querySelector("[data-confirm]");
    if (button && button.dataset && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // Progress feedback on slow forms (uploads are read and thumbnailed server-side).
    const form = event.target;
    if (form.dataset.progress) {
      const note = form.querySelector(".progress");
      if (note) { note.hidden = false; note.textContent = form.dataset.progress; }
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
    }
  });
})();
